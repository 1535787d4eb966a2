/**
 * A Standard MIDI File reader that reproduces music21 6.7.1's `midi` module byte for byte,
 * quirks included (SPEC.md §2): events come back raw, in file order, with the ticks music21
 * would give them. A malformed event that music21 drops is dropped here too, and its delta time
 * is lost; an input on which music21 raises makes {@link readSmf} throw {@link MidiReadError}.
 *
 * Events are rows of typed columns, about 20 bytes each, and payloads stay in the file's bytes:
 * an object per event took 2–3 GB for 50 MB of dense events and ran out of memory.
 *
 * Pure functions on bytes: no Deno APIs.
 *
 * @module
 */
import { widen } from "./columns.ts";

/**
 * Thrown where music21 6.7.1 could not read the file. The message is one sentence,
 * `Cannot read MIDI: <reason>`.
 */
export class MidiReadError extends Error {
  override name = "MidiReadError";
  /** What is wrong with the file, e.g. `the file does not start with an MThd header`. */
  readonly reason: string;

  /** @param reason what is wrong with the file, as a clause without a final period */
  constructor(reason: string) {
    super(`Cannot read MIDI: ${reason}`);
    this.reason = reason;
  }
}

/** The status of the typeless event music21 records when fewer than 2 bytes follow a delta. */
export const EMPTY_STATUS = 0;
/** The status of a meta event (`FF`). */
export const META_STATUS = 0xff;

/** Whether a status byte is a channel voice or mode message (`8n`–`En`). */
export const isChannelStatus = (status: number): boolean => status >= 0x80 && status < 0xf0;

/**
 * Every event of a file as columns (event `i` is row `i`), in file order, track after track:
 * a dense 16 MiB file holds 8 million events, far too many for one object each.
 */
export interface SmfEvents {
  /** How many rows are in use; the columns may be longer. */
  count: number;
  /** Absolute tick. */
  tick: Float64Array;
  /**
   * A channel message's effective status (after running status; its high nibble is the
   * message type, its low nibble the channel − 1), {@link META_STATUS}, `F0`/`F7` for sysex,
   * or {@link EMPTY_STATUS}.
   */
  status: Uint8Array;
  /** A channel message's first data byte (pitch, controller, program, …), a meta type. */
  data1: Uint8Array;
  /** A channel message's second data byte, 0 when missing or unused. */
  data2: Uint8Array;
  /** Where a meta or sysex payload starts in the file's bytes. */
  payloadStart: Uint32Array;
  /** Where it ends (exclusive): cut short at the end of its track. */
  payloadEnd: Uint32Array;
}

/** One `MTrk` chunk: the rows `[first, end)` of {@link Smf.events}. */
export interface SmfTrack {
  first: number;
  end: number;
}

/** A whole file. */
export interface Smf {
  /** 0 or 1. */
  format: number;
  /** Ticks per quarter note; 1024 for SMPTE divisions (music21's default), possibly 0. */
  ticksPerQuarter: number;
  /** The file's bytes, which meta and sysex payloads point into. */
  bytes: Uint8Array;
  events: SmfEvents;
  tracks: SmfTrack[];
}

/** A meta or sysex event's payload, a view of the file's bytes. */
export function payload(smf: Smf, row: number): Uint8Array {
  return smf.bytes.subarray(smf.events.payloadStart[row], smf.events.payloadEnd[row]);
}

/** Meta types music21 6.7.1 knows (1 at the type); any other makes the event fail (dropped). */
const KNOWN_META = new Uint8Array(256);
for (
  const type of [
    0x00,
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    0x08,
    0x09,
    0x20,
    0x21,
    0x2f,
    0x51,
    0x54,
    0x58,
    0x59,
    0x7f,
  ]
) KNOWN_META[type] = 1;

/** The growable columns {@link readSmf} fills. */
class EventColumns implements SmfEvents {
  count = 0;
  tick: Float64Array;
  status: Uint8Array;
  data1: Uint8Array;
  data2: Uint8Array;
  payloadStart: Uint32Array;
  payloadEnd: Uint32Array;

  constructor(capacity: number) {
    this.tick = new Float64Array(capacity);
    this.status = new Uint8Array(capacity);
    this.data1 = new Uint8Array(capacity);
    this.data2 = new Uint8Array(capacity);
    this.payloadStart = new Uint32Array(capacity);
    this.payloadEnd = new Uint32Array(capacity);
  }

  /** Appends a row (payload columns left 0) and returns its index. */
  push(tick: number, status: number, data1: number, data2: number): number {
    if (this.count === this.tick.length) this.grow();
    const row = this.count++;
    this.tick[row] = tick;
    this.status[row] = status;
    this.data1[row] = data1;
    this.data2[row] = data2;
    return row;
  }

  /** Doubles every column: amortised O(1) per row, at most twice the memory needed. */
  private grow(): void {
    const size = this.tick.length * 2;
    this.tick = widen(this.tick, size);
    this.status = widen(this.status, size);
    this.data1 = widen(this.data1, size);
    this.data2 = widen(this.data2, size);
    this.payloadStart = widen(this.payloadStart, size);
    this.payloadEnd = widen(this.payloadEnd, size);
  }
}

/**
 * Reads a Standard MIDI File the way music21 6.7.1 does.
 *
 * @param bytes the whole file, under 4 GiB (payload offsets are 32-bit)
 * @returns the header fields and every track's events in file order
 * @throws {MidiReadError} where `converter.parse` raises (SPEC §2.5, header and chunk cases)
 * @throws {RangeError} for a file of 4 GiB or more
 */
export function readSmf(bytes: Uint8Array): Smf {
  if (
    bytes.length < 4 || bytes[0] !== 0x4d || bytes[1] !== 0x54 || bytes[2] !== 0x68 ||
    bytes[3] !== 0x64
  ) {
    throw new MidiReadError("the file does not start with an MThd header");
  }
  if (bytes.length < 14) {
    throw new MidiReadError(`the header is cut short (${bytes.length} bytes)`);
  }
  if (bytes.length > 0xffffffff) throw new RangeError("a MIDI file of 4 GiB or more");
  const headerLength = u32(bytes, 4);
  if (headerLength !== 6) {
    throw new MidiReadError(`the header length is ${headerLength}, not 6`);
  }
  const format = u16(bytes, 8);
  if (format !== 0 && format !== 1) {
    throw new MidiReadError(`format ${format} is not supported (only 0 and 1)`);
  }
  const trackCount = u16(bytes, 10);
  const division = u16(bytes, 12);
  let ticksPerQuarter = 1024;
  if (division & 0x8000) {
    const low = division & 0xff;
    if (low !== 24 && low !== 25 && low !== 29 && low !== 30) {
      throw new MidiReadError(`SMPTE division with frame value ${low}`);
    }
  } else {
    ticksPerQuarter = division & 0x7fff;
  }
  // Most events take 3 or 4 bytes; the columns double when a file packs them denser.
  const events = new EventColumns(16 + (bytes.length >> 2));
  const tracks: SmfTrack[] = [];
  let pos = 14;
  for (let i = 0; i < trackCount; i++) {
    if (
      pos + 4 > bytes.length || bytes[pos] !== 0x4d || bytes[pos + 1] !== 0x54 ||
      bytes[pos + 2] !== 0x72 || bytes[pos + 3] !== 0x6b
    ) {
      throw new MidiReadError(
        `track ${i + 1} of ${trackCount} does not start with MTrk`,
      );
    }
    if (pos + 8 > bytes.length) {
      throw new MidiReadError(`the length of track ${i + 1} is cut short`);
    }
    const length = u32(bytes, pos + 4);
    const start = pos + 8;
    const first = events.count;
    readTrackEvents(bytes, start, Math.min(start + length, bytes.length), i + 1, events);
    tracks.push({ first, end: events.count });
    pos = start + length;
  }
  if (tracks.length === 0) {
    throw new MidiReadError("the file declares no tracks");
  }
  return { format, ticksPerQuarter, bytes, events, tracks };
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/**
 * Decodes the events of one track's bytes `[start, end)` into `out`, following
 * `processDataToEvents`: running status (defaulting to `90`), dropped events losing their
 * delta, no stop at END_OF_TRACK.
 */
function readTrackEvents(
  b: Uint8Array,
  start: number,
  end: number,
  trackNo: number,
  out: EventColumns,
): void {
  const track = new TrackDecoder(b, end, trackNo, out);
  let time = 0;
  let lastStatus = -1;
  let p = start;
  while (p < end) {
    const delta = track.readVlq(p);
    p = track.vlqEnd;
    if (end - p < 2) {
      out.push(time + delta, EMPTY_STATUS, 0, 0);
      break;
    }
    const first = b[p]!;
    const running = first < 0x80;
    const s = running ? (lastStatus < 0 ? 0x90 : lastStatus) : first;
    const next = track.decode(s, running ? p : p + 1, time + delta);
    if (next < 0) continue; // dropped: its delta is lost; resume right after the delta
    time += delta;
    p = next;
    if (!running) lastStatus = s;
  }
}

/** Reads the numbers and events of one track's bytes, up to `end`, into rows of `out`. */
class TrackDecoder {
  /** Where the last {@link readVlq} stopped: the byte after the number. */
  vlqEnd = 0;

  constructor(
    readonly b: Uint8Array,
    readonly end: number,
    readonly trackNo: number,
    readonly out: EventColumns,
  ) {}

  /** The variable-length number at `at`; sets {@link vlqEnd}. */
  readVlq(at: number): number {
    const { b, end } = this;
    let value = 0;
    for (;;) {
      if (at >= end) {
        throw new MidiReadError(
          `a variable-length number runs past the end of track ${this.trackNo}`,
        );
      }
      const x = b[at++]!;
      value = value * 128 + (x & 0x7f);
      if (!(x & 0x80)) break;
    }
    this.vlqEnd = at;
    return value;
  }

  /**
   * Decodes the event whose status is `s` and whose first data byte is at `q` into a new row,
   * returning the position after it, or -1 where music21 drops the event.
   */
  decode(s: number, q: number, tick: number): number {
    const { b, end, out } = this;
    const hi = s & 0xf0;
    if (hi >= 0x80 && hi <= 0xe0) {
      const data1 = b[q]!;
      if (hi === 0xc0 || hi === 0xd0) {
        if (data1 > 127) return -1;
        out.push(tick, s, data1, 0);
        return q + 1;
      }
      const has2 = q + 1 < end;
      if (hi === 0xb0 && data1 === 0x7a && !has2) {
        throw new MidiReadError(
          `a local-control message in track ${this.trackNo} lacks its value`,
        );
      }
      out.push(tick, s, data1, has2 ? b[q + 1]! : 0);
      return has2 ? q + 2 : end;
    }
    if (s === META_STATUS) {
      const type = b[q]!;
      if (!KNOWN_META[type]) return -1;
      return this.pushPayload(tick, s, type, this.readVlq(q + 1));
    }
    if (s === 0xf0 || s === 0xf7) return this.pushPayload(tick, s, 0, this.readVlq(q));
    return -1;
  }

  /** A meta or sysex row whose payload of `length` bytes starts at {@link vlqEnd}. */
  pushPayload(tick: number, s: number, type: number, length: number): number {
    const { out } = this;
    const stop = Math.min(this.vlqEnd + length, this.end);
    const row = out.push(tick, s, type, 0);
    out.payloadStart[row] = this.vlqEnd;
    out.payloadEnd[row] = stop;
    return stop;
  }
}
