/**
 * Drum hits in and out of Standard MIDI Files: what the drum encodings share. The drum grid
 * (music/drums/drum_grid.ts) and the expressive drum encoding (music/drums/expressive_drums.ts) read a
 * file's hits the same way and write their tokens back through the same file layout, so that
 * both agree on what a hit is and what a rendered file holds.
 *
 * Pure functions on values: no Deno APIs.
 *
 * @module
 */
import { drumClassOf } from "./drums.ts";
import { vlq } from "../render_midi.ts";
import { isChannelStatus, META_STATUS, payload, readSmf } from "../smf.ts";

/** Ticks per quarter note of the files {@link drumMidiFile} writes. */
export const DRUM_MIDI_TICKS_PER_QUARTER = 480;

/** Note-ons on pitches outside the nine drum classes, counted per pitch, by pitch. */
export type UnmappedPitches = { pitch: number; count: number }[];

/**
 * A file's drum hits: every note-on with velocity above 0 on a pitch of the nine drum classes,
 * on any channel, in file order, as columns (hit `i` is row `i`).
 */
export interface DrumHits {
  /** The file's ticks per quarter note (music/smf.ts reads an SMPTE division as 1024). */
  ticksPerQuarter: number;
  /** How many hits there are. */
  count: number;
  /** Absolute tick of each hit. */
  tick: Float64Array;
  /** Index in DRUM_CLASSES (music/drums/drums.ts) of each hit's pitch. */
  drumClass: Uint8Array;
  /** MIDI velocity of each hit, 1–127. */
  velocity: Uint8Array;
  /** Every note-on with velocity above 0, mapped or not. */
  noteOns: number;
  /**
   * Quarter notes per minute of the file's first set-tempo event (wherever it is), or undefined
   * without one. Tempo never moves a hit in ticks; it says how long a tick lasts, so what a
   * timing error of a few ticks sounds like. Groove holds one tempo per file.
   */
  bpm?: number;
  /** Note-ons on pitches outside the nine classes. */
  unmapped: UnmappedPitches;
}

/**
 * Reads a file's drum hits. Every note-on with velocity above 0 counts, on any channel: Groove
 * plays everything on channel 10, but drum files from elsewhere do not always, and a note on a
 * pitch outside the nine classes is counted in `unmapped` rather than dropped unseen.
 *
 * The columns are at most as long as the file has events, so memory follows the file's bytes; an
 * encoding that makes a token per time step must still bound its steps itself.
 *
 * @param bytes the file's bytes
 * @param action what the caller does, for the error message (`encode a drum grid`)
 * @returns the hits, the note-on count and the pitches outside the map
 * @throws {MidiReadError} when the file cannot be read (music/smf.ts)
 * @throws {RangeError} for a file with 0 ticks per quarter note
 */
export function readDrumHits(bytes: Uint8Array, action: string): DrumHits {
  const smf = readSmf(bytes);
  if (smf.ticksPerQuarter <= 0) {
    throw new RangeError(`Cannot ${action}: the file has 0 ticks per quarter note`);
  }
  const { count, status, data1, data2 } = smf.events;
  let n = 0;
  for (let row = 0; row < count; row++) {
    const s = status[row]!;
    if (isChannelStatus(s) && (s & 0xf0) === 0x90 && data2[row]! !== 0) n++;
  }
  const hits: DrumHits = {
    ticksPerQuarter: smf.ticksPerQuarter,
    count: 0,
    tick: new Float64Array(n),
    drumClass: new Uint8Array(n),
    velocity: new Uint8Array(n),
    noteOns: n,
    unmapped: [],
  };
  const unmapped = new Map<number, number>();
  for (let row = 0; row < count; row++) {
    const s = status[row]!;
    if (s === META_STATUS && data1[row] === 0x51 && hits.bpm === undefined) {
      const us = payload(smf, row);
      const micros = us.length === 3 ? (us[0]! << 16) | (us[1]! << 8) | us[2]! : 0;
      if (micros > 0) hits.bpm = 60_000_000 / micros;
    }
    if (!isChannelStatus(s) || (s & 0xf0) !== 0x90 || data2[row]! === 0) continue;
    const pitch = data1[row]!;
    const index = drumClassOf(pitch);
    if (index === undefined) {
      unmapped.set(pitch, (unmapped.get(pitch) ?? 0) + 1);
      continue;
    }
    hits.tick[hits.count] = smf.events.tick[row]!;
    hits.drumClass[hits.count] = index;
    hits.velocity[hits.count] = data2[row]!;
    hits.count++;
  }
  hits.unmapped = [...unmapped].sort(([a], [b]) => a - b).map(([pitch, c]) => ({
    pitch,
    count: c,
  }));
  return hits;
}

/**
 * Why a file gave no tokens, as a sentence to show: no note-on at all, or none in the classes.
 *
 * @param hits what {@link readDrumHits} read
 * @param what the encoding's name for the message (`drum grid`)
 */
export function noHitsWarning(hits: DrumHits, what: string): string {
  if (hits.noteOns === 0) {
    return `the file has no note-on with velocity above 0, so its ${what} is empty`;
  }
  const pitches = hits.unmapped.map(({ pitch }) => pitch).join(", ");
  return `none of the file's ${hits.noteOns} note-ons is on a pitch of the nine drum classes ` +
    `(pitches ${pitches}), so its ${what} is empty`;
}

/** One note {@link drumMidiFile} writes. */
export interface DrumMidiNote {
  /** A General MIDI drum key. */
  pitch: number;
  /** Start, in ticks at {@link DRUM_MIDI_TICKS_PER_QUARTER}. */
  tick: number;
  /** Length in ticks. */
  durationTicks: number;
  /** MIDI velocity 1–127. */
  velocity: number;
}

/**
 * `bpm` or `fallback`, within what a MIDI tempo (1 to 2^24 − 1 µs per quarter) can say.
 *
 * @param value the tempo asked for, in quarter notes per minute
 * @param fallback the tempo when none is asked for
 * @param action what the caller does, for the error message (`decode a drum grid`)
 * @throws {RangeError} for a tempo MIDI cannot write
 */
export function checkedBpm(value: number | undefined, fallback: number, action: string): number {
  const bpm = value ?? fallback;
  const micros = Math.round(60_000_000 / bpm);
  if (!Number.isFinite(bpm) || bpm <= 0 || micros < 1 || micros > 0xffffff) {
    throw new RangeError(
      `Cannot ${action}: bpm must be a number from about 3.6 to 60000000 (found ${bpm})`,
    );
  }
  return bpm;
}

/**
 * Writes drum notes as a Standard MIDI File: format 0, {@link DRUM_MIDI_TICKS_PER_QUARTER} ticks
 * per quarter, the tempo and 4/4 at tick 0, then the notes on channel 10, ending at `endTick` or
 * after the last event, whichever is later. music/render_midi.ts writes create_midi's fixed layout
 * (120 bpm, one velocity), which cannot carry a tempo or a velocity, so the drum encodings write
 * this one; the bytes depend on the notes, the tempo and the end only.
 *
 * At one tick, note-offs come before note-ons, so a drum struck again the tick its last note ends
 * ends that note before the new one begins; otherwise events keep the notes' order.
 *
 * @param notes the notes, in the order to write simultaneous note-ons
 * @param bpm quarter notes per minute, checked by {@link checkedBpm}
 * @param endTick the tick the track lasts to at least
 * @param name the track's name, written first where given (what a DAW labels the clip with;
 *   ASCII, at most 127 characters); without it the bytes are as they always were
 */
export function drumMidiFile(
  notes: readonly DrumMidiNote[],
  bpm: number,
  endTick: number,
  name?: string,
): Uint8Array {
  const microsPerQuarter = Math.round(60_000_000 / bpm);
  const events = notes.flatMap((note, seq) => [
    { tick: note.tick, rank: 1, seq, bytes: [0x99, note.pitch, note.velocity] },
    { tick: note.tick + note.durationTicks, rank: 0, seq, bytes: [0x89, note.pitch, 0] },
  ]).sort((a, b) => a.tick - b.tick || a.rank - b.rank || a.seq - b.seq);
  const title = name === undefined
    ? []
    : [...name.replace(/[^\x20-\x7e]/g, "?").slice(0, 127)].map((c) => c.charCodeAt(0));
  const track = [
    ...(title.length > 0 ? [0x00, 0xff, 0x03, title.length, ...title] : []),
    ...[0x00, 0xff, 0x51, 0x03],
    ...[(microsPerQuarter >> 16) & 0xff, (microsPerQuarter >> 8) & 0xff, microsPerQuarter & 0xff],
    ...[0x00, 0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08], // 4/4
  ];
  let now = 0;
  for (const event of events) {
    track.push(...vlq(event.tick - now), ...event.bytes);
    now = event.tick;
  }
  const end = Math.max(now, endTick);
  track.push(...vlq(end - now), 0xff, 0x2f, 0x00);
  const n = track.length;
  return new Uint8Array([
    ...[0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1],
    DRUM_MIDI_TICKS_PER_QUARTER >> 8,
    DRUM_MIDI_TICKS_PER_QUARTER & 0xff,
    ...[0x4d, 0x54, 0x72, 0x6b, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff],
    ...track,
  ]);
}
