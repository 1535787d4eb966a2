/**
 * Test and bench helper: MIDI files of any size in the shapes that once made the tokenizer run
 * out of memory or take super-linear time (dense program changes, notes, sysex, names, one long
 * track name of short words, many notes at one tick, many tracks). The tests, the fuzz test and
 * bench/parse_bench.ts build them here so that all three measure the same bytes.
 *
 * @module
 */
import { vlq } from "./_smf.ts";

/** Ticks per quarter note of every shape. */
const TPQ = 480;

/** A note-on at delta 0 and its note-off a quarter later, so that a track is a note track. */
const ONE_NOTE = [0, 0x90, 60, 100, 0x83, 0x60, 0x80, 60, 0];

/** The bytes of a whole file from track bodies (format 1 when there are several). */
export function midiFile(tracks: readonly Uint8Array[]): Uint8Array {
  const size = 14 + tracks.reduce((n, t) => n + 8 + t.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6]);
  view.setUint16(8, tracks.length > 1 ? 1 : 0);
  view.setUint16(10, tracks.length);
  view.setUint16(12, TPQ);
  let at = 14;
  for (const t of tracks) {
    out.set([0x4d, 0x54, 0x72, 0x6b], at);
    view.setUint32(at + 4, t.length);
    out.set(t, at + 8);
    at += 8 + t.length;
  }
  return out;
}

/**
 * A track body: `head`, then `unit(i)` for i = 0, 1, … while it fits in `budget` bytes, then
 * `tail`. Every unit must have the same length.
 */
function body(
  budget: number,
  head: readonly number[],
  unit: (i: number) => readonly number[],
  tail: readonly number[] = [],
): Uint8Array {
  const size = unit(0).length;
  const count = Math.max(0, Math.floor((budget - head.length - tail.length) / size));
  const out = new Uint8Array(head.length + count * size + tail.length);
  out.set(head);
  for (let i = 0; i < count; i++) out.set(unit(i), head.length + i * size);
  out.set(tail, head.length + count * size);
  return out;
}

/** File bytes left for one track's body. */
const oneTrack = (bytes: number) => Math.max(0, bytes - 22);

/** Lowercase letters spelling `i` in base 26, `width` letters wide. */
function letters(i: number, width: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < width; k++, i = Math.floor(i / 26)) out.push(0x61 + (i % 26));
  return out;
}

/** One track of running-status program changes (`00 C0 05`, then `00 05` …), no notes. */
function programs(bytes: number): Uint8Array {
  return midiFile([body(oneTrack(bytes), [0, 0xc0, 5], () => [0, 5])]);
}

/** A note track whose program alternates between Piano and Violin before every note. */
function spans(bytes: number): Uint8Array {
  const unit = (i: number) => {
    const pitch = 60 + (i % 12);
    return [0, 0xc0, i % 2 ? 40 : 0, 0, 0x90, pitch, 100, 120, pitch, 0];
  };
  return midiFile([body(oneTrack(bytes), [], unit)]);
}

/** Back-to-back notes 40 ticks long (too far apart to form chords), in running status. */
function notes(bytes: number): Uint8Array {
  const unit = (i: number) => [40, 36 + (i % 48), 100, 40, 36 + (i % 48), 0];
  return midiFile([body(oneTrack(bytes), [0, 0x90, 35, 0], unit)]);
}

/**
 * Many notes starting at tick 0 whose ends are 40 ticks apart, more than tpq/16: none joins
 * another's chord, so grouping compares every pair that the on-ticks allow.
 */
function chordTick(bytes: number): Uint8Array {
  const count = Math.max(1, Math.floor((oneTrack(bytes) - 1) / 6));
  const out = new Uint8Array(1 + count * 6);
  out.set([0, 0x90, 0, 100]);
  for (let i = 1; i < count; i++) out.set([0, i % 128, 100], 1 + 3 * i);
  for (let i = 0; i < count; i++) out.set([40, i % 128, 0], 1 + 3 * count + 3 * i);
  return midiFile([out]);
}

/** Empty sysex messages (`00 F0 01 F7`) after one note. */
function sysex(bytes: number): Uint8Array {
  return midiFile([body(oneTrack(bytes), ONE_NOTE, () => [0, 0xf0, 1, 0xf7])]);
}

/** Distinct five-letter track names (`00 FF 03 05 …`), then one note. */
function names(bytes: number): Uint8Array {
  const unit = (i: number) => [0, 0xff, 0x03, 5, ...letters(i, 5)];
  return midiFile([body(oneTrack(bytes), [], unit, ONE_NOTE)]);
}

/** One track name made of two-letter words (`ab cd …`), then one note. */
function longName(bytes: number): Uint8Array {
  const budget = oneTrack(bytes) - ONE_NOTE.length - 8;
  const words = Math.max(1, Math.floor(budget / 3));
  const text = new Uint8Array(words * 3 - 1).fill(0x20);
  for (let i = 0; i < words; i++) text.set(letters(i * 7919, 2), 3 * i);
  const length = vlq(text.length);
  const track = new Uint8Array(3 + length.length + text.length + ONE_NOTE.length);
  track.set([0, 0xff, 0x03, ...length]);
  track.set(text, 3 + length.length);
  track.set(ONE_NOTE, 3 + length.length + text.length);
  return midiFile([track]);
}

/** As many tracks as the header allows (65,535), each a program change and notes. */
function tracks(bytes: number): Uint8Array {
  const count = Math.max(1, Math.min(65535, Math.floor((bytes - 14) / 24)));
  const budget = Math.floor((bytes - 14) / count) - 8;
  const unit = (i: number) => [0, 40 + (i % 24), 100, 0x60, 40 + (i % 24), 0];
  const track = (t: number) => body(budget, [0, 0xc0, t % 128, 0, 0x90, 60, 100], unit);
  return midiFile(Array.from({ length: count }, (_, t) => track(t)));
}

/** Every shape by name: each builds a file of at most the given number of bytes. */
export const SLOW_SHAPES = {
  programs,
  spans,
  notes,
  chordTick,
  sysex,
  names,
  longName,
  tracks,
} as const satisfies Record<string, (bytes: number) => Uint8Array>;

/** The name of a shape. */
export type SlowShape = keyof typeof SLOW_SHAPES;
