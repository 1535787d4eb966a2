/**
 * The token encodings (`parse.encoding`) in one place: how a MIDI file becomes tokens, and how
 * tokens become notes and a MIDI file again. The parse, heldout and generate stages and
 * `deno task tokens` tokenize with it, so a model only ever meets tokens of the encoding it was
 * trained on; render and stats read tokens back with it.
 *
 * - `music21`: the tutorial's note and chord tokens (music/tokenize.ts), written back as
 *   create_midi writes them (music/render_midi.ts), or as drums (music/drums.ts).
 * - `drum-grid`: one token per time step, the drums struck on it (music/drum_grid.ts).
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
} from "./drum_grid.ts";
import { drumPitches } from "./drums.ts";
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
  /** drum-grid tokens: the tempo. */
  bpm: number;
}

/** The encoding `parse` settings ask for. */
export function encodingOf(parse: TokenEncodingSettings): TokenEncoding {
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
  /** drum-grid: note-ons on pitches outside the nine drum classes, per pitch. */
  unmapped?: { pitch: number; count: number }[];
  /** drum-grid: why a file gave no tokens. */
  warning?: string;
}

export { DEFAULT_MAX_QUARTERS, DrumGridTooLongError };

/** Bounds on what one file may cost to tokenize, beyond `parse.maxFileBytes`. */
export interface TokenizeLimits {
  /**
   * drum-grid: the longest grid, in quarter notes (`parse.maxQuarters`); default
   * {@link DEFAULT_MAX_QUARTERS}. A grid costs memory per step, and a few bytes of delta times
   * make billions of steps. (music21's tokens are one per note or chord, so its memory follows
   * the file's bytes without a bound of its own.)
   */
  maxQuarters?: number;
}

/**
 * The tokens of a MIDI file in `encoding`, the one way every caller tokenizes (parse, heldout,
 * a generate primer, `deno task tokens`), so that each is held to the same limits.
 * @throws {DrumGridTooLongError} when a drum grid would be longer than `limits.maxQuarters`,
 *   found before the grid is made (a {@link MidiReadError}: catch it first to tell it apart)
 * @throws {MidiReadError} when the file cannot be read as MIDI
 */
export function tokenizeFile(
  bytes: Uint8Array,
  encoding: TokenEncoding,
  limits: TokenizeLimits = {},
): FileTokens {
  if (encoding.encoding === "music21") return tokenizeWithVoicings(bytes);
  let grid;
  try {
    grid = encodeDrumGrid(bytes, {
      stepsPerQuarter: encoding.stepsPerQuarter,
      velocity: encoding.velocity,
      maxQuarters: limits.maxQuarters ?? DEFAULT_MAX_QUARTERS,
    });
  } catch (e) {
    // A header that reads but cannot time a grid (zero ticks per quarter) is a bad file too.
    if (e instanceof RangeError) throw new MidiReadError(e.message.replace(/^Cannot [^:]*: /, ""));
    throw e;
  }
  return { tokens: grid.tokens, unmapped: grid.unmapped, warning: grid.warning };
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

/** Quarter notes from one token to the next. */
export function quartersPerToken(encoding: TokenEncoding, render: { step: number }): number {
  return encoding.encoding === "drum-grid" ? 1 / encoding.stepsPerQuarter : render.step;
}
