/**
 * Tokens to a Standard MIDI File, byte for byte what the tutorial's `create_midi` writes under
 * music21 6.7.1 (SPEC.md §14): format 1, two tracks, 1024 ticks per quarter; a fixed conductor
 * track; a note track with an empty name, a centre pitch bend when there is at least one note,
 * then every token's notes (velocity 90, one quarter long) with no running status.
 *
 * The same layout serves the drums (music/drums/drums.ts): on channel 10, with no pitch bend, each note
 * as long as the step so that a drum struck on every token does not overlap itself.
 *
 * @module
 */
import { type TokenPitches, tokenPitches } from "./token_pitches.ts";

/** Ticks per quarter note in every file `create_midi` writes. */
export const TICKS_PER_QUARTER = 1024;

/** The tutorial's spacing: `offset += 0.5` quarters per token. */
export const DEFAULT_STEP = 0.5;

/** Options of {@link renderMidi}. */
export interface RenderOptions {
  /** Quarter notes between consecutive tokens (`render.step`); default 0.5, the tutorial's. */
  step?: number;
  /** How a token becomes pitches; default `create_midi`'s reading (music/token_pitches.ts). */
  pitches?: (token: string) => TokenPitches;
  /** MIDI channel, 0-based: 0, `create_midi`'s (default), or 9, General MIDI's drums. */
  channel?: 0 | 9;
}

/** One note written to the file. */
export interface RenderedNote {
  /** MIDI pitch 0–127. */
  pitch: number;
  /** Start, in ticks at {@link TICKS_PER_QUARTER}. */
  tick: number;
  /** Length in ticks (always one quarter). */
  durationTicks: number;
  /** Index of the token the note came from. */
  token: number;
}

/** What {@link renderMidi} returns. */
export interface RenderResult {
  /** The SMF bytes. */
  bytes: Uint8Array;
  /** One line per token that was not plain music21 input (see music/token_pitches.ts). */
  warnings: string[];
  /** The notes written, in token order (chord members in chord order). */
  notes: RenderedNote[];
}

const VELOCITY = 90;
const HEADER = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, 0, 2, 0x04, 0x00];
const CONDUCTOR_EVENTS = [
  ...[0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20], // SET_TEMPO 500000 µs
  ...[0x00, 0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08], // TIME_SIGNATURE 4/4
  ...[0x88, 0x00, 0xff, 0x2f, 0x00], // END_OF_TRACK after 1024 ticks
];

/** Order of events at one tick: note-offs, then the pitch bend, then note-ons (SPEC.md §14.2). */
const RANK = { off: 0, bend: 1, on: 2 } as const;

interface TrackEvent {
  tick: number;
  rank: number;
  seq: number;
  bytes: number[];
}

/**
 * Lays tokens out as notes: token `k` starts at `round(k · step · 1024)` ticks and each of its
 * pitches lasts 1024 ticks. Tokens that name no pitch are skipped but still take their slot.
 *
 * @param tokens the token list, e.g. from the generate stage
 * @param opts spacing between tokens
 * @returns the notes and one warning per odd token
 * @throws {RangeError} when `step` is not a positive finite number
 */
export function tokensToNotes(
  tokens: readonly string[],
  opts: RenderOptions = {},
): { notes: RenderedNote[]; warnings: string[] } {
  const step = opts.step ?? DEFAULT_STEP;
  if (!Number.isFinite(step) || step <= 0) {
    throw new RangeError(`Cannot render tokens: step must be a positive number (found ${step})`);
  }
  const read = opts.pitches ?? tokenPitches;
  // A drum is struck, not held: it lasts the step, so the next token's strike does not overlap.
  const length = opts.channel === 9
    ? Math.min(TICKS_PER_QUARTER, Math.round(step * TICKS_PER_QUARTER))
    : TICKS_PER_QUARTER;
  const notes: RenderedNote[] = [];
  const warnings: string[] = [];
  tokens.forEach((token, k) => {
    const { pitches, warning } = read(token);
    if (warning !== undefined) warnings.push(`token ${k} ${JSON.stringify(token)}: ${warning}`);
    const tick = Math.round(k * step * TICKS_PER_QUARTER);
    for (const pitch of pitches) notes.push({ pitch, tick, durationTicks: length, token: k });
  });
  return { notes, warnings };
}

/**
 * Renders tokens as `create_midi` does under music21 6.7.1.
 *
 * @param tokens the token list
 * @param opts spacing between tokens; at the default 0.5 the bytes match music21's exactly
 * @returns the SMF bytes, warnings for odd tokens, and the notes written
 * @throws {RangeError} when `step` is not a positive finite number
 *
 * @example
 * ```ts
 * import { renderMidi } from "./render_midi.ts";
 * const { bytes } = renderMidi(["C4", "0.4.7"]);
 * bytes.length; // 98
 * ```
 */
export function renderMidi(tokens: readonly string[], opts: RenderOptions = {}): RenderResult {
  const { notes, warnings } = tokensToNotes(tokens, opts);
  const channel = opts.channel ?? 0;
  const events: TrackEvent[] = [];
  // create_midi centres the pitch wheel; drums have none.
  if (notes.length > 0 && channel === 0) {
    events.push({ tick: 0, rank: RANK.bend, seq: 0, bytes: [0xe0, 0x00, 0x40] });
  }
  notes.forEach((note, seq) => {
    events.push({
      tick: note.tick,
      rank: RANK.on,
      seq,
      bytes: [0x90 | channel, note.pitch, VELOCITY],
    });
    events.push({
      tick: note.tick + note.durationTicks,
      rank: RANK.off,
      seq,
      bytes: [0x80 | channel, note.pitch, 0x00],
    });
  });
  events.sort((a, b) => a.tick - b.tick || a.rank - b.rank || a.seq - b.seq);

  const track: number[] = [0x00, 0xff, 0x03, 0x00]; // SEQUENCE_TRACK_NAME ""
  let now = 0;
  for (const event of events) {
    track.push(...vlq(event.tick - now), ...event.bytes);
    now = event.tick;
  }
  track.push(...vlq(TICKS_PER_QUARTER), 0xff, 0x2f, 0x00);

  const bytes = new Uint8Array([
    ...HEADER,
    ...chunk(CONDUCTOR_EVENTS),
    ...chunk(track),
  ]);
  return { bytes, warnings, notes };
}

/** An `MTrk` chunk around `data`. */
function chunk(data: number[]): number[] {
  const n = data.length;
  return [0x4d, 0x54, 0x72, 0x6b, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
    .concat(data);
}

/** A standard variable-length quantity: 7 bits per byte, high bit set on all but the last. */
export function vlq(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0x0fffffff) {
    throw new RangeError(`Cannot encode a MIDI delta: ${value} is outside 0..0x0fffffff`);
  }
  const out = [value & 0x7f];
  for (let v = value >>> 7; v > 0; v >>>= 7) out.unshift((v & 0x7f) | 0x80);
  return out;
}
