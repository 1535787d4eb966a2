import assert from "node:assert/strict";
import { drumPitches, gmDrum } from "./drums.ts";

Deno.test("gmDrum() keeps General MIDI kit keys and plays the TD-11's hi-hat edges as hi-hats", () => {
  assert.deepEqual([36, 38, 42, 51, 81].map(gmDrum), [36, 38, 42, 51, 81]);
  assert.equal(gmDrum(22), 42, "closed hi-hat edge");
  assert.equal(gmDrum(26), 46, "open hi-hat edge");
  assert.equal(gmDrum(30), 50, "an out-of-kit tom: its class's first pitch");
  assert.equal(gmDrum(12), 12, "a pitch no class knows stays");
});

Deno.test("drumPitches() puts a chord on its most frequent voicing and a note on its pitch", () => {
  const pitches = drumPitches({
    "0.6": [{ pitches: [36, 42], count: 9 }, { pitches: [24, 30], count: 2 }],
    "10": [{ pitches: [22, 46], count: 3 }],
  });
  assert.deepEqual(pitches("0.6"), { pitches: [36, 42] });
  assert.deepEqual(pitches("F#2"), { pitches: [42] });
  assert.deepEqual(pitches("10"), { pitches: [42, 46] });
  assert.deepEqual(pitches("B-0"), { pitches: [42] }, "22, the closed hi-hat edge");
  const unseen = pitches("0.4.7");
  assert.deepEqual(unseen.pitches, [60, 64, 67]);
  assert.match(unseen.warning ?? "", /no training file played this chord/);
});
