import assert from "node:assert/strict";
import { storedMidi } from "./pitch.ts";
import { tokenPitches } from "./token_pitches.ts";

Deno.test("tokenPitches() reads chord tokens as pitch classes in octave 4, in token order", async (t) => {
  for (
    const [token, pitches] of [
      ["0", [60]],
      ["4", [64]],
      ["10", [70]],
      ["11", [71]],
      ["10.2.4", [70, 62, 64]],
      ["11.4", [71, 64]],
      ["8.0.3.4", [68, 60, 63, 64]],
      ["60", [60]],
      ["12.40", [12, 40]],
      ["0.0", [60, 60]],
    ] as const
  ) {
    await t.step(token, () => assert.deepEqual(tokenPitches(token), { pitches }));
  }
});

Deno.test("tokenPitches() reads note names as music21 does, the octave -1 trap included", async (t) => {
  for (
    const [token, midi] of [
      ["E-4", 63],
      ["D#4", 63],
      ["F#2", 42],
      ["G9", 127],
      ["B#3", 60],
      ["C4", 60],
      ["B-0", 22],
      ["C", 60],
      ["c4", 60],
      ["C-1", 23],
      ["D-1", 25],
      ["E--1", 26],
      ["E-1", 27],
      ["F-1", 28],
      ["G-1", 30],
      ["A-1", 32],
      ["B--1", 33],
      ["B-1", 34],
    ] as const
  ) {
    await t.step(token, () => assert.deepEqual(tokenPitches(token), { pitches: [midi] }));
  }
});

Deno.test("tokenPitches() writes the pitch a token names where music21 would raise, and warns", async (t) => {
  for (
    const [token, midi] of [
      ["C#-1", 1],
      ["F#-1", 6],
      ["G#-1", 8],
    ] as const
  ) {
    await t.step(token, () => {
      const { pitches, warning } = tokenPitches(token);
      assert.deepEqual(pitches, [midi]);
      assert.match(warning ?? "", /AccidentalException.*MIDI/);
    });
  }
});

Deno.test("tokenPitches() gives no pitch and a warning for a token that names none", () => {
  for (const token of ["xyz", "", "H4", "C?4"]) {
    const { pitches, warning } = tokenPitches(token);
    assert.deepEqual(pitches, [], token);
    assert.match(warning ?? "", /skipped/, token);
  }
});

Deno.test("tokenPitches() keeps the good parts of a chord token with a bad part, and warns", () => {
  const { pitches, warning } = tokenPitches("1.x.4");
  assert.deepEqual(pitches, [61, 64]);
  assert.match(warning ?? "", /ValueError.*"x"/);
});

Deno.test("tokenPitches() wraps pitches above 127 into the top octave as music21 does", () => {
  assert.deepEqual(tokenPitches("200").pitches, [116]);
  assert.deepEqual(tokenPitches("C10").pitches, [120]);
  assert.match(tokenPitches("C10").warning ?? "", /above 127/);
});

Deno.test("storedMidi() follows Pitch.midi of music21 6.7.1", () => {
  assert.equal(storedMidi(128), 116);
  assert.equal(storedMidi(200), 116);
  assert.equal(storedMidi(132), 120);
  assert.equal(storedMidi(-10), 2);
  assert.equal(storedMidi(0), 0);
  assert.equal(storedMidi(127), 127);
});
