import assert from "node:assert/strict";
import {
  EMPTY_STATUS,
  isChannelStatus,
  META_STATUS,
  MidiReadError,
  payload,
  readSmf,
  type Smf,
} from "./smf.ts";
import { SLOW_SHAPES } from "../tests/_slow_shapes.ts";
import { events, meta, smf, vlq } from "../tests/_smf.ts";

/** One event of a track as an object, to compare with what music21 would hold. */
type EventView =
  | { kind: "channel"; tick: number; status: number; channel: number; data1: number; data2: number }
  | { kind: "meta"; tick: number; type: number; data: number[] }
  | { kind: "sysex"; tick: number; status: number; data: number[] }
  | { kind: "empty"; tick: number };

/** The rows of track `t` as objects. */
function eventsOf(s: Smf, t = 0): EventView[] {
  const { first, end } = s.tracks[t]!;
  const { tick, status, data1, data2 } = s.events;
  const out: EventView[] = [];
  for (let r = first; r < end; r++) {
    const st = status[r]!;
    if (isChannelStatus(st)) {
      const channel = (st & 0x0f) + 1;
      out.push({
        kind: "channel",
        tick: tick[r]!,
        status: st,
        channel,
        data1: data1[r]!,
        data2: data2[r]!,
      });
    } else if (st === META_STATUS) {
      out.push({ kind: "meta", tick: tick[r]!, type: data1[r]!, data: [...payload(s, r)] });
    } else if (st === EMPTY_STATUS) {
      out.push({ kind: "empty", tick: tick[r]! });
    } else {
      out.push({ kind: "sysex", tick: tick[r]!, status: st, data: [...payload(s, r)] });
    }
  }
  return out;
}

/** `[tick, status, data1, data2]` of the channel events of track `t`. */
const channel = (s: Smf, t = 0) =>
  eventsOf(s, t).flatMap((e) => e.kind === "channel" ? [[e.tick, e.status, e.data1, e.data2]] : []);

Deno.test("vlq() writes 7 bits per byte, high bit first", () => {
  assert.deepEqual(vlq(0), [0]);
  assert.deepEqual(vlq(480), [0x83, 0x60]);
  assert.deepEqual(vlq(16352), [0xff, 0x60]);
});

Deno.test("readSmf() reads header fields and events with absolute ticks", () => {
  const s = readSmf(
    smf({ tracks: [events([0, 0x90, 60, 100], [480, 0x80, 60, 0], [0, ...meta(0x2f, [])])] }),
  );
  assert.equal(s.format, 0);
  assert.equal(s.ticksPerQuarter, 480);
  assert.deepEqual(channel(s), [[0, 0x90, 60, 100], [480, 0x80, 60, 0]]);
  assert.equal(eventsOf(s)[2]!.kind, "meta");
});

Deno.test("readSmf() gives every kind of event with its fields, track by track", () => {
  const s = readSmf(smf({
    format: 1,
    tracks: [
      events([0, ...meta(0x03, "Piano")], [10, 0xf0, 2, 0x43, 0xf7], [5, 0x93, 60, 100]),
      events([7, 0xc9, 40], [0, 0xf7, 0x83, 0x60, 1]),
    ],
  }));
  assert.deepEqual(eventsOf(s, 0), [
    { kind: "meta", tick: 0, type: 0x03, data: [...new TextEncoder().encode("Piano")] },
    { kind: "sysex", tick: 10, status: 0xf0, data: [0x43, 0xf7] },
    { kind: "channel", tick: 15, status: 0x93, channel: 4, data1: 60, data2: 100 },
  ]);
  // A payload longer than the track is cut at the track's end.
  assert.deepEqual(eventsOf(s, 1), [
    { kind: "channel", tick: 7, status: 0xc9, channel: 10, data1: 40, data2: 0 },
    { kind: "sysex", tick: 7, status: 0xf7, data: [1] },
  ]);
});

Deno.test("readSmf() rejects files music21 cannot read", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["no MThd", new TextEncoder().encode("RIFF....")],
    [
      "header length 8",
      (() => {
        const b = smf({ tracks: [[]] });
        b[7] = 8;
        return b;
      })(),
    ],
    ["format 2", smf({ format: 2, tracks: [[]] })],
    ["SMPTE with low byte 40", smf({ division: 0xe728, tracks: [[]] })],
    ["fewer chunks than declared", smf({ trackCount: 2, tracks: [[0, 0xff, 0x2f, 0]] })],
    ["no tracks", smf({ tracks: [] })],
    ["a delta running off the end", smf({ tracks: [[0x81]] })],
    ["a meta length running off the end", smf({ tracks: [[0, 0xff, 0x2f]] })],
    ["local control without its value", smf({ tracks: [[0, 0xb0, 0x7a]] })],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => assert.throws(() => readSmf(bytes), MidiReadError));
  }
});

Deno.test("readSmf() keeps tpq 1024 for an accepted SMPTE division", () => {
  assert.equal(readSmf(smf({ division: 0xe719, tracks: [[]] })).ticksPerQuarter, 1024);
});

Deno.test("readSmf() applies running status, defaulting to note-on", () => {
  const s = readSmf(smf({ tracks: [[0, 60, 100, 0x83, 0x60, 60, 0, 0, 0x80, 62, 0, 0, 64, 0]] }));
  assert.deepEqual(channel(s), [
    [0, 0x90, 60, 100],
    [480, 0x90, 60, 0],
    [480, 0x80, 62, 0],
    [480, 0x80, 64, 0],
  ]);
});

Deno.test("readSmf() drops an unknown meta event, loses its delta and rereads its bytes", () => {
  // j6: at tick 480 `FF 60 01 00` is dropped; `FF 60` becomes a delta of 16352.
  const s = readSmf(smf({
    tracks: [events([0, 0x90, 60, 100], [480, 0xff, 0x60, 0x01, 0x00], [0, 0x80, 60, 0])],
  }));
  assert.deepEqual(channel(s), [
    [0, 0x90, 60, 100],
    [16352, 0x90, 1, 0],
    [16352, 0x80, 60, 0],
  ]);
});

Deno.test("readSmf() reads a data byte after a meta event as a meta type", () => {
  // LS becomes FF, so `00 3C 40` is `FF 3C 40`: an unknown type, dropped with its delta. `3C`
  // is then read as a delta, and the lone `40` is a short tail that ends the track.
  const s = readSmf(smf({ tracks: [[0, ...meta(0x03, "x"), 0, 0x3c, 0x40]] }));
  assert.deepEqual(eventsOf(s).map((e) => [e.kind, e.tick]), [["meta", 0], ["empty", 60]]);
});

Deno.test("readSmf() keeps reading after END_OF_TRACK", () => {
  const s = readSmf(smf({ tracks: [events([0, ...meta(0x2f, [])], [0, 0x90, 60, 1])] }));
  assert.equal(channel(s).length, 1);
});

Deno.test("readSmf() stops a track at a tail shorter than 2 bytes", () => {
  const s = readSmf(smf({ tracks: [[0, 0x90, 60, 100, 0, 0x80]] }));
  assert.deepEqual(eventsOf(s).map((e) => e.kind), ["channel", "empty"]);
});

Deno.test("readSmf() takes a missing velocity as 0 and drops a program above 127", () => {
  // `C0 90` fails; `C0 90 00` is then read as a delta (1050624), and `90 3C` as a note-on
  // with no velocity byte, which is velocity 0.
  const s = readSmf(smf({ tracks: [[0, 0xc0, 0x90, 0, 0x90, 60]] }));
  assert.deepEqual(channel(s), [[1050624, 0x90, 60, 0]]);
});

Deno.test("readSmf() holds millions of events in a few bytes each", () => {
  // 2 million running-status program changes: an object per event took about 200 bytes.
  const file = SLOW_SHAPES.programs(4 << 20);
  const s = readSmf(file);
  assert.equal(s.events.count, 1 + (file.length - 22 - 3) / 2);
  const columns = Object.values(s.events).filter(ArrayBuffer.isView) as Uint8Array[];
  const held = columns.reduce((n, c) => n + c.byteLength, 0);
  assert.ok(held <= 40 * s.events.count, `${held} bytes for ${s.events.count} events`);
});
