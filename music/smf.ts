/**
 * A Standard MIDI File reader that reproduces music21 6.7.1's `midi` module byte for byte,
 * quirks included (SPEC.md §2): events come back raw, in file order, with the ticks music21
 * would give them. A malformed event that music21 drops is dropped here too, and its delta time
 * is lost; an input on which music21 raises makes {@link readSmf} throw {@link MidiReadError}.
 *
 * Pure functions on bytes: no Deno APIs.
 *
 * @module
 */

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

/** A channel voice or mode message (`8n`–`En`). */
export interface ChannelEvent {
  kind: "channel";
  /** Absolute tick. */
  tick: number;
  /** The effective status byte (after running status): its high nibble is the message type. */
  status: number;
  /** 1-based channel, 1–16. */
  channel: number;
  /** First data byte (pitch, controller, program, …), not range-checked. */
  data1: number;
  /** Second data byte, 0 when missing or unused. */
  data2: number;
}

/** A meta event (`FF`). */
export interface MetaEvent {
  kind: "meta";
  tick: number;
  /** The meta type byte, e.g. 0x03 for SEQUENCE_TRACK_NAME. */
  type: number;
  /** The payload, cut short at the end of the track. */
  data: Uint8Array;
}

/** A system exclusive event (`F0` or `F7`). */
export interface SysexEvent {
  kind: "sysex";
  tick: number;
  status: number;
  data: Uint8Array;
}

/** The typeless event music21 records when fewer than 2 bytes follow a delta time. */
export interface EmptyEvent {
  kind: "empty";
  tick: number;
}

/** One decoded event. */
export type SmfEvent = ChannelEvent | MetaEvent | SysexEvent | EmptyEvent;

/** One `MTrk` chunk. */
export interface SmfTrack {
  events: SmfEvent[];
}

/** A whole file. */
export interface Smf {
  /** 0 or 1. */
  format: number;
  /** Ticks per quarter note; 1024 for SMPTE divisions (music21's default), possibly 0. */
  ticksPerQuarter: number;
  tracks: SmfTrack[];
}

/** Meta types music21 6.7.1 knows; any other makes the event fail (and be dropped). */
const KNOWN_META = new Set([
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
]);

/** Marks an event music21 drops (its `MidiException` inside `processDataToEvents`). */
const DROPPED = -1;

/**
 * Reads a Standard MIDI File the way music21 6.7.1 does.
 *
 * @param bytes the whole file
 * @returns the header fields and every track's events in file order
 * @throws {MidiReadError} where `converter.parse` raises (SPEC §2.5, header and chunk cases)
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
    const end = Math.min(start + length, bytes.length);
    tracks.push({ events: readTrackEvents(bytes, start, end, i + 1) });
    pos = start + length;
  }
  if (tracks.length === 0) {
    throw new MidiReadError("the file declares no tracks");
  }
  return { format, ticksPerQuarter, tracks };
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/**
 * Decodes the events of one track's bytes `[start, end)`, following `processDataToEvents`:
 * running status (defaulting to `90`), dropped events losing their delta, no stop at
 * END_OF_TRACK.
 */
function readTrackEvents(b: Uint8Array, start: number, end: number, trackNo: number): SmfEvent[] {
  const events: SmfEvent[] = [];
  let time = 0;
  let lastStatus = -1;
  let p = start;
  // Scratch results of decode(): the position after the event.
  let next = 0;

  /** Reads a variable-length quantity at `at`; `vlqEnd` is set to the byte after it. */
  let vlqEnd = 0;
  const readVlq = (at: number): number => {
    let value = 0;
    for (;;) {
      if (at >= end) {
        throw new MidiReadError(`a variable-length number runs past the end of track ${trackNo}`);
      }
      const x = b[at++]!;
      value = value * 128 + (x & 0x7f);
      if (!(x & 0x80)) break;
    }
    vlqEnd = at;
    return value;
  };

  /** Decodes the event whose status is `s` and whose first data byte is at `q`. */
  const decode = (s: number, q: number, tick: number): SmfEvent | typeof DROPPED => {
    const hi = s & 0xf0;
    if (hi >= 0x80 && hi <= 0xe0) {
      const channel = (s & 0x0f) + 1;
      const data1 = b[q]!;
      if (hi === 0xc0 || hi === 0xd0) {
        if (data1 > 127) return DROPPED;
        next = q + 1;
        return { kind: "channel", tick, status: s, channel, data1, data2: 0 };
      }
      const has2 = q + 1 < end;
      if (hi === 0xb0 && data1 === 0x7a && !has2) {
        throw new MidiReadError(
          `a local-control message in track ${trackNo} lacks its value`,
        );
      }
      next = has2 ? q + 2 : end;
      return { kind: "channel", tick, status: s, channel, data1, data2: has2 ? b[q + 1]! : 0 };
    }
    if (s === 0xff) {
      const type = b[q]!;
      if (!KNOWN_META.has(type)) return DROPPED;
      const length = readVlq(q + 1);
      const r = vlqEnd;
      const stop = Math.min(r + length, end);
      next = stop;
      return { kind: "meta", tick, type, data: b.subarray(r, stop) };
    }
    if (s === 0xf0 || s === 0xf7) {
      const length = readVlq(q);
      const r = vlqEnd;
      const stop = Math.min(r + length, end);
      next = stop;
      return { kind: "sysex", tick, status: s, data: b.subarray(r, stop) };
    }
    return DROPPED;
  };

  while (p < end) {
    const delta = readVlq(p);
    p = vlqEnd;
    if (end - p < 2) {
      events.push({ kind: "empty", tick: time + delta });
      break;
    }
    const first = b[p]!;
    const running = first < 0x80;
    const s = running ? (lastStatus < 0 ? 0x90 : lastStatus) : first;
    const event = decode(s, running ? p : p + 1, time + delta);
    if (event === DROPPED) continue; // delta lost; resume right after the delta
    time += delta;
    events.push(event);
    p = next;
    if (!running) lastStatus = s;
  }
  return events;
}
