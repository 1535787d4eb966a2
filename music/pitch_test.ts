import assert from "node:assert/strict";
import { pitchName, storedMidi } from "./pitch.ts";

Deno.test("pitchName() spells sharps for C, F, G and flats for E, B", () => {
  const cases: [number, string][] = [
    [60, "C4"],
    [61, "C#4"],
    [63, "E-4"],
    [66, "F#4"],
    [68, "G#4"],
    [70, "B-4"],
    [42, "F#2"],
    [0, "C-1"],
    [11, "B-1"],
    [127, "G9"],
  ];
  for (const [m, name] of cases) assert.equal(pitchName(m), name, `MIDI ${m}`);
});

Deno.test("storedMidi() folds data bytes above 127 into the top octave", () => {
  assert.equal(storedMidi(127), 127);
  assert.equal(storedMidi(200), 116);
  assert.equal(pitchName(200), "G#8");
  assert.equal(storedMidi(132), 120); // 108 + 0 is below 115, so +12
  assert.equal(storedMidi(139), 115);
});
