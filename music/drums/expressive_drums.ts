/**
 * Expressive drums (`parse.encoding: drum-expressive`, issue 23): the drum grid's steps, with
 * every hit keeping its velocity and its offset from the step. The drum grid
 * (music/drums/drum_grid.ts) puts every hit on a sixteenth at one velocity, so a groove's feel (a snare
 * laid back, ghost notes, accents, flams) is lost; Magenta's GrooVAE keeps it as a velocity and
 * an offset per drum and step (music_vae/data.py, GrooveConverter), but as numbers beside the
 * grid, one hit per drum per step. Here the same information is tokens a next-token model reads,
 * and every hit is kept, the second hit of a flam or a roll included.
 *
 * Tokens, step after step:
 *
 * - `kick:v88`: a hit of a drum class (Magenta's nine, as the drum grid names them) at the
 *   velocity its bucket plays ({@link VELOCITY_BUCKET_WIDTH} wide: `v3` for 1–5 … `v123` for
 *   121–125, `v127` for 126–127);
 * - `@+2`, `@-3`: where the step's next hits fall, in 96ths of a quarter note from the step
 *   ({@link UNITS_PER_QUARTER}: 5 ticks at 480 per quarter), from −12 to +11 at sixteenths; each
 *   step starts at `@0`, the grid, so hits on the grid need no such token;
 * - `step`: the end of a step (a sixteenth at `stepsPerQuarter: 4`); a silent step is `step`
 *   alone, and a file's tokens end with one.
 *
 * For example a kick on the beat with a hi-hat 10 ticks late, then a sixteenth of silence, then a
 * soft snare 5 ticks early: `kick:v88 @+2 hihat-closed:v43 step step @-1 snare:v28 step`.
 *
 * Why this form, measured on all 1,150 Groove files (446,312 hits) by
 * bench/expressive_drums_bench.ts at this resolution, against the other forms issue 23 names. All
 * hold the same rounded hits; bits per bar are what a 4-gram model counted on the train split
 * still has to guess of the test split, how hard the tokens are for a simple next-token model:
 *
 * | form: a step's tokens                          | tok/bar | vocab | < 10× | bits/bar |
 * | ---------------------------------------------- | ------: | ----: | ----: | -------: |
 * | A1 grid token, a velocity+offset token per hit |    36.1 | 1,101 |   275 |      273 |
 * | A2 grid token, a velocity, an offset per hit   |    56.2 |   527 |   275 |      259 |
 * | A3 marker, a drum+velocity+offset per hit      |    36.1 | 5,162 | 1,482 |      268 |
 * | A4 offset where it moves, drum+velocity, step  |    54.2 |   256 |     8 |      248 |
 * | B  time shifts (1–96 units), drum+velocity     |    39.1 |   327 |     8 |      253 |
 *
 * (tok/bar: tokens per 4/4 bar; vocab: distinct tokens used; `< 10×`: tokens used fewer than
 * ten times in all of Groove. A4 is this encoding; the drum grid has 16 tokens a bar.)
 *
 * The drum grid's tokens name every set of drums struck together, and a step that strikes one
 * drum twice (6.9% of Groove's hits fall in a sixteenth where their drum already struck) needs
 * more: about 480 step tokens, over half of them seen under ten times, which A1–A3 carry or
 * multiply. Spelling a step's hits one by one, as A4 and B do, keeps a vocabulary of a few
 * hundred tokens, each seen often, and predicts best. Between those, A4 keeps the grid: a hit's
 * step is the count of `step` tokens before it, so the position in the bar and "the same step a
 * bar ago" stay exact for the sequence networks' bar-position and lookback inputs, and a wrong
 * offset misplaces one hit, where a wrong time shift moves everything after it off the beat. Its
 * price is length: 54 tokens a bar against B's 39 (the drum grid's 16).
 *
 * Resolution, measured by the same bench: 96 per quarter (5 ticks at 480) moves a hit by at most
 * 2 ticks, 5.0 ms at Groove's slowest tempo (50 bpm) and 1.41 ms on average, the few milliseconds
 * issue 23 allows; 160 per quarter would make it 1 tick (2.5 ms) for 16 more position tokens and 19
 * more bits a bar, 48 would make it 5 ticks (12.5 ms). Velocity buckets of 5 (26 of them) miss a
 * velocity by at most 2 (1.07 on average), 1.7 dB on a ghost note of velocity 20 under General
 * MIDI's square-law volume curve; buckets of 8 (16) would miss by up to 4 (3.2 dB there) for a
 * vocabulary of 169 instead of 259.
 *
 * Rendering plays hit `kick:v88` at its step's tick plus its offset, as the class's first pitch
 * (as the drum grid does), at velocity 88, so encoding the rendered file gives back the same
 * tokens. Pure functions on values: no Deno APIs.
 *
 * @module
 */
import {
  DEFAULT_BPM,
  DEFAULT_MAX_QUARTERS,
  DEFAULT_STEPS_PER_QUARTER,
  DrumGridTooLongError,
} from "./drum_grid.ts";
import {
  checkedBpm,
  DRUM_MIDI_TICKS_PER_QUARTER,
  drumMidiFile,
  noHitsWarning,
  readDrumHits,
  type UnmappedPitches,
} from "./drum_midi.ts";
import { DRUM_CLASS_NAMES, DRUM_CLASSES, DRUM_CLASSES_BY_NAME, drumClassNamed } from "./drums.ts";

/** Time resolution: units per quarter note a hit's time is rounded to (5 ticks at 480). */
export const UNITS_PER_QUARTER = 96;
/** Width of a velocity bucket: velocities 1–5 play 3, 6–10 play 8, … 126–127 play 127. */
export const VELOCITY_BUCKET_WIDTH = 5;
/** The token that ends a step. */
export const STEP_TOKEN = "step";
/**
 * Steps per quarter note the encoding takes: those that divide {@link UNITS_PER_QUARTER}, so that
 * a step is a whole number of units and its offsets are too (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48,
 * 96).
 */
export const EXPRESSIVE_STEPS_PER_QUARTER: readonly number[] = Array.from(
  { length: UNITS_PER_QUARTER },
  (_, i) => i + 1,
).filter((steps) => UNITS_PER_QUARTER % steps === 0);

const TICKS_PER_UNIT = DRUM_MIDI_TICKS_PER_QUARTER / UNITS_PER_QUARTER;
/** A drum class's rank in token order, by class index. */
const NAME_RANK: readonly number[] = DRUM_CLASSES_BY_NAME.reduce(
  (rank, index, position) => (rank[index] = position, rank),
  new Array<number>(DRUM_CLASS_NAMES.length),
);

/** Options of {@link encodeExpressiveDrums}. */
export interface ExpressiveDrumOptions {
  /** Steps per quarter note, one of {@link EXPRESSIVE_STEPS_PER_QUARTER}; default 4. */
  stepsPerQuarter?: number;
  /**
   * The longest encoding, in quarter notes (at most `maxQuarters × stepsPerQuarter` steps), a
   * positive integer; default {@link DEFAULT_MAX_QUARTERS}. Every step is a token, so a file's
   * steps cost memory whatever its size, as the drum grid's do.
   */
  maxQuarters?: number;
}

/** What {@link encodeExpressiveDrums} makes of one file. */
export interface ExpressiveDrumEncoding {
  /** The tokens of step 0 to the last step holding a hit, each ended by `step`; empty if none. */
  tokens: string[];
  /** How many note-ons fell in one of the nine classes: one hit token each. */
  hits: number;
  /** Note-ons on pitches outside the nine classes, counted per pitch, by pitch. */
  unmapped: UnmappedPitches;
  /** Why `tokens` is empty, as a sentence to show; absent when it is not. */
  warning?: string;
}

/** One hit as the encoding holds it. */
export interface ExpressiveHit {
  /** Step from the start. */
  step: number;
  /** Units of 1/{@link UNITS_PER_QUARTER} quarter from the step, in {@link offsetRange}. */
  offset: number;
  /** Index in DRUM_CLASSES (music/drums/drums.ts). */
  drumClass: number;
  /** The velocity its bucket plays, see {@link bucketVelocity}. */
  velocity: number;
}

/** Units of time per step: the encoding holds only steps that are whole units. */
export function unitsPerStep(stepsPerQuarter: number): number {
  return UNITS_PER_QUARTER / stepsPerQuarter;
}

/**
 * The offsets a hit may have from its step, in units: the hits nearer that step than any other,
 * halfway going to the later step. −12 to +11 at sixteenths.
 */
export function offsetRange(stepsPerQuarter: number): { min: number; max: number } {
  const units = unitsPerStep(stepsPerQuarter);
  return { min: -Math.floor(units / 2), max: Math.ceil(units / 2) - 1 };
}

/**
 * The velocity a hit of `velocity` is played at: the middle of its bucket of
 * {@link VELOCITY_BUCKET_WIDTH}, so at most 2 away (1–5 play 3; the last bucket, 126–127, plays
 * 127). A played velocity plays itself, so a rendered file encodes to the same tokens.
 *
 * @param velocity a MIDI velocity, 1–127
 * @param width the bucket width; the encoding's unless measuring others
 */
export function bucketVelocity(velocity: number, width = VELOCITY_BUCKET_WIDTH): number {
  const low = Math.floor((velocity - 1) / width) * width + 1;
  const high = Math.min(127, low + width - 1);
  return Math.floor((low + high + 1) / 2);
}

/**
 * A tick of a file with `ticksPerQuarter` rounded to the encoding's units, half up: the time a
 * hit at `tick` is played at, in units from the start.
 *
 * @param unitsPerQuarter the resolution; the encoding's unless measuring others
 */
export function unitOfTick(
  tick: number,
  ticksPerQuarter: number,
  unitsPerQuarter = UNITS_PER_QUARTER,
): number {
  // floor(tick/tpq·units + 1/2), in integers so that a tick exactly halfway is rounded up.
  return Math.floor((2 * tick * unitsPerQuarter + ticksPerQuarter) / (2 * ticksPerQuarter));
}

/**
 * Encodes a MIDI file's drum hits as expressive drum tokens.
 *
 * The hits are read as the drum grid reads them (music/drums/drum_midi.ts): every note-on with velocity
 * above 0 on a pitch of the nine classes, on any channel; ticks, never seconds, so no tempo or
 * tempo change moves a hit. A hit's time is rounded to 1/96 of a quarter note, half up; its step
 * is the step nearest that time (so a hit within half a unit of halfway between two steps may
 * fall on the other step than the drum grid's, which rounds the unrounded tick), and its offset
 * the rest. Within a step hits are listed by time, then class name, then velocity; none is merged,
 * however close.
 *
 * The steps are counted from the last hit before any token is made, and more than `maxQuarters`
 * of them are refused then, as the drum grid does, with the same error.
 *
 * @param bytes the file's bytes
 * @param opts steps per quarter note and the longest encoding
 * @returns the tokens, the hit count and the pitches outside the map, with a warning when empty
 * @throws {MidiReadError} when the file cannot be read (music/smf.ts)
 * @throws {DrumGridTooLongError} when there would be more than `maxQuarters` of steps
 * @throws {RangeError} for a bad `stepsPerQuarter` or `maxQuarters`, or a file with 0 ticks per
 *   quarter note
 */
export function encodeExpressiveDrums(
  bytes: Uint8Array,
  opts: ExpressiveDrumOptions = {},
): ExpressiveDrumEncoding {
  const stepsPerQuarter = checkedStepsPerQuarter(opts.stepsPerQuarter, "encode");
  const maxQuarters = opts.maxQuarters ?? DEFAULT_MAX_QUARTERS;
  if (!Number.isInteger(maxQuarters) || maxQuarters < 1) {
    throw new RangeError(
      "Cannot encode expressive drums: maxQuarters must be a positive integer " +
        `(found ${maxQuarters})`,
    );
  }
  const read = readDrumHits(bytes, "encode expressive drums");
  const units = unitsPerStep(stepsPerQuarter);
  // Each hit as one number that sorts as the tokens list hits and says all they hold: its time
  // in units, then its class's rank in token order, then its played velocity. Typed, so that a
  // file of millions of hits costs 8 bytes a hit here.
  const keys = new Float64Array(read.count);
  let steps = 0;
  for (let i = 0; i < read.count; i++) {
    const at = unitOfTick(read.tick[i]!, read.ticksPerQuarter);
    steps = Math.max(steps, stepOfUnit(at, units) + 1);
    keys[i] = hitKey(at, read.drumClass[i]!, bucketVelocity(read.velocity[i]!));
  }
  if (steps > maxQuarters * stepsPerQuarter) {
    throw new DrumGridTooLongError(steps, stepsPerQuarter, maxQuarters);
  }
  const encoding: ExpressiveDrumEncoding = {
    tokens: tokensOfKeys(keys.sort(), steps, units),
    hits: read.count,
    unmapped: read.unmapped,
  };
  if (steps === 0) encoding.warning = noHitsWarning(read, "expressive drum encoding");
  return encoding;
}

/** The step nearest a time in units (`units` a step), halfway going to the later one. */
export function stepOfUnit(unit: number, units: number): number {
  return Math.floor((2 * unit + units) / (2 * units));
}

const CLASSES = DRUM_CLASS_NAMES.length;

/** A hit as one number: `at` units from the start, then its class, then its velocity 1–127. */
function hitKey(at: number, drumClass: number, velocity: number): number {
  return (at * CLASSES + NAME_RANK[drumClass]!) * 128 + velocity;
}

/**
 * The tokens of hits: `steps` steps (at least one past the last hit's), each its hits in order of
 * time, class name and velocity, with a position token where the time moves, then `step`.
 *
 * @param hits the hits, in any order; each offset in {@link offsetRange}
 * @param steps how many steps the tokens hold
 * @param units units per step ({@link unitsPerStep})
 */
export function expressiveTokens(
  hits: readonly ExpressiveHit[],
  steps: number,
  units: number,
): string[] {
  const keys = Float64Array.from(
    hits,
    (h) => hitKey(h.step * units + h.offset, h.drumClass, h.velocity),
  );
  return tokensOfKeys(keys.sort(), steps, units);
}

/** The tokens of {@link hitKey}s in ascending order. */
function tokensOfKeys(keys: Float64Array, steps: number, units: number): string[] {
  // One string per distinct token: a file of millions of hits holds a few hundred of them.
  const strings = new Map<string, string>();
  const interned = (token: string) => strings.get(token) ?? (strings.set(token, token), token);
  const tokens: string[] = [];
  let next = 0;
  for (let step = 0; step < steps; step++) {
    let position = 0;
    for (; next < keys.length; next++) {
      const key = keys[next]!;
      const velocity = key % 128;
      const rank = Math.floor(key / 128) % CLASSES;
      const at = Math.floor(key / (128 * CLASSES));
      if (stepOfUnit(at, units) !== step) break;
      const offset = at - step * units;
      if (offset !== position) tokens.push(interned(positionToken(position = offset)));
      const name = DRUM_CLASS_NAMES[DRUM_CLASSES_BY_NAME[rank]!]!;
      tokens.push(interned(`${name}:v${velocity}`));
    }
    tokens.push(STEP_TOKEN);
  }
  return tokens;
}

/** `@+2`, `@-3`, `@0`. */
function positionToken(offset: number): string {
  return `@${offset > 0 ? "+" : ""}${offset}`;
}

/** What a token says. */
type ReadToken =
  | { kind: "step" }
  | { kind: "position"; offset: number }
  | { kind: "hit"; drumClass: number; velocity: number };

const SORTED_NAMES = DRUM_CLASSES_BY_NAME.map((index) => DRUM_CLASS_NAMES[index]!).join(", ");

/** A token's meaning at `stepsPerQuarter`, or what is wrong with it. */
function readToken(token: string, stepsPerQuarter: number): ReadToken | string {
  if (token === STEP_TOKEN) return { kind: "step" };
  if (token.startsWith("@")) {
    const { min, max } = offsetRange(stepsPerQuarter);
    const offset = /^@(0|[+-][1-9][0-9]*)$/.test(token) ? Number(token.slice(1)) : NaN;
    if (!(offset >= min && offset <= max)) {
      return `a position is @ and a whole number of 96ths of a quarter from ${min} to ${max} ` +
        `at ${stepsPerQuarter} steps per quarter, with its sign (@-3, @0, @+2)`;
    }
    return { kind: "position", offset };
  }
  const [name = "", velocityText, ...rest] = token.split(":");
  const drumClass = drumClassNamed(name);
  if (drumClass === undefined || rest.length > 0 || velocityText === undefined) {
    return `a token is ${STEP_TOKEN}, a position (@-3, @0, @+2) or a drum and a velocity ` +
      `(kick:v88; drums: ${SORTED_NAMES})`;
  }
  const velocity = /^v[1-9][0-9]*$/.test(velocityText) ? Number(velocityText.slice(1)) : NaN;
  if (!(velocity <= 127 && bucketVelocity(velocity) === velocity)) {
    return `${JSON.stringify(velocityText)} is not a velocity the encoding plays ` +
      `(v3, v8, … v123, v127: the middle of each bucket of ${VELOCITY_BUCKET_WIDTH})`;
  }
  return { kind: "hit", drumClass, velocity };
}

/**
 * Why a string is not an expressive drum token at `stepsPerQuarter`, or undefined when it is one:
 * exactly the tokens {@link encodeExpressiveDrums} can write.
 *
 * @param token the string to check
 * @param stepsPerQuarter steps per quarter note, which bound the positions; default 4
 * @returns one sentence naming the token and what is wrong, or undefined
 *
 * @example
 * ```ts
 * import { expressiveTokenError } from "./expressive_drums.ts";
 * expressiveTokenError("kick:v88"); // undefined
 * expressiveTokenError("kick:v90"); // '"kick:v90" is not an expressive drum token: …'
 * ```
 */
export function expressiveTokenError(
  token: string,
  stepsPerQuarter = DEFAULT_STEPS_PER_QUARTER,
): string | undefined {
  const read = readToken(token, checkedStepsPerQuarter(stepsPerQuarter, "read"));
  return typeof read === "string"
    ? `${JSON.stringify(token)} is not an expressive drum token: ${read}`
    : undefined;
}

/** Options of {@link decodeExpressiveDrums} and {@link expressiveDrumsMidi}. */
export interface ExpressiveRenderOptions {
  /** Quarter notes per minute, about 3.6 to 60,000,000 (what a MIDI tempo can say); default 120. */
  bpm?: number;
  /** Steps per quarter note, one of {@link EXPRESSIVE_STEPS_PER_QUARTER}; default 4. */
  stepsPerQuarter?: number;
  /** {@link expressiveDrumsMidi}: the track's name (a DAW's label for a clip); none by default. */
  name?: string;
}

/** One decoded drum hit. */
export interface ExpressiveNote {
  /** The class's first pitch in note_seq's map, a General MIDI drum key. */
  pitch: number;
  /** Index of the hit's token. */
  token: number;
  /** Its step: how many `step` tokens come before it. */
  step: number;
  /** Start, in ticks at 480 per quarter note. */
  tick: number;
  /**
   * Length in ticks: a step, or less where the same drum is struck again sooner, so that a drum
   * does not overlap itself; at least a tick.
   */
  durationTicks: number;
  /** Start in seconds at the tempo. */
  seconds: number;
  /** Length in seconds. */
  durationSeconds: number;
  /** MIDI velocity 1–127. */
  velocity: number;
}

/** What {@link decodeExpressiveDrums} returns. */
export interface ExpressiveDecoding {
  /** The notes, in token order. */
  notes: ExpressiveNote[];
  /** How many steps the tokens span: `step` tokens, and one more for hits after the last. */
  steps: number;
  /** Sentences about hits that could not be played where the tokens put them. */
  warnings: string[];
}

/**
 * Decodes expressive drum tokens into notes. Any sequence of the encoding's tokens reads, so
 * whatever a model samples plays: a hit before any position token in its step is on the step,
 * position tokens may go back in time, hits after the last `step` are in one step more. A hit
 * the tokens put before tick 0 (an early offset in step 0, which no file encodes to) is played
 * at tick 0, with a warning.
 *
 * @param tokens the token list, e.g. from the generate stage
 * @param opts tempo and steps per quarter note
 * @returns the notes in token order, the steps spanned, and warnings
 * @throws {SyntaxError} naming the first token that is not an expressive drum token, and its index
 * @throws {RangeError} for a bad `bpm` or `stepsPerQuarter`
 */
export function decodeExpressiveDrums(
  tokens: readonly string[],
  opts: ExpressiveRenderOptions = {},
): ExpressiveDecoding {
  const stepsPerQuarter = checkedStepsPerQuarter(opts.stepsPerQuarter, "decode");
  const secondsPerTick = 60 / (checkedBpm(opts.bpm, DEFAULT_BPM, "decode expressive drums") *
    DRUM_MIDI_TICKS_PER_QUARTER);
  const ticksPerStep = unitsPerStep(stepsPerQuarter) * TICKS_PER_UNIT;
  const notes: ExpressiveNote[] = [];
  const warnings: string[] = [];
  let step = 0, position = 0, hitsAfterStep = false;
  tokens.forEach((token, index) => {
    const read = readToken(token, stepsPerQuarter);
    if (typeof read === "string") {
      throw new SyntaxError(
        `Cannot decode token ${index}: ${JSON.stringify(token)} is not an expressive drum ` +
          `token: ${read}`,
      );
    }
    if (read.kind === "step") {
      step++;
      position = 0;
      hitsAfterStep = false;
    } else if (read.kind === "position") {
      position = read.offset;
    } else {
      let tick = step * ticksPerStep + position * TICKS_PER_UNIT;
      if (tick < 0) {
        warnings.push(
          `token ${index} (${token}) is ${-tick} ticks before the start, so it is played at tick 0`,
        );
        tick = 0;
      }
      notes.push({
        pitch: DRUM_CLASSES[read.drumClass]![0]!,
        token: index,
        step,
        tick,
        durationTicks: ticksPerStep,
        seconds: tick * secondsPerTick,
        durationSeconds: 0,
        velocity: read.velocity,
      });
      hitsAfterStep = true;
    }
  });
  // Each note lasts until the same pitch is struck again, at most a step, at least a tick.
  const byTime = notes.map((_, i) => i).sort((a, b) => notes[a]!.tick - notes[b]!.tick || a - b);
  const nextOfPitch = new Map<number, number>();
  for (let k = byTime.length - 1; k >= 0; k--) {
    const note = notes[byTime[k]!]!;
    const next = nextOfPitch.get(note.pitch);
    if (next !== undefined) {
      note.durationTicks = Math.max(1, Math.min(ticksPerStep, next - note.tick));
    }
    note.durationSeconds = note.durationTicks * secondsPerTick;
    nextOfPitch.set(note.pitch, note.tick);
  }
  return { notes, steps: step + (hitsAfterStep ? 1 : 0), warnings };
}

/** What {@link expressiveDrumsMidi} returns. */
export interface ExpressiveDrumMidi extends ExpressiveDecoding {
  /** A Standard MIDI File: format 0, 480 ticks per quarter, every hit on channel 10. */
  bytes: Uint8Array;
}

/**
 * Writes expressive drum tokens as a Standard MIDI File (music/drums/drum_midi.ts's layout, as the drum
 * grid writes): the tempo and 4/4 at tick 0, {@link decodeExpressiveDrums}'s notes on channel 10,
 * ending after the last step, silent or not. Simultaneous note-ons keep the tokens' order.
 *
 * @param tokens the token list
 * @param opts tempo and steps per quarter note
 * @returns the file's bytes, the notes written and any warning
 * @throws {SyntaxError} naming the first token that is not an expressive drum token, and its index
 * @throws {RangeError} for a bad `bpm` or `stepsPerQuarter`
 *
 * @example
 * ```ts
 * import { expressiveDrumsMidi } from "./expressive_drums.ts";
 * const { notes } = expressiveDrumsMidi(["kick:v88", "@+2", "hihat-closed:v43", "step"]);
 * notes.map((n) => [n.pitch, n.tick, n.velocity]); // [[36, 0, 88], [42, 10, 43]]
 * ```
 */
export function expressiveDrumsMidi(
  tokens: readonly string[],
  opts: ExpressiveRenderOptions = {},
): ExpressiveDrumMidi {
  const decoded = decodeExpressiveDrums(tokens, opts);
  const stepsPerQuarter = checkedStepsPerQuarter(opts.stepsPerQuarter, "decode");
  const end = decoded.steps * unitsPerStep(stepsPerQuarter) * TICKS_PER_UNIT;
  const bpm = checkedBpm(opts.bpm, DEFAULT_BPM, "decode expressive drums");
  return { ...decoded, bytes: drumMidiFile(decoded.notes, bpm, end, opts.name) };
}

/**
 * `stepsPerQuarter` or the default, one that divides {@link UNITS_PER_QUARTER}: a step must be a
 * whole number of units for its offsets to be.
 */
function checkedStepsPerQuarter(value: number | undefined, action: string): number {
  const steps = value ?? DEFAULT_STEPS_PER_QUARTER;
  if (!EXPRESSIVE_STEPS_PER_QUARTER.includes(steps)) {
    throw new RangeError(
      `Cannot ${action} expressive drums: stepsPerQuarter must divide ${UNITS_PER_QUARTER} ` +
        `(${EXPRESSIVE_STEPS_PER_QUARTER.join(", ")}; found ${steps})`,
    );
  }
  return steps;
}
