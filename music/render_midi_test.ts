import assert from "node:assert/strict";
import tonejs from "@tonejs/midi";
import { renderMidi, tokensToNotes, vlq } from "./render_midi.ts";

const { Midi } = tonejs;

const REFERENCES = new URL("../../shared/references/music21/", import.meta.url);
const readReference = (name: string) => Deno.readFile(new URL(name, REFERENCES));

/** The tokens of SPEC.md §14.3. */
const PROBE_TOKENS = ["E-4", "F#2", "0", "10.2.4", "C4", "C4", "11.4", "B-3", "4.9", "C-1", "G9"];

const HEADER_AND_CONDUCTOR = [
  "4d546864 00000006 0001 0002 0400",
  "4d54726b 00000014 00ff510307a120 00ff580404021808 8800ff2f00",
].join("");

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return new Uint8Array(clean.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}

Deno.test("renderMidi() writes render-probe.mid byte for byte from the SPEC §14.3 tokens", async () => {
  const expected = await readReference("render-probe.mid");
  const probe = JSON.parse(new TextDecoder().decode(await readReference("render-probe.json")));
  assert.deepEqual(probe.input_tokens, PROBE_TOKENS);
  const { bytes, warnings } = renderMidi(PROBE_TOKENS);
  assert.equal(hex(bytes), hex(expected));
  assert.deepEqual(warnings, []);
});

Deno.test("renderMidi() writes render-groove.mid byte for byte from the first 60 groove tokens", async () => {
  const expected = await readReference("render-groove.mid");
  const groove = JSON.parse(new TextDecoder().decode(await readReference("groove-tokens.json")));
  const tokens: string[] = groove.files["drummer1/eval_session/10_soul-groove10_102_beat_4-4.mid"]
    .slice(0, 60);
  assert.equal(tokens.length, 60);
  const { bytes, warnings } = renderMidi(tokens);
  assert.equal(hex(bytes), hex(expected));
  assert.deepEqual(warnings, []);
});

Deno.test("renderMidi() of no tokens writes both tracks, the note track only a name and its end", () => {
  const { bytes, warnings, notes } = renderMidi([]);
  assert.equal(
    hex(bytes),
    hex(fromHex(HEADER_AND_CONDUCTOR + "4d54726b 00000009 00ff0300 8800ff2f00")),
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(notes, []);
});

Deno.test("renderMidi() writes C#-1 as MIDI 1 and warns that music21 would raise", () => {
  const { bytes, warnings, notes } = renderMidi(["C#-1"]);
  assert.deepEqual(notes, [{ pitch: 1, tick: 0, durationTicks: 1024, token: 0 }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /token 0 "C#-1".*AccidentalException.*MIDI 1/);
  const track = "00ff0300 00e00040 0090015a 8800800100 8800ff2f00";
  assert.equal(hex(bytes), hex(fromHex(HEADER_AND_CONDUCTOR + "4d54726b 00000016" + track)));
});

Deno.test("renderMidi() skips an unparsable token with a warning naming it, keeping its slot", () => {
  const { notes, warnings } = renderMidi(["C4", "xyz", "D4"]);
  assert.deepEqual(notes.map((n) => [n.pitch, n.tick]), [[60, 0], [62, 1024]]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /token 1 "xyz".*skipped/);
});

Deno.test("renderMidi() with only unparsable tokens writes the empty file, no pitch bend", () => {
  const { bytes, warnings } = renderMidi(["xyz", ""]);
  assert.equal(hex(bytes), hex(renderMidi([]).bytes));
  assert.equal(warnings.length, 2);
});

Deno.test("renderMidi() output reads back with @tonejs/midi: pitches, ticks 512·k, 1024 long", () => {
  const tokens = ["E-4", "10.2.4", "C-1", "G9", "4.9"];
  const midi = new Midi(renderMidi(tokens).bytes);
  assert.equal(midi.header.ppq, 1024);
  // @tonejs/midi drops a format-1 conductor track that holds no notes.
  assert.equal(midi.tracks.length, 1);
  const notes = midi.tracks.flatMap((t) => t.notes).map((n) => ({
    pitch: n.midi,
    tick: n.ticks,
    duration: n.durationTicks,
    velocity: Math.round(n.velocity * 127),
  })).sort((a, b) => a.tick - b.tick);
  const expected = [
    [63, 0],
    [70, 512],
    [62, 512],
    [64, 512],
    [23, 1024],
    [127, 1536],
    [64, 2048],
    [69, 2048],
  ].map(([pitch, tick]) => ({ pitch, tick, duration: 1024, velocity: 90 }));
  assert.deepEqual(notes, expected);
  assert.equal(midi.header.tempos[0]?.bpm, 120);
});

Deno.test("renderMidi() spaces tokens by render.step: tick round(k·step·1024), length 1024", () => {
  const { notes } = tokensToNotes(["C4", "D4", "E4", "F4"], { step: 1 / 3 });
  assert.deepEqual(notes.map((n) => n.tick), [0, 341, 683, 1024]);
  assert.ok(notes.every((n) => n.durationTicks === 1024));
  const midi = new Midi(renderMidi(["C4", "D4"], { step: 2 }).bytes);
  assert.deepEqual(midi.tracks[0]?.notes.map((n) => [n.ticks, n.durationTicks]), [
    [0, 1024],
    [2048, 1024],
  ]);
});

Deno.test("renderMidi() at step 0.5 equals the default", () => {
  assert.deepEqual(renderMidi(PROBE_TOKENS, { step: 0.5 }).bytes, renderMidi(PROBE_TOKENS).bytes);
});

Deno.test("renderMidi() rejects a step that is not a positive number", () => {
  for (const step of [0, -1, NaN, Infinity]) {
    assert.throws(() => renderMidi(["C4"], { step }), RangeError);
  }
});

Deno.test("renderMidi() puts same-tick note-offs before note-ons, in token order", () => {
  // A repeated pitch overlaps itself: on@0, on@512, off@1024, off@1536 (SPEC.md §14.2).
  const { bytes } = renderMidi(["C4", "C4", "0.4"]);
  const track = hex(bytes).slice(hex(fromHex(HEADER_AND_CONDUCTOR)).length + 16);
  assert.equal(
    track,
    [
      "00ff0300",
      "00e00040",
      "00903c5a",
      "8400903c5a",
      "8400803c00",
      "00903c5a",
      "0090405a",
      "8400803c00",
      "8400803c00",
      "00804000",
      "8800ff2f00",
    ].join(""),
  );
});

Deno.test("vlq() encodes deltas as standard variable-length quantities", async (t) => {
  for (
    const [value, bytes] of [
      [0, [0x00]],
      [127, [0x7f]],
      [128, [0x81, 0x00]],
      [512, [0x84, 0x00]],
      [1024, [0x88, 0x00]],
      [0x0fffffff, [0xff, 0xff, 0xff, 0x7f]],
    ] as const
  ) {
    await t.step(`${value}`, () => assert.deepEqual(vlq(value), bytes));
  }
  assert.throws(() => vlq(-1), RangeError);
});
