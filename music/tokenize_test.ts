import assert from "node:assert/strict";
import { pitchName } from "./pitch.ts";
import { MidiReadError, parseMidi, tokenizeMidi, tokenizeWithVoicings } from "./tokenize.ts";
import { SLOW_SHAPES } from "../tests/_slow_shapes.ts";
import { events, meta, smf } from "../tests/_smf.ts";

const on = (delta: number, pitch: number, ch = 0) => [delta, 0x90 | ch, pitch, 100];
const off = (delta: number, pitch: number, ch = 0) => [delta, 0x80 | ch, pitch, 0];

Deno.test("tokenizeMidi() joins simultaneous hits into one chord token", () => {
  const bytes = smf({
    tracks: [
      events([0, 0xc0, 0], on(0, 60), on(0, 64), on(10, 67), off(470, 60), off(0, 64), off(0, 67)),
    ],
  });
  assert.deepEqual(tokenizeMidi(bytes), ["0.4.7"]);
});

Deno.test("tokenizeMidi() spells single notes and orders them by quantized offset", () => {
  const bytes = smf({
    tracks: [events([0, 0xc0, 0], on(0, 63), off(240, 63), on(0, 42), off(240, 42))],
  });
  assert.deepEqual(tokenizeMidi(bytes), ["E-4", "F#2"]);
});

Deno.test("tokenizeMidi() merges onsets tpq/16 apart but not tpq/16 + 1", () => {
  const chord = smf({ tracks: [events(on(0, 60), on(30, 64), off(450, 60), off(0, 64))] });
  const split = smf({ tracks: [events(on(0, 60), on(31, 64), off(449, 60), off(0, 64))] });
  assert.deepEqual(tokenizeMidi(chord), ["0.4"]);
  assert.deepEqual(tokenizeMidi(split), ["C4", "E4"]);
});

Deno.test("tokenizeMidi() lets one note join two chords (6.7.1 duplicate membership)", () => {
  const bytes = smf({
    tracks: [events(on(0, 60), on(0, 64), on(0, 67), off(480, 60), off(20, 67), off(20, 64))],
  });
  assert.deepEqual(tokenizeMidi(bytes), ["7.0", "4.7"]);
});

Deno.test("tokenizeMidi() sorts a grace note before a normal note at the same offset", () => {
  const bytes = smf({ tracks: [events(on(0, 62), on(0, 60), off(0, 60), off(480, 62))] });
  const parsed = parseMidi(bytes);
  assert.deepEqual(parsed.elements.map((e) => [e.token, e.grace]), [["C4", true], ["D4", false]]);
});

Deno.test("tokenizeMidi() falls back to all tracks' notes when no track has an Instrument", () => {
  const bytes = smf({
    format: 1,
    tracks: [
      events([0, ...meta(0x51, [0x07, 0xa1, 0x20])]),
      events(on(0, 60), off(480, 60), on(0, 62), off(480, 62)),
      events(on(0, 48), off(240, 48), on(0, 50), off(240, 50), on(0, 52), off(480, 52)),
    ],
  });
  const parsed = parseMidi(bytes);
  assert.equal(parsed.branch, "except");
  assert.deepEqual(parsed.elements.map((e) => e.token), ["C4", "C3", "D3", "D4", "E3"]);
});

Deno.test("tokenizeMidi() keeps only the first instrument name's part", () => {
  const bytes = smf({
    format: 1,
    tracks: [
      events([0, 0xc0, 40], on(0, 76), off(480, 76)),
      events([0, 0xc1, 0], on(0, 60, 1), off(480, 60, 1)),
    ],
  });
  const parsed = parseMidi(bytes);
  assert.equal(parsed.branch, "partition");
  assert.deepEqual(parsed.elements.map((e) => e.token), ["E5"]);
});

Deno.test("tokenizeMidi() gives nothing for a zero-length first Instrument span", () => {
  // "Piano RH" + program 0 at tick 0 keep two names, and parts[0] is "Piano RH".
  const bytes = smf({
    tracks: [events([0, ...meta(0x03, "Piano RH")], [0, 0xc0, 0], on(0, 60), off(480, 60))],
  });
  assert.deepEqual(tokenizeMidi(bytes), []);
});

Deno.test("tokenizeMidi() throws MidiReadError where music21 raises on meta data", async (t) => {
  const cases: [string, number[]][] = [
    ["time signature numerator 0", meta(0x58, [0, 2, 24, 8])],
    ["time signature of 1 byte", meta(0x58, [4])],
    ["time signature denominator 2^8", meta(0x58, [4, 8, 24, 8])],
    ["key signature of 1 byte", meta(0x59, [0])],
    ["tempo of 2 bytes", meta(0x51, [1, 2])],
    ["tempo 0", meta(0x51, [0, 0, 0])],
  ];
  for (const [name, event] of cases) {
    await t.step(name, () => {
      const bytes = smf({ tracks: [events([0, ...event], on(0, 60), off(480, 60))] });
      assert.throws(() => tokenizeMidi(bytes), MidiReadError);
    });
  }
});

Deno.test("tokenizeMidi() throws for tpq 0 only once there is something to time", () => {
  const noTiming = smf({ division: 0, tracks: [events(on(0, 60))] });
  assert.deepEqual(tokenizeMidi(noTiming), []);
  const paired = smf({ division: 0, tracks: [events(on(0, 60), off(0, 60))] });
  assert.throws(() => tokenizeMidi(paired), MidiReadError);
});

Deno.test("tokenizeMidi() takes near-linear time on 640 KB of notes starting at one tick", () => {
  // No two of them form a chord, so music21's grouping compares every pair: this took 28 s.
  const bytes = SLOW_SHAPES.chordTick(640 << 10);
  const started = performance.now();
  const tokens = tokenizeMidi(bytes);
  assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  // Note k has pitch k % 128; all start at 0 and none is grace, so they come in note order.
  assert.equal(tokens.length, Math.floor((bytes.length - 23) / 6));
  assert.ok(tokens.every((t, k) => t === pitchName(k % 128)));
});

Deno.test("tokenizeMidi() takes near-linear time on a long track name of short words", () => {
  // music21 tries every run of words as a name: cubic, 132 s for these 8 KB.
  const bytes = SLOW_SHAPES.longName(8 << 10);
  const started = performance.now();
  assert.deepEqual(tokenizeMidi(bytes), ["C4"]);
  assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  const short = smf({
    tracks: [events([0, ...meta(0x03, "ab cd")], [0, 0x90, 60, 100], [480, 0x80, 60, 0])],
  });
  assert.deepEqual(tokenizeMidi(short), ["C4"]);
});

Deno.test("tokenizeMidi() takes near-linear time on a program change before every note", () => {
  // Each Piano span was matched against every note of the track: 86 s for 1 MB.
  const bytes = SLOW_SHAPES.spans(256 << 10);
  const started = performance.now();
  const tokens = tokenizeMidi(bytes);
  assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  // Unit k is program 0 (Piano, the first name) when k is even, then a note of pitch 60 + k % 12.
  const units = Math.floor((bytes.length - 22) / 10);
  assert.deepEqual(
    tokens,
    Array.from({ length: Math.ceil(units / 2) }, (_, k) => pitchName(60 + (2 * k) % 12)),
  );
});

/** A chord token: its pitch classes in normal order (one, when all its notes share a class). */
const CHORD = /^\d+(\.\d+)*$/;

Deno.test("tokenizeWithVoicings() gives tokenizeMidi's tokens and counts each chord's pitch sets", async () => {
  const dir = new URL("../data/groove/drummer1/session1/", import.meta.url);
  let chords = 0;
  for await (const e of Deno.readDir(dir)) {
    const bytes = await Deno.readFile(new URL(e.name, dir));
    const { tokens, voicings } = tokenizeWithVoicings(bytes);
    assert.deepEqual(tokens, tokenizeMidi(bytes), e.name);
    for (const [token, counts] of voicings) {
      assert.match(token, CHORD, token);
      const classes = token.split(".").map(Number).sort((a, b) => a - b);
      for (const [voicing, n] of counts) {
        const pitches = voicing.split(".").map(Number);
        assert.deepEqual([...new Set(pitches.map((p) => p % 12))].sort((a, b) => a - b), classes);
        chords += n;
      }
    }
    const chordTokens = tokens.filter((t) => CHORD.test(t)).length;
    assert.equal(
      [...voicings.values()].flatMap((c) => [...c.values()]).reduce((a, b) => a + b, 0),
      chordTokens,
    );
  }
  assert.ok(chords > 100, `${chords} chords`);
});
