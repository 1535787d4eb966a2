/**
 * The token encodings (`parse.encoding`) in one place: how a MIDI file becomes tokens, and how
 * tokens become notes and a MIDI file again. The parse, heldout and generate stages and
 * `deno task tokens` tokenize with it, so a model only ever meets tokens of the encoding it was
 * trained on; render and stats read tokens back with it.
 *
 * - `music21`: the tutorial's note and chord tokens (music/tokenize.ts), written back as
 *   create_midi writes them (music/render_midi.ts), or as drums (music/drums/drums.ts).
 * - `drum-grid`: one token per time step, the drums struck on it (music/drums/drum_grid.ts).
 * - `drum-expressive`: the drum grid's steps with every hit's velocity and offset from its step
 *   (music/drums/expressive_drums.ts).
 *
 * @module
 */
import type { TokenEncoding, Voicings } from "../formats/tokens.ts";
import {
  DEFAULT_MAX_QUARTERS,
  DRUM_GRID_TICKS_PER_QUARTER,
  drumGridMidi,
  DrumGridTooLongError,
  encodeDrumGrid,
} from "./drums/drum_grid.ts";
import { drumPitches } from "./drums/drums.ts";
import {
  encodeExpressiveDrums,
  EXPRESSIVE_STEPS_PER_QUARTER,
  expressiveDrumsMidi,
  UNITS_PER_QUARTER,
} from "./drums/expressive_drums.ts";
import { renderMidi, TICKS_PER_QUARTER } from "./render_midi.ts";
import { MidiReadError, tokenizeWithVoicings } from "./tokenize.ts";

/** The `parse.*` settings that choose an encoding. */
export interface TokenEncodingSettings {
  encoding: TokenEncoding["encoding"];
  stepsPerQuarter: number;
  velocity: TokenEncoding["velocity"];
}

/** The `render.*` settings. */
export interface RenderSettings {
  /** music21 tokens: quarter notes from one token to the next. */
  step: number;
  /** music21 tokens: the tutorial's piano, or General MIDI drums. */
  instrument: "piano" | "drums";
  /** drum-grid and drum-expressive tokens: the tempo. */
  bpm: number;
}

/**
 * Why `parse` settings ask for an encoding that cannot be made, as one sentence naming the keys
 * and what to set, or undefined: drum-expressive's offsets are whole 96ths of a quarter, so a step
 * must be too, and it keeps every hit's velocity, so parse.velocity's buckets have nothing to add.
 */
export function encodingSettingsError(parse: TokenEncodingSettings): string | undefined {
  if (parse.encoding !== "drum-expressive") return undefined;
  if (!EXPRESSIVE_STEPS_PER_QUARTER.includes(parse.stepsPerQuarter)) {
    return `parse.stepsPerQuarter must divide ${UNITS_PER_QUARTER} under parse.encoding: ` +
      `drum-expressive (found ${parse.stepsPerQuarter}): set it to one of ` +
      `${EXPRESSIVE_STEPS_PER_QUARTER.join(", ")}`;
  }
  if (parse.velocity !== "off") {
    return `parse.velocity ${parse.velocity} is for the drum grid: drum-expressive keeps every ` +
      "hit's velocity, so leave parse.velocity at off";
  }
  return undefined;
}

/**
 * The encoding `parse` settings ask for.
 * @throws {RangeError} for settings that ask for none ({@link encodingSettingsError}; parse's
 * check refuses them before any stage runs)
 */
export function encodingOf(parse: TokenEncodingSettings): TokenEncoding {
  const error = encodingSettingsError(parse);
  if (error !== undefined) throw new RangeError(error);
  return {
    encoding: parse.encoding,
    stepsPerQuarter: parse.stepsPerQuarter,
    velocity: parse.velocity,
  };
}

/** One file's tokens, and what a caller reports about them. */
export interface FileTokens {
  tokens: string[];
  /** music21: each chord token's voicings and how often each made it. */
  voicings?: Map<string, Map<string, number>>;
  /** drum encodings: note-ons on pitches outside the nine drum classes, per pitch. */
  unmapped?: { pitch: number; count: number }[];
  /** drum encodings: why a file gave no tokens. */
  warning?: string;
}

export { DEFAULT_MAX_QUARTERS, DrumGridTooLongError };

/** Bounds on what one file may cost to tokenize, beyond `parse.maxFileBytes`. */
export interface TokenizeLimits {
  /**
   * drum-grid and drum-expressive: the longest grid, in quarter notes (`parse.maxQuarters`);
   * default {@link DEFAULT_MAX_QUARTERS}. A grid costs memory per step, and a few bytes of delta
   * times make billions of steps. (music21's tokens are one per note or chord, so its memory
   * follows the file's bytes without a bound of its own.)
   */
  maxQuarters?: number;
}

/**
 * The tokens of a MIDI file in `encoding`, the one way every caller tokenizes (parse, heldout,
 * a generate primer, `deno task tokens`), so that each is held to the same limits.
 * @throws {DrumGridTooLongError} when a drum grid would be longer than `limits.maxQuarters`,
 *   found before the grid is made (a {@link MidiReadError}: catch it first to tell it apart);
 *   drum-expressive's steps are a drum grid's, held to the same limit
 * @throws {MidiReadError} when the file cannot be read as MIDI
 * @throws {RangeError} for an encoding no settings may ask for ({@link encodingSettingsError}),
 *   before the file is read
 */
export function tokenizeFile(
  bytes: Uint8Array,
  encoding: TokenEncoding,
  limits: TokenizeLimits = {},
): FileTokens {
  if (encoding.encoding === "music21") return tokenizeWithVoicings(bytes);
  // Settings first: a RangeError from the encoder below is the file's, and makes it unreadable.
  const settingsError = encodingSettingsError(encoding);
  if (settingsError !== undefined) throw new RangeError(settingsError);
  const maxQuarters = limits.maxQuarters ?? DEFAULT_MAX_QUARTERS;
  let drums;
  try {
    drums = encoding.encoding === "drum-expressive"
      ? encodeExpressiveDrums(bytes, { stepsPerQuarter: encoding.stepsPerQuarter, maxQuarters })
      : encodeDrumGrid(bytes, {
        stepsPerQuarter: encoding.stepsPerQuarter,
        velocity: encoding.velocity,
        maxQuarters,
      });
  } catch (e) {
    // A header that reads but cannot time a grid (zero ticks per quarter) is a bad file too.
    if (e instanceof RangeError) throw new MidiReadError(e.message.replace(/^Cannot [^:]*: /, ""));
    throw e;
  }
  return { tokens: drums.tokens, unmapped: drums.unmapped, warning: drums.warning };
}

/** Tokens written back as music: the MIDI file, its notes and any token that misread. */
export interface RenderedTokens {
  bytes: Uint8Array;
  notes: { pitch: number; tick: number; durationTicks: number }[];
  ticksPerQuarter: number;
  warnings: string[];
  /** Whether the notes are General MIDI drums (channel 10). */
  drums: boolean;
}

/** `tokens` as a MIDI file under the render settings, in the way their encoding reads. */
export function renderTokens(
  tokens: readonly string[],
  encoding: TokenEncoding,
  render: RenderSettings,
  voicings: Voicings,
): RenderedTokens {
  if (encoding.encoding === "drum-expressive") {
    const { bytes, notes, warnings } = expressiveDrumsMidi(tokens, {
      bpm: render.bpm,
      stepsPerQuarter: encoding.stepsPerQuarter,
    });
    return { bytes, notes, ticksPerQuarter: DRUM_GRID_TICKS_PER_QUARTER, warnings, drums: true };
  }
  if (encoding.encoding === "drum-grid") {
    const { bytes, notes } = drumGridMidi(tokens, {
      bpm: render.bpm,
      stepsPerQuarter: encoding.stepsPerQuarter,
    });
    return {
      bytes,
      notes,
      ticksPerQuarter: DRUM_GRID_TICKS_PER_QUARTER,
      warnings: [],
      drums: true,
    };
  }
  const drums = render.instrument === "drums";
  const { bytes, notes, warnings } = renderMidi(tokens, {
    step: render.step,
    ...(drums ? { channel: 9 as const, pitches: drumPitches(voicings) } : {}),
  });
  return { bytes, notes, ticksPerQuarter: TICKS_PER_QUARTER, warnings, drums };
}

/** An encoding whose tokens are not evenly spaced in time, where a reader needs them to be. */
export class UnevenTokensError extends Error {}

/**
 * Quarter notes from one token to the next.
 * @throws {UnevenTokensError} for drum-expressive, whose tokens are not evenly spaced in time
 */
export function quartersPerToken(encoding: TokenEncoding, render: { step: number }): number {
  if (encoding.encoding === "drum-expressive") {
    // A step's hits and positions come between its step tokens and take no time, so a bar is
    // no fixed number of tokens; statistics that cut tokens into bars must count steps instead.
    throw new UnevenTokensError(
      "parse.encoding drum-expressive has no fixed number of tokens per bar (a step's hits " +
        "come between its step tokens), so per-bar token statistics and the player's token " +
        "timing do not read it yet: run the pipeline with --until render, or use drum-grid",
    );
  }
  return encoding.encoding === "drum-grid" ? 1 / encoding.stepsPerQuarter : render.step;
}
