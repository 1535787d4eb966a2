/**
 * The tutorial's tokenizer, reproducing music21 6.7.1 exactly (SPEC.md §1–§12):
 *
 * ```python
 * midi = converter.parse(path)
 * try:
 *     notes_to_parse = instrument.partitionByInstrument(midi).parts[0].recurse()
 * except:
 *     notes_to_parse = midi.flat.notes
 * # Note -> str(pitch); Chord -> '.'.join(str(n) for n in normalOrder)
 * ```
 *
 * Pure functions on bytes: no Deno APIs.
 *
 * @module
 */
import {
  deduplicate,
  type Instrument,
  instrumentFromNameEvent,
  instrumentFromProgram,
  type PlacedInstrument,
} from "./instruments.ts";
import { chordToken } from "./normal_order.ts";
import { pitchName, storedMidi } from "./pitch.ts";
import { quantize12, quantizeNoteDuration12 } from "./quantize.ts";
import { MidiReadError, readSmf, type Smf, type SmfEvent } from "./smf.ts";

export { MidiReadError } from "./smf.ts";

/** One Note or Chord music21 creates, after quantization. */
export interface MusicElement {
  /** `Note` or `Chord`. */
  cls: "Note" | "Chord";
  /** Quantized offset in twelfths of a quarter note. */
  offset12: number;
  /** Quantized quarterLength in twelfths of a quarter note. */
  duration12: number;
  /** Created with zero length (a grace note or chord): sorts before others at its offset. */
  grace: boolean;
  /** MIDI numbers as music21 stores them, in chord order (note-on order). */
  midi: number[];
  /** The tutorial's token. */
  token: string;
  /** Raw tick of the (first) note-on. */
  tick: number;
}

/** What the tutorial's code iterates over for one file. */
export interface ParsedMidi {
  /** `partition` when `partitionByInstrument(...).parts[0]` worked, `except` for `flat.notes`. */
  branch: "partition" | "except";
  /** The Notes and Chords in the order the tutorial's loop sees them. */
  elements: MusicElement[];
}

/** A paired note: on and off ticks, raw pitch byte. */
interface RawNote {
  on: number;
  off: number;
  pitch: number;
}

/** One element with its creation index in its track. */
interface TrackElement extends MusicElement {
  seq: number;
}

/** What one track contributes. */
interface TrackInfo {
  isNoteTrack: boolean;
  elements: TrackElement[];
  /** The track's Instruments after deduplicate, sorted by quantized offset then file order. */
  instruments: { instrument: Instrument; offset12: number }[];
  /** Largest quantized offset of the track's TimeSignature/KeySignature/MetronomeMark, or -1. */
  metaMax12: number;
  /** Largest end (offset + duration) of its Notes, Chords and Instruments, or -1. */
  ownMax12: number;
}

/**
 * Tokenizes a MIDI file exactly as the tutorial does under music21 6.7.1.
 *
 * @param bytes the file's bytes
 * @returns the token list (possibly empty)
 * @throws {MidiReadError} when music21's `converter.parse` would raise
 */
export function tokenizeMidi(bytes: Uint8Array): string[] {
  return parseMidi(bytes).elements.map((e) => e.token);
}

/**
 * Parses a MIDI file into the Notes and Chords the tutorial's loop visits, with their
 * quantized offsets and durations.
 *
 * @param bytes the file's bytes
 * @throws {MidiReadError} when music21's `converter.parse` would raise
 */
export function parseMidi(bytes: Uint8Array): ParsedMidi {
  return parseSmf(readSmf(bytes));
}

/** Steps 2–6 of SPEC §1 on a file already read. */
export function parseSmf(smf: Smf): ParsedMidi {
  const tpq = smf.ticksPerQuarter;
  const tracks = smf.tracks.map((t, i) => readTrack(t.events, tpq, i + 1));
  let conductorMax12 = -1;
  for (const t of tracks) {
    if (!t.isNoteTrack) conductorMax12 = Math.max(conductorMax12, t.metaMax12);
  }
  const noteTracks = tracks.filter((t) => t.isNoteTrack);
  const first = noteTracks.find((t) => t.instruments.length > 0);
  if (first === undefined) return { branch: "except", elements: exceptBranch(noteTracks) };

  const target = first.instruments[0]!.instrument.instrumentName;
  const taken: { element: TrackElement; track: number; span: number }[] = [];
  noteTracks.forEach((track, ti) => {
    const highest = Math.max(track.ownMax12, track.metaMax12, conductorMax12);
    const seen = new Set<TrackElement>();
    const spans = track.instruments;
    for (let k = 0; k < spans.length; k++) {
      if (spans[k]!.instrument.instrumentName !== target) continue;
      const start = spans[k]!.offset12;
      const end = k + 1 < spans.length ? spans[k + 1]!.offset12 : highest;
      for (const element of track.elements) {
        if (seen.has(element) || !inSpan(element, start, end)) continue;
        seen.add(element);
        taken.push({ element, track: ti, span: k });
      }
    }
  });
  taken.sort((a, b) =>
    a.element.offset12 - b.element.offset12 ||
    Number(b.element.grace) - Number(a.element.grace) ||
    a.track - b.track ||
    a.span - b.span ||
    a.element.seq - b.element.seq
  );
  return { branch: "partition", elements: taken.map((t) => strip(t.element)) };
}

/** `OffsetFilter` of `getElementsByOffset(start, end)` as `partitionByInstrument` calls it. */
function inSpan(e: TrackElement, start: number, end: number): boolean {
  const o = e.offset12;
  const d = e.duration12;
  if (o > end) return false;
  if (o + d < start) return false;
  if (end <= start && d === 0) return true;
  if (o < start) return false;
  if (o === end) return false;
  return true;
}

/** `midi.flat.notes`: every note track's elements by offset, grace, track, creation order. */
function exceptBranch(noteTracks: TrackInfo[]): MusicElement[] {
  const all = noteTracks.flatMap((t, ti) => t.elements.map((element) => ({ element, ti })));
  all.sort((a, b) =>
    a.element.offset12 - b.element.offset12 ||
    Number(b.element.grace) - Number(a.element.grace) ||
    a.ti - b.ti ||
    a.element.seq - b.element.seq
  );
  return all.map((x) => strip(x.element));
}

/** Drops the creation index, which only matters for sorting. */
function strip(e: TrackElement): MusicElement {
  const { seq: _seq, ...rest } = e;
  return rest;
}

const isNoteOn = (e: SmfEvent) =>
  e.kind === "channel" && (e.status & 0xf0) === 0x90 && e.data2 !== 0;

const isNoteOff = (e: SmfEvent) =>
  e.kind === "channel" &&
  ((e.status & 0xf0) === 0x80 || ((e.status & 0xf0) === 0x90 && e.data2 === 0));

/** `midiTrackToStream` for one track, up to quantization (SPEC §3–§7). */
function readTrack(events: SmfEvent[], tpq: number, trackNo: number): TrackInfo {
  const notes = pairNotes(events);
  const placed: PlacedInstrument[] = [];
  const metaTicks: number[] = [];
  let isNoteTrack = false;
  for (const e of events) {
    if (e.kind === "channel") {
      const hi = e.status & 0xf0;
      if (hi === 0x90 && e.data2 !== 0) isNoteTrack = true;
      else if (hi === 0xc0) {
        placed.push({ instrument: instrumentFromProgram(e.data1), tick: e.tick });
      }
    } else if (e.kind === "meta") {
      const d = e.data;
      switch (e.type) {
        case 0x58:
          if (d.length < 2) fail(trackNo, e.tick, "a time signature has fewer than 2 bytes");
          if (d[0] === 0) fail(trackNo, e.tick, "a time signature has numerator 0");
          if (d[1]! >= 8) fail(trackNo, e.tick, `a time signature has denominator 2^${d[1]}`);
          metaTicks.push(e.tick);
          break;
        case 0x59:
          if (d.length < 2) fail(trackNo, e.tick, "a key signature has fewer than 2 bytes");
          metaTicks.push(e.tick);
          break;
        case 0x51:
          if (d.length < 3) fail(trackNo, e.tick, "a tempo has fewer than 3 bytes");
          if (d[0] === 0 && d[1] === 0 && d[2] === 0) fail(trackNo, e.tick, "a tempo is 0");
          metaTicks.push(e.tick);
          break;
        case 0x03:
        case 0x04:
          placed.push({ instrument: instrumentFromNameEvent(e.type, d), tick: e.tick });
          break;
      }
    }
  }
  if (tpq === 0 && (notes.length > 0 || placed.length > 0 || metaTicks.length > 0)) {
    throw new MidiReadError(
      `the division is 0 ticks per quarter, so track ${trackNo} has no timing`,
    );
  }
  if (!isNoteTrack) {
    let metaMax12 = -1;
    for (const t of metaTicks) metaMax12 = Math.max(metaMax12, quantize12(t, tpq));
    return { isNoteTrack, elements: [], instruments: [], metaMax12, ownMax12: -1 };
  }

  const instruments = deduplicate(placed)
    .map((p, order) => ({ instrument: p.instrument, offset12: quantize12(p.tick, tpq), order }))
    .sort((a, b) => a.offset12 - b.offset12 || a.order - b.order)
    .map(({ instrument, offset12 }) => ({ instrument, offset12 }));
  const elements = makeElements(notes, tpq);
  let ownMax12 = -1;
  for (const e of elements) ownMax12 = Math.max(ownMax12, e.offset12 + e.duration12);
  for (const i of instruments) ownMax12 = Math.max(ownMax12, i.offset12);
  let metaMax12 = -1;
  for (const t of metaTicks) metaMax12 = Math.max(metaMax12, quantize12(t, tpq));
  return { isNoteTrack, elements, instruments, metaMax12, ownMax12 };
}

function fail(trackNo: number, tick: number, what: string): never {
  throw new MidiReadError(`in track ${trackNo} at tick ${tick}, ${what}`);
}

/**
 * Pairs each note-on with the first later unused note-off of the same pitch and channel, in
 * file order (SPEC §3). Unpaired note-ons are dropped. The result is in note-on order.
 */
function pairNotes(events: SmfEvent[]): RawNote[] {
  // Off positions per (channel, pitch); ons are visited in file order, so every unused off
  // before the current on is dead and every used one after it forms a prefix: a cursor works.
  const offs = new Map<number, number[]>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.kind === "channel" && isNoteOff(e)) {
      const key = e.channel * 256 + e.data1;
      const list = offs.get(key);
      if (list === undefined) offs.set(key, [i]);
      else list.push(i);
    }
  }
  const cursor = new Map<number, number>();
  const notes: RawNote[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.kind !== "channel" || !isNoteOn(e)) continue;
    const key = e.channel * 256 + e.data1;
    const list = offs.get(key);
    if (list === undefined) continue;
    let c = cursor.get(key) ?? 0;
    while (c < list.length && list[c]! < i) c++;
    if (c < list.length) {
      notes.push({ on: e.tick, off: events[list[c]!]!.tick, pitch: e.data1 });
      c++;
    }
    cursor.set(key, c);
  }
  return notes;
}

/**
 * Groups paired notes into Notes and Chords (SPEC §6: tolerance tpq/16 inclusive, compared
 * with the group's first note, gathered notes reusable) and quantizes them (SPEC §7).
 */
function makeElements(notes: RawNote[], tpq: number): TrackElement[] {
  const gathered = new Uint8Array(notes.length);
  const out: TrackElement[] = [];
  for (let i = 0; i < notes.length; i++) {
    if (gathered[i]) continue;
    const head = notes[i]!;
    const group = [head];
    for (let j = i + 1; j < notes.length; j++) {
      const other = notes[j]!;
      if (16 * Math.abs(other.on - head.on) > tpq) break;
      if (16 * Math.abs(other.off - head.off) > tpq) continue;
      group.push(other);
      gathered[i] = 1;
      gathered[j] = 1;
    }
    const isChord = group.length > 1;
    const ticks = isChord ? head.off - group[group.length - 1]!.on : head.off - head.on;
    const grace = ticks === 0;
    const midi = group.map((n) => storedMidi(n.pitch));
    out.push({
      cls: isChord ? "Chord" : "Note",
      offset12: quantize12(head.on, tpq),
      duration12: quantizeNoteDuration12(ticks, tpq, grace),
      grace,
      midi,
      token: isChord ? chordToken(midi) : pitchName(head.pitch),
      tick: head.on,
      seq: out.length,
    });
  }
  return out;
}
