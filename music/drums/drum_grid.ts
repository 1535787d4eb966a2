/**
 * The drum grid: a drum track as one token per time step, the encoding of Magenta's drums_rnn
 * (note_seq/drums_encoder_decoder.py). music21's tokens follow the notes, so a groove's timing
 * and rests are lost and a kick with a hi-hat becomes the pitch classes `0.6`; on a grid, every
 * step is a token, a silent one included, and a token names drum classes (`hihat-closed+kick`),
 * so the model learns where hits fall in the beat and which drums play together.
 *
 * A hit is rounded to the nearest of `stepsPerQuarter` steps per quarter note and its pitch mapped
 * to one of note_seq's nine drum classes (DEFAULT_DRUM_TYPE_PITCHES, kept in music/drums/drums.ts).
 * The dataset it is made for is the Groove MIDI Dataset (Magenta, CC BY 4.0; data/groove).
 *
 * Pure functions on values: no Deno APIs.
 *
 * @module
 */
import {
  checkedBpm as checkedMidiBpm,
  DRUM_MIDI_TICKS_PER_QUARTER,
  drumMidiFile,
  noHitsWarning,
  readDrumHits,
  type UnmappedPitches,
} from "./drum_midi.ts";
import { DRUM_CLASS_NAMES, DRUM_CLASSES, DRUM_CLASSES_BY_NAME, drumClassNamed } from "./drums.ts";
import { MidiReadError } from "../smf.ts";

/** Steps per quarter note unless told: sixteenth notes, as in drums_rnn. */
export const DEFAULT_STEPS_PER_QUARTER = 4;
/** Tempo of a decoded grid unless told. */
export const DEFAULT_BPM = 120;
/** The token of a step where nothing is struck. */
export const SILENT_STEP = "-";
/**
 * The longest grid encoded unless told, in quarter notes (`parse.maxQuarters`): an hour at 300
 * quarter notes a minute. The longest Groove file holds 2,556 (about 23 minutes at 110 bpm).
 */
export const DEFAULT_MAX_QUARTERS = 18_000;
/** Ticks per quarter note of the files {@link drumGridMidi} writes. */
export const DRUM_GRID_TICKS_PER_QUARTER = DRUM_MIDI_TICKS_PER_QUARTER;

/** Whether a token carries the loudness of its step: `off`, or `coarse` (three buckets). */
export type VelocityMode = "off" | "coarse";
/** A coarse loudness. */
export type VelocityBucket = "soft" | "medium" | "loud";

/**
 * The buckets of `velocity: coarse`, loudest first. Under 60 are ghost notes and hi-hat taps
 * (almost half of Groove's hits), 100 and up are accents (about a quarter), so each bucket holds
 * a part that sounds different. `velocity` is what decoding plays: inside its bucket, so that a
 * decoded file encodes to the same tokens.
 */
export const VELOCITY_BUCKETS: readonly {
  name: VelocityBucket;
  min: number;
  velocity: number;
}[] = [
  { name: "loud", min: 100, velocity: 112 },
  { name: "medium", min: 60, velocity: 80 },
  { name: "soft", min: 1, velocity: 40 },
];

/** The velocity of a decoded hit whose token carries no bucket. */
export const DEFAULT_VELOCITY = 100;

/** Options of {@link encodeDrumGrid}. */
export interface DrumGridOptions {
  /** Steps per quarter note, an integer 1–480; default 4. */
  stepsPerQuarter?: number;
  /** Whether a token gets its loudest hit's bucket (`kick:loud`); default `off`. */
  velocity?: VelocityMode;
  /**
   * The longest grid to encode, in quarter notes (at most `maxQuarters × stepsPerQuarter`
   * steps), a positive integer; default {@link DEFAULT_MAX_QUARTERS}. A file's steps cost memory
   * whatever its size: a kick 0x0FFFFFFF ticks after another, at 1 tick per quarter, is a
   * billion steps in 47 bytes.
   */
  maxQuarters?: number;
}

/**
 * Thrown by {@link encodeDrumGrid}, before any step is allocated, for a file whose grid would be
 * longer than `maxQuarters`. A {@link MidiReadError}, so that a caller that skips unreadable files
 * skips it too; its `reason` says how long the grid would be and what the limit is.
 */
export class DrumGridTooLongError extends MidiReadError {
  override name = "DrumGridTooLongError";
  /** The steps the grid would hold. */
  readonly steps: number;
  /** Steps per quarter note of the grid. */
  readonly stepsPerQuarter: number;
  /** The limit it is over, in quarter notes. */
  readonly maxQuarters: number;
  /** The smallest `maxQuarters` that would take the file: its steps in quarter notes, rounded up. */
  readonly quarters: number;

  constructor(steps: number, stepsPerQuarter: number, maxQuarters: number) {
    const quarters = Math.ceil(steps / stepsPerQuarter);
    super(
      `its drum grid would be ${quarters} quarter notes long (${steps} steps), ` +
        `over the limit of ${maxQuarters} quarter notes`,
    );
    this.message = `Cannot encode a drum grid: ${this.reason}`;
    this.steps = steps;
    this.stepsPerQuarter = stepsPerQuarter;
    this.maxQuarters = maxQuarters;
    this.quarters = quarters;
  }
}

/** What {@link encodeDrumGrid} makes of one file. */
export interface DrumGridEncoding {
  /** One token per step, from step 0 to the last step holding a hit; empty when none. */
  tokens: string[];
  /** How many note-ons fell in one of the nine classes (before merging within a step). */
  hits: number;
  /** Note-ons on pitches outside the nine classes, counted per pitch, by pitch. */
  unmapped: UnmappedPitches;
  /** Why `tokens` is empty, as a sentence to show; absent when it is not. */
  warning?: string;
}

/** Options of {@link decodeDrumGrid} and {@link drumGridMidi}. */
export interface DrumGridRenderOptions {
  /** Quarter notes per minute, about 3.6 to 60,000,000 (what a MIDI tempo can say); default 120. */
  bpm?: number;
  /** Steps per quarter note, an integer 1–480; default 4. */
  stepsPerQuarter?: number;
}

/** One decoded drum hit. */
export interface DrumGridNote {
  /** The class's first pitch in note_seq's map, a General MIDI drum key. */
  pitch: number;
  /** Index of the token (the step) it came from. */
  step: number;
  /** Start, in ticks at {@link DRUM_GRID_TICKS_PER_QUARTER}. */
  tick: number;
  /** Length in ticks: one step, so that a drum struck on every step does not overlap itself. */
  durationTicks: number;
  /** Start in seconds at the tempo. */
  seconds: number;
  /** Length in seconds. */
  durationSeconds: number;
  /** MIDI velocity 1–127. */
  velocity: number;
}

/** What {@link drumGridMidi} returns. */
export interface DrumGridMidi {
  /** A Standard MIDI File: format 0, one track, every hit on channel 10. */
  bytes: Uint8Array;
  /** The notes written, step by step, within a step in the token's order. */
  notes: DrumGridNote[];
}

/** Class indices in the order their names appear in a token. */
const TOKEN_ORDER = DRUM_CLASSES_BY_NAME;
const SORTED_NAMES = TOKEN_ORDER.map((index) => DRUM_CLASS_NAMES[index]!).join(", ");

/**
 * Encodes a MIDI file's drum hits as a drum grid.
 *
 * Every note-on with velocity above 0 counts, on any channel: Groove plays everything on
 * channel 10, but drum files from elsewhere do not always, and a note on a pitch outside the
 * nine classes is counted in `unmapped` rather than dropped unseen.
 *
 * The grid is in quarter notes, which ticks already are (a file's division is ticks per quarter
 * note), so neither a tempo nor a tempo change moves a hit's step: tempo turns ticks into
 * seconds, and the grid never needs seconds. drums_rnn quantizes from seconds, which is why
 * note_seq needs the tempo and rejects tempo changes; working in ticks, this does not. The time
 * signature only says where bars fall, and the grid does not mark bars. (A file with an SMPTE
 * division has ticks in time, not beats; it is read, as music/smf.ts reads it, at 1024 ticks per
 * quarter. Groove has none.)
 *
 * A hit goes to the nearest step, a hit halfway between two steps to the later one (round half
 * up). Hits of one class in one step count once; with `velocity: coarse` the step's loudest hit,
 * of any class, gives the bucket.
 *
 * The grid's length is known from the last hit before any step is made, and a grid longer than
 * `maxQuarters` is refused then, so time and memory stay linear in the file's size.
 *
 * @param bytes the file's bytes
 * @param opts steps per quarter note, velocity mode and the longest grid
 * @returns the tokens, the hit count and the pitches outside the map, with a warning when empty
 * @throws {MidiReadError} when the file cannot be read (music/smf.ts)
 * @throws {DrumGridTooLongError} when the grid would be longer than `maxQuarters`
 * @throws {RangeError} for a bad `stepsPerQuarter` or `maxQuarters`, or a file with 0 ticks per
 *   quarter note
 *
 * @example
 * ```ts ignore
 * encodeDrumGrid(bytes).tokens; // ["hihat-closed+kick", "-", "hihat-closed", "-", "snare"]
 * ```
 */
export function encodeDrumGrid(bytes: Uint8Array, opts: DrumGridOptions = {}): DrumGridEncoding {
  const stepsPerQuarter = checkedStepsPerQuarter(opts.stepsPerQuarter, "encode");
  const maxQuarters = opts.maxQuarters ?? DEFAULT_MAX_QUARTERS;
  if (!Number.isInteger(maxQuarters) || maxQuarters < 1) {
    throw new RangeError(
      `Cannot encode a drum grid: maxQuarters must be a positive integer (found ${maxQuarters})`,
    );
  }
  const hits = readDrumHits(bytes, "encode a drum grid");
  const tpq = hits.ticksPerQuarter;
  // floor(tick/tpq·spq + 1/2), in integers so that a hit exactly halfway is rounded up.
  const stepOf = (hit: number) =>
    Math.floor((2 * hits.tick[hit]! * stepsPerQuarter + tpq) / (2 * tpq));
  // The grid's length first, from its last hit: a file's bytes do not bound its steps.
  let steps = 0;
  for (let hit = 0; hit < hits.count; hit++) steps = Math.max(steps, stepOf(hit) + 1);
  if (steps > maxQuarters * stepsPerQuarter) {
    throw new DrumGridTooLongError(steps, stepsPerQuarter, maxQuarters);
  }
  // Per step: a bit per class, and the loudest velocity.
  const masks = new Uint16Array(steps);
  const loudest = new Uint8Array(steps);
  for (let hit = 0; hit < hits.count; hit++) {
    const step = stepOf(hit);
    masks[step]! |= 1 << hits.drumClass[hit]!;
    loudest[step] = Math.max(loudest[step]!, hits.velocity[hit]!);
  }
  const tokens = Array.from(masks, (mask, step) => {
    if (mask === 0) return SILENT_STEP;
    const names = TOKEN_ORDER.filter((index) => mask & (1 << index))
      .map((index) => DRUM_CLASS_NAMES[index]!)
      .join("+");
    return opts.velocity === "coarse" ? `${names}:${bucketOf(loudest[step]!)}` : names;
  });
  const encoding: DrumGridEncoding = { tokens, hits: hits.count, unmapped: hits.unmapped };
  if (tokens.length === 0) encoding.warning = noHitsWarning(hits, "drum grid");
  return encoding;
}

function bucketOf(velocity: number): VelocityBucket {
  return (VELOCITY_BUCKETS.find(({ min }) => velocity >= min) ?? VELOCITY_BUCKETS.at(-1)!).name;
}

/**
 * Why a string is not a drum-grid token, or undefined when it is one. A token is `-`, or one or
 * more class names, distinct, in alphabetical order, joined with `+`, with `:soft`, `:medium` or
 * `:loud` after them under `velocity: coarse`: exactly what {@link encodeDrumGrid} writes, so a
 * valid token is one the vocabulary can hold.
 *
 * @param token the string to check
 * @param velocity the mode the token must follow; either when absent
 * @returns one sentence naming the token and what is wrong, or undefined
 *
 * @example
 * ```ts
 * import { drumGridTokenError } from "./drum_grid.ts";
 * drumGridTokenError("hihat-closed+kick:loud"); // undefined
 * drumGridTokenError("kick+hihat-closed"); // '"kick+hihat-closed" is not a drum-grid token: …'
 * ```
 */
export function drumGridTokenError(token: string, velocity?: VelocityMode): string | undefined {
  const read = readToken(token, velocity);
  return typeof read === "string"
    ? `${JSON.stringify(token)} is not a drum-grid token: ${read}`
    : undefined;
}

/** Whether a string is a drum-grid token (see {@link drumGridTokenError}). */
export function isDrumGridToken(token: string, velocity?: VelocityMode): boolean {
  return typeof readToken(token, velocity) !== "string";
}

/** A token's class indices (in token order) and bucket, or what is wrong with it. */
function readToken(
  token: string,
  velocity: VelocityMode | undefined,
): { classes: number[]; bucket?: VelocityBucket } | string {
  const [body = "", suffix, ...rest] = token.split(":");
  if (rest.length > 0) return "it has more than one `:`";
  if (body === SILENT_STEP) {
    return suffix === undefined ? { classes: [] } : "a silent step `-` carries no velocity";
  }
  if (body === "") return "it names no drum class (a silent step is `-`)";
  let bucket: VelocityBucket | undefined;
  if (suffix !== undefined) {
    if (velocity === "off") return "it carries a velocity, but velocity is off";
    bucket = VELOCITY_BUCKETS.find(({ name }) => name === suffix)?.name;
    if (bucket === undefined) {
      return `${JSON.stringify(suffix)} is not a velocity (soft, medium or loud)`;
    }
  } else if (velocity === "coarse") {
    return "it lacks a velocity (`:soft`, `:medium` or `:loud`), and velocity is coarse";
  }
  const classes: number[] = [];
  for (const name of body.split("+")) {
    const index = drumClassNamed(name);
    if (index === undefined) {
      return `${JSON.stringify(name)} is not a drum class (${SORTED_NAMES})`;
    }
    classes.push(index);
  }
  const canonical = TOKEN_ORDER.filter((index) => classes.includes(index))
    .map((index) => DRUM_CLASS_NAMES[index]!).join("+");
  if (canonical !== body) {
    return `its classes must be distinct and in alphabetical order (${canonical})`;
  }
  return bucket === undefined ? { classes } : { classes, bucket };
}

/**
 * Decodes drum-grid tokens into notes: token `k` is step `k`, each class its first pitch in
 * note_seq's map, one step long, at the bucket's velocity ({@link VELOCITY_BUCKETS}) or
 * {@link DEFAULT_VELOCITY}. Tokens with and without a velocity may be mixed.
 *
 * @param tokens the token list, e.g. from the generate stage
 * @param opts tempo and steps per quarter note
 * @returns the notes, step by step, within a step in the token's order
 * @throws {SyntaxError} naming the first token that is not a drum-grid token, and its index
 * @throws {RangeError} for a bad `bpm` or `stepsPerQuarter`
 */
export function decodeDrumGrid(
  tokens: readonly string[],
  opts: DrumGridRenderOptions = {},
): DrumGridNote[] {
  const stepsPerQuarter = checkedStepsPerQuarter(opts.stepsPerQuarter, "decode");
  const secondsPerStep = 60 / (checkedBpm(opts.bpm) * stepsPerQuarter);
  const tickOf = (step: number) => Math.round(step * DRUM_GRID_TICKS_PER_QUARTER / stepsPerQuarter);
  const notes: DrumGridNote[] = [];
  tokens.forEach((token, step) => {
    const read = readToken(token, undefined);
    if (typeof read === "string") {
      throw new SyntaxError(
        `Cannot decode token ${step}: ${JSON.stringify(token)} is not a drum-grid token: ${read}`,
      );
    }
    const velocity = VELOCITY_BUCKETS.find(({ name }) => name === read.bucket)?.velocity ??
      DEFAULT_VELOCITY;
    for (const index of read.classes) {
      notes.push({
        pitch: DRUM_CLASSES[index]![0]!,
        step,
        tick: tickOf(step),
        durationTicks: tickOf(step + 1) - tickOf(step),
        seconds: step * secondsPerStep,
        durationSeconds: secondsPerStep,
        velocity,
      });
    }
  });
  return notes;
}

/**
 * Writes drum-grid tokens as a Standard MIDI File: format 0, 480 ticks per quarter, the tempo
 * and 4/4 at tick 0, then {@link decodeDrumGrid}'s notes on channel 10, ending after the last
 * step, silent or not. music/render_midi.ts writes create_midi's fixed layout (120 bpm, one
 * velocity), which cannot carry a tempo or a bucket, so this writes its own; the bytes depend on
 * the tokens and options only.
 *
 * @param tokens the token list
 * @param opts tempo and steps per quarter note
 * @returns the file's bytes and the notes written
 * @throws {SyntaxError} naming the first token that is not a drum-grid token, and its index
 * @throws {RangeError} for a bad `bpm` or `stepsPerQuarter`
 *
 * @example
 * ```ts
 * import { drumGridMidi } from "./drum_grid.ts";
 * const { notes } = drumGridMidi(["hihat-closed+kick", "-", "snare:loud"]);
 * notes.map((n) => [n.pitch, n.tick, n.velocity]); // [[42, 0, 100], [36, 0, 100], [38, 240, 112]]
 * ```
 */
export function drumGridMidi(
  tokens: readonly string[],
  opts: DrumGridRenderOptions = {},
): DrumGridMidi {
  const notes = decodeDrumGrid(tokens, opts);
  const stepsPerQuarter = checkedStepsPerQuarter(opts.stepsPerQuarter, "decode");
  const end = Math.round(tokens.length * DRUM_GRID_TICKS_PER_QUARTER / stepsPerQuarter);
  return { bytes: drumMidiFile(notes, checkedBpm(opts.bpm), end), notes };
}

/** `stepsPerQuarter` or the default; at most 480, so that a decoded step lasts at least a tick. */
function checkedStepsPerQuarter(value: number | undefined, action: string): number {
  const steps = value ?? DEFAULT_STEPS_PER_QUARTER;
  if (!Number.isInteger(steps) || steps < 1 || steps > DRUM_GRID_TICKS_PER_QUARTER) {
    throw new RangeError(
      `Cannot ${action} a drum grid: stepsPerQuarter must be an integer from 1 to 480 ` +
        `(found ${steps})`,
    );
  }
  return steps;
}

/** `bpm` or the default, within what a MIDI tempo can say. */
function checkedBpm(value: number | undefined): number {
  return checkedMidiBpm(value, DEFAULT_BPM, "decode a drum grid");
}
