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
 * Time and memory grow about linearly with the file, whatever is in it (bench/parse_bench.ts
 * measures the worst shapes up to 16 MiB: about a second and a few hundred MB): events, notes
 * and elements live in typed columns rather than an object each, and the searches music21 does
 * pair by pair (notes into chords, elements into Instrument spans) look only where a match can
 * be.
 *
 * Pure functions on bytes: no Deno APIs.
 *
 * @module
 */
import { IntList } from "./columns.ts";
import { groupNotes } from "./group_notes.ts";
import {
  deduplicate,
  type Instrument,
  instrumentFromNameEvent,
  instrumentFromProgram,
} from "./instruments.ts";
import { normalOrderOfMask } from "./normal_order.ts";
import { pitchName, storedMidi } from "./pitch.ts";
import { quantize12, quantizeNoteDuration12 } from "./quantize.ts";
import {
  isChannelStatus,
  META_STATUS,
  MidiReadError,
  payload,
  readSmf,
  type Smf,
  type SmfEvents,
} from "./smf.ts";

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

/**
 * The paired notes of every track, as columns (a dense file has millions): row `n` is a note
 * from tick `on[n]` to `off[n]` with raw pitch byte `pitch[n]`, tracks one after another, each
 * in note-on order.
 */
interface NoteTable {
  count: number;
  on: Float64Array;
  off: Float64Array;
  pitch: Uint8Array;
}

/**
 * The Notes and Chords of every track, as columns, tracks one after another, each in creation
 * order: element `e`'s notes are `members[memberStart[e] .. memberStart[e + 1])`, its first
 * note first.
 */
interface ElementTable {
  count: number;
  offset12: Float64Array;
  duration12: Float64Array;
  grace: Uint8Array;
  /** The token, as an id for {@link tokenText}. */
  token: Uint16Array;
  memberStart: Int32Array;
  members: IntList;
}

/** What one track contributes. */
interface TrackInfo {
  isNoteTrack: boolean;
  /** Its elements are `[firstElement, endElement)` of the table, in creation order. */
  firstElement: number;
  endElement: number;
  /** The track's Instruments after deduplicate, sorted by quantized offset then file order. */
  instruments: readonly Instrument[];
  /** Their quantized offsets. */
  instrumentOffsets12: Float64Array;
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
  const { order, elements } = parse(readSmf(bytes));
  const tokens: string[] = [];
  for (const e of order) tokens.push(tokenText(elements.token[e]!));
  return tokens;
}

/**
 * A file's tokens, and for every chord token the voicings that made it: the MIDI pitches of each
 * chord (sorted, as music21 stores them, `.`-joined) with how often each occurred. A chord token
 * keeps only pitch classes (a kick and a hi-hat are `0.6`); the voicings say which drums they were.
 *
 * @param bytes the file's bytes
 * @throws {MidiReadError} when music21's `converter.parse` would raise
 */
export function tokenizeWithVoicings(
  bytes: Uint8Array,
): { tokens: string[]; voicings: Map<string, Map<string, number>> } {
  const { order, notes, elements } = parse(readSmf(bytes));
  const { data } = elements.members;
  const tokens: string[] = [];
  const voicings = new Map<string, Map<string, number>>();
  for (const e of order) {
    const token = tokenText(elements.token[e]!);
    tokens.push(token);
    const from = elements.memberStart[e]!;
    const to = elements.memberStart[e + 1]!;
    if (to - from < 2) continue;
    const pitches = new Set<number>();
    for (let m = from; m < to; m++) pitches.add(storedMidi(notes.pitch[data[m]!]!));
    const voicing = [...pitches].sort((a, b) => a - b).join(".");
    let counts = voicings.get(token);
    if (counts === undefined) voicings.set(token, counts = new Map());
    counts.set(voicing, (counts.get(voicing) ?? 0) + 1);
  }
  return { tokens, voicings };
}

/**
 * Parses a MIDI file into the Notes and Chords the tutorial's loop visits, with their
 * quantized offsets and durations.
 *
 * @param bytes the file's bytes
 * @throws {MidiReadError} when music21's `converter.parse` would raise
 */
export function parseMidi(bytes: Uint8Array): ParsedMidi {
  const { branch, order, notes, elements } = parse(readSmf(bytes));
  return { branch, elements: Array.from(order, (e) => musicElement(e, notes, elements)) };
}

/** One element as an object. */
function musicElement(e: number, notes: NoteTable, elements: ElementTable): MusicElement {
  const { data } = elements.members;
  const from = elements.memberStart[e]!;
  const to = elements.memberStart[e + 1]!;
  const midi: number[] = [];
  for (let m = from; m < to; m++) midi.push(storedMidi(notes.pitch[data[m]!]!));
  return {
    cls: to - from > 1 ? "Chord" : "Note",
    offset12: elements.offset12[e]!,
    duration12: elements.duration12[e]!,
    grace: elements.grace[e] === 1,
    midi,
    token: tokenText(elements.token[e]!),
    tick: notes.on[data[from]!]!,
  };
}

/** Steps 2–6 of SPEC §1: the elements, and which of them the tutorial's loop visits in order. */
function parse(smf: Smf): {
  branch: ParsedMidi["branch"];
  order: Int32Array;
  notes: NoteTable;
  elements: ElementTable;
} {
  const capacity = mostNotes(smf.events);
  const notes: NoteTable = {
    count: 0,
    on: new Float64Array(capacity),
    off: new Float64Array(capacity),
    pitch: new Uint8Array(capacity),
  };
  const elements: ElementTable = {
    count: 0,
    offset12: new Float64Array(capacity),
    duration12: new Float64Array(capacity),
    grace: new Uint8Array(capacity),
    token: new Uint16Array(capacity),
    memberStart: new Int32Array(capacity + 1),
    members: new IntList(capacity),
  };
  const pairing = new Pairing();
  const tracks = smf.tracks.map((t, i) =>
    readTrack(smf, t.first, t.end, i + 1, pairing, notes, elements)
  );
  let conductorMax12 = -1;
  for (const t of tracks) {
    if (!t.isNoteTrack) conductorMax12 = Math.max(conductorMax12, t.metaMax12);
  }
  const noteTracks = tracks.filter((t) => t.isNoteTrack);
  const first = noteTracks.find((t) => t.instruments.length > 0);
  if (first === undefined) {
    const runs = noteTracks.map((t) => range(t.firstElement, t.endElement));
    return { branch: "except", order: inSortedOrder(runs, elements), notes, elements };
  }
  const target = first.instruments[0]!.instrumentName;
  const seen = new Uint8Array(elements.count);
  const runs = noteTracks.map((t) => {
    const highest = Math.max(t.ownMax12, t.metaMax12, conductorMax12);
    return takenBy(t, target, highest, elements, seen);
  });
  return { branch: "partition", order: inSortedOrder(runs, elements), notes, elements };
}

/** The most notes the file can pair: one note-on and one note-off each. */
function mostNotes(events: SmfEvents): number {
  let ons = 0;
  let offs = 0;
  for (let r = 0; r < events.count; r++) {
    if ((events.status[r]! & 0xf0) === 0x90 && events.data2[r] !== 0) ons++;
    else if (isNoteOff(events, r)) offs++;
  }
  return Math.min(ons, offs);
}

/** The integers `[from, to)`. */
function range(from: number, to: number): Int32Array {
  const out = new Int32Array(to - from);
  for (let k = 0; k < out.length; k++) out[k] = from + k;
  return out;
}

/**
 * The elements of one track that `parts[0]` takes through the Instruments named `target`
 * (SPEC §9.2), each once, at its first span, in (span, creation) order.
 *
 * That order is by offset too, so a span only needs to look at the elements from its start to
 * its end: every element it accepts has `start <= o` and, unless `end` is NaN, `o <= end`.
 * Spans follow one another, so each element is looked at by a bounded number of spans, except
 * for repeats of one span (many Instruments at one offset), which cannot take anything new and
 * are skipped.
 */
function takenBy(
  track: TrackInfo,
  target: string | null,
  highest: number,
  elements: ElementTable,
  seen: Uint8Array,
): Int32Array {
  const taken = new IntList();
  const { instruments, instrumentOffsets12: starts } = track;
  const { offset12, duration12 } = elements;
  let from = track.firstElement;
  // The last span looked at (a start is never NaN, so the first span is always looked at).
  let lastStart = NaN;
  let lastEnd = NaN;
  for (let k = 0; k < instruments.length; k++) {
    if (instruments[k]!.instrumentName !== target) continue;
    const start = starts[k]!;
    const end = k + 1 < instruments.length ? starts[k + 1]! : highest;
    if (start === lastStart && Object.is(end, lastEnd)) continue;
    lastStart = start;
    lastEnd = end;
    while (from < track.endElement && offset12[from]! < start) from++;
    for (let e = from; e < track.endElement && !(offset12[e]! > end); e++) {
      if (seen[e] || !inSpan(offset12[e]!, duration12[e]!, start, end)) continue;
      seen[e] = 1;
      taken.push(e);
    }
  }
  return taken.data.slice(0, taken.length);
}

/** `OffsetFilter` of `getElementsByOffset(start, end)` as `partitionByInstrument` calls it. */
function inSpan(o: number, d: number, start: number, end: number): boolean {
  if (o > end) return false;
  if (o + d < start) return false;
  if (end <= start && d === 0) return true;
  if (o < start) return false;
  if (o === end) return false;
  return true;
}

/**
 * The elements of all runs (one per note track, in track order), sorted as music21 sorts them
 * (SPEC §10, §11): by offset, grace first, track, then the run's own order (span, creation
 * index). A run is already in offset order, so grace elements are moved first within each
 * offset, and the runs are merged.
 */
function inSortedOrder(runs: Int32Array[], elements: ElementTable): Int32Array {
  for (const run of runs) graceFirst(run, elements);
  return mergeRuns(runs, elements);
}

/** Moves the grace elements of each stretch of equal offsets before the others, stably. */
function graceFirst(run: Int32Array, { offset12, grace }: ElementTable): void {
  for (let a = 0; a < run.length;) {
    const o = offset12[run[a]!]!;
    let b = a + 1;
    while (b < run.length && offset12[run[b]!] === o) b++;
    if (graceAfterOther(run, a, b, grace)) {
      const stretch = run.slice(a, b);
      let w = a;
      for (const e of stretch) if (grace[e]) run[w++] = e;
      for (const e of stretch) if (!grace[e]) run[w++] = e;
    }
    a = b;
  }
}

/** Whether `run[a..b)` has a grace element after a non-grace one: most stretches do not. */
function graceAfterOther(run: Int32Array, a: number, b: number, grace: Uint8Array): boolean {
  let other = false;
  for (let k = a; k < b; k++) {
    if (!grace[run[k]!]) other = true;
    else if (other) return true;
  }
  return false;
}

/**
 * Merges runs sorted by (offset, grace first) into one, an earlier run's element first on a
 * tie: pairs of neighbouring runs are merged until one is left, in O(n log runs).
 */
function mergeRuns(runs: Int32Array[], elements: ElementTable): Int32Array {
  if (runs.length === 0) return new Int32Array(0);
  let level = runs;
  while (level.length > 1) {
    const next: Int32Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? merge(level[i]!, level[i + 1]!, elements) : level[i]!);
    }
    level = next;
  }
  return level[0]!;
}

/** Merges two sorted runs, `left`'s element first on a tie. */
function merge(left: Int32Array, right: Int32Array, { offset12, grace }: ElementTable): Int32Array {
  const out = new Int32Array(left.length + right.length);
  let i = 0;
  let j = 0;
  let w = 0;
  while (i < left.length && j < right.length) {
    const a = left[i]!;
    const b = right[j]!;
    const oa = offset12[a]!;
    const ob = offset12[b]!;
    const rightFirst = ob < oa || (ob === oa && grace[b]! > grace[a]!);
    out[w++] = rightFirst ? right[j++]! : left[i++]!;
  }
  while (i < left.length) out[w++] = left[i++]!;
  while (j < right.length) out[w++] = right[j++]!;
  return out;
}

/** Whether an event row is a note-off: `8n`, or `9n` with velocity 0. */
function isNoteOff(events: SmfEvents, r: number): boolean {
  const hi = events.status[r]! & 0xf0;
  return hi === 0x80 || (hi === 0x90 && events.data2[r] === 0);
}

/** `midiTrackToStream` for one track's event rows `[first, end)` (SPEC §3–§7). */
function readTrack(
  smf: Smf,
  first: number,
  end: number,
  trackNo: number,
  pairing: Pairing,
  notes: NoteTable,
  elements: ElementTable,
): TrackInfo {
  const { events } = smf;
  const tpq = smf.ticksPerQuarter;
  const isNoteTrack = hasNoteOn(events, first, end);
  const firstNote = notes.count;
  if (isNoteTrack) pairing.pair(events, first, end, notes);
  const found = scanInstrumentsAndMeta(smf, first, end, trackNo, isNoteTrack);
  if (
    tpq === 0 && (notes.count > firstNote || found.instrumentCount > 0 || found.metaCount > 0)
  ) {
    throw new MidiReadError(
      `the division is 0 ticks per quarter, so track ${trackNo} has no timing`,
    );
  }
  // Quantizing is monotone, so the largest tick gives the largest quantized offset.
  const metaMax12 = found.metaCount > 0 ? quantize12(found.metaMaxTick, tpq) : -1;
  const firstElement = elements.count;
  if (!isNoteTrack) {
    return {
      isNoteTrack,
      firstElement,
      endElement: firstElement,
      instruments: [],
      instrumentOffsets12: new Float64Array(0),
      metaMax12,
      ownMax12: -1,
    };
  }
  // Ticks never decrease in file order and deduplicate keeps file order, so the Instruments
  // are already sorted by quantized offset, then file order.
  const kept = deduplicate({ instruments: found.instruments, ticks: found.ticks });
  const instrumentOffsets12 = new Float64Array(kept.ticks.length);
  kept.ticks.forEach((t, k) => instrumentOffsets12[k] = quantize12(t, tpq));
  groupNotes(notes.on, notes.off, firstNote, notes.count, tpq, (head, members) => {
    addElement(head, members, tpq, notes, elements);
  });
  let ownMax12 = -1;
  for (let e = firstElement; e < elements.count; e++) {
    ownMax12 = Math.max(ownMax12, elements.offset12[e]! + elements.duration12[e]!);
  }
  for (const o of instrumentOffsets12) ownMax12 = Math.max(ownMax12, o);
  return {
    isNoteTrack,
    firstElement,
    endElement: elements.count,
    instruments: kept.instruments,
    instrumentOffsets12,
    metaMax12,
    ownMax12,
  };
}

/** Whether event rows `[first, end)` hold a note-on (`9n` with a velocity): a note track. */
function hasNoteOn(events: SmfEvents, first: number, end: number): boolean {
  for (let r = first; r < end; r++) {
    if ((events.status[r]! & 0xf0) === 0x90 && events.data2[r] !== 0) return true;
  }
  return false;
}

/** What {@link scanInstrumentsAndMeta} found in a track. */
interface TrackEventsFound {
  /** The Instruments of a note track in file order, with their ticks (empty for others). */
  instruments: Instrument[];
  ticks: number[];
  /** Program changes and instrument or track names, in any track (for the tpq check). */
  instrumentCount: number;
  /** Time signatures, key signatures and tempos, and the largest tick of one. */
  metaCount: number;
  metaMaxTick: number;
}

/**
 * The Instruments (program changes, instrument and track names) and the checked time
 * signatures, key signatures and tempos of event rows `[first, end)`. Instruments are only kept
 * for a note track; other tracks only count them for the tpq check.
 */
function scanInstrumentsAndMeta(
  smf: Smf,
  first: number,
  end: number,
  trackNo: number,
  isNoteTrack: boolean,
): TrackEventsFound {
  const { events } = smf;
  const found: TrackEventsFound = {
    instruments: [],
    ticks: [],
    instrumentCount: 0,
    metaCount: 0,
    metaMaxTick: 0,
  };
  for (let r = first; r < end; r++) {
    const status = events.status[r]!;
    const tick = events.tick[r]!;
    if (isChannelStatus(status)) {
      if ((status & 0xf0) !== 0xc0) continue;
      found.instrumentCount++;
      if (isNoteTrack) {
        found.instruments.push(instrumentFromProgram(events.data1[r]!));
        found.ticks.push(tick);
      }
    } else if (status === META_STATUS) {
      const type = events.data1[r]!;
      if (type === 0x03 || type === 0x04) {
        found.instrumentCount++;
        if (isNoteTrack) {
          found.instruments.push(instrumentFromNameEvent(type, payload(smf, r)));
          found.ticks.push(tick);
        }
      } else if (type === 0x58 || type === 0x59 || type === 0x51) {
        checkMeta(type, payload(smf, r), trackNo, tick);
        found.metaCount++;
        found.metaMaxTick = Math.max(found.metaMaxTick, tick);
      }
    }
  }
  return found;
}

/** The checks music21 makes on a time signature, key signature or tempo (SPEC §4). */
function checkMeta(type: number, d: Uint8Array, trackNo: number, tick: number): void {
  switch (type) {
    case 0x58:
      if (d.length < 2) fail(trackNo, tick, "a time signature has fewer than 2 bytes");
      if (d[0] === 0) fail(trackNo, tick, "a time signature has numerator 0");
      if (d[1]! >= 8) fail(trackNo, tick, `a time signature has denominator 2^${d[1]}`);
      break;
    case 0x59:
      if (d.length < 2) fail(trackNo, tick, "a key signature has fewer than 2 bytes");
      break;
    case 0x51:
      if (d.length < 3) fail(trackNo, tick, "a tempo has fewer than 3 bytes");
      if (d[0] === 0 && d[1] === 0 && d[2] === 0) fail(trackNo, tick, "a tempo is 0");
      break;
  }
}

function fail(trackNo: number, tick: number, what: string): never {
  throw new MidiReadError(`in track ${trackNo} at tick ${tick}, ${what}`);
}

/**
 * A Note or Chord from a group (SPEC §6, §7): a Chord lasts from its last note's on to its
 * first note's off, and either is grace when created with zero length.
 */
function addElement(
  head: number,
  others: readonly number[],
  tpq: number,
  notes: NoteTable,
  elements: ElementTable,
): void {
  const e = elements.count++;
  const isChord = others.length > 0;
  const ticks = isChord
    ? notes.off[head]! - notes.on[others[others.length - 1]!]!
    : notes.off[head]! - notes.on[head]!;
  const grace = ticks === 0;
  elements.offset12[e] = quantize12(notes.on[head]!, tpq);
  elements.duration12[e] = quantizeNoteDuration12(ticks, tpq, grace);
  elements.grace[e] = grace ? 1 : 0;
  elements.members.push(head);
  for (const n of others) elements.members.push(n);
  elements.memberStart[e + 1] = elements.members.length;
  elements.token[e] = isChord ? chordId(head, others, notes) : notes.pitch[head]!;
}

/** Token ids: a raw pitch byte (0–255) for a Note, 256 + the pitch-class mask for a Chord. */
const tokenTexts: (string | undefined)[] = new Array(256 + 4096);

/** The token of an id: each text is made once, not once per note. */
function tokenText(id: number): string {
  return tokenTexts[id] ??= id < 256 ? pitchName(id) : normalOrderOfMask(id - 256).join(".");
}

/** The token id of a chord: its pitch classes as music21 stores the pitches. */
function chordId(head: number, others: readonly number[], notes: NoteTable): number {
  let mask = 1 << (storedMidi(notes.pitch[head]!) % 12);
  for (const n of others) mask |= 1 << (storedMidi(notes.pitch[n]!) % 12);
  return 256 + mask;
}

/**
 * Pairs each note-on with the first later unused note-off of the same pitch and channel, in
 * file order (SPEC §3). Unpaired note-ons are dropped; notes come out in note-on order.
 *
 * The note-offs of a track are listed per (channel, pitch) key; ons are visited in file
 * order, so every unused off before the current on is dead and every used one after it forms
 * a prefix: a cursor per key works. The per-key tables are kept across tracks and reset key by
 * key, as a file may hold 65,535 tracks.
 */
class Pairing {
  /** Offs per key, then where each key's offs start in {@link offRows}. */
  private readonly count = new Int32Array(4096);
  private readonly start = new Int32Array(4096);
  private readonly cursor = new Int32Array(4096);
  private readonly used: number[] = [];

  pair(events: SmfEvents, first: number, end: number, notes: NoteTable): void {
    const { count, start, cursor, used } = this;
    let offs = 0;
    for (let r = first; r < end; r++) {
      if (!isNoteOff(events, r)) continue;
      const key = noteKey(events, r);
      if (count[key] === 0) used.push(key);
      count[key] = count[key]! + 1;
      offs++;
    }
    let at = 0;
    for (const key of used) {
      start[key] = at;
      at += count[key]!;
    }
    const offRows = new Int32Array(offs);
    for (let r = first; r < end; r++) {
      if (!isNoteOff(events, r)) continue;
      const key = noteKey(events, r);
      offRows[start[key]! + cursor[key]!++] = r;
    }
    for (const key of used) cursor[key] = 0;
    for (let r = first; r < end; r++) {
      if ((events.status[r]! & 0xf0) !== 0x90 || events.data2[r] === 0) continue;
      const key = noteKey(events, r);
      const n = count[key]!;
      if (n === 0) continue;
      let c = cursor[key]!;
      while (c < n && offRows[start[key]! + c]! < r) c++;
      if (c < n) {
        const k = notes.count++;
        notes.on[k] = events.tick[r]!;
        notes.off[k] = events.tick[offRows[start[key]! + c]!]!;
        notes.pitch[k] = events.data1[r]!;
        c++;
      }
      cursor[key] = c;
    }
    for (const key of used) count[key] = cursor[key] = 0;
    used.length = 0;
  }
}

/** The pairing key of a channel message: its channel and first data byte. */
function noteKey(events: SmfEvents, r: number): number {
  return ((events.status[r]! & 0x0f) << 8) | events.data1[r]!;
}
