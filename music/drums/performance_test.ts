import assert from "node:assert/strict";
import { expressiveDrumsMidi } from "./expressive_drums.ts";
import {
  gridPerformance,
  performanceSlice,
  performanceTokens,
  quantized,
  readPerformance,
} from "./performance.ts";

// kick = class 0, snare = 1, closed hi-hat = 2 (music/drums/drums.ts).
const PLAYED = [
  "kick:v98",
  "@+2",
  "hihat-closed:v43",
  "step",
  "step",
  "@-3",
  "snare:v28",
  "@+1",
  "snare:v63",
  "step", // a flam: two snares in one step
  "step",
];

Deno.test("readPerformance: each hit on its step with its offset; one per drum per step, the loudest", () => {
  const { bytes } = expressiveDrumsMidi(PLAYED, { bpm: 96 });
  const p = readPerformance(bytes, 4);
  assert.equal(p.steps, 3);
  assert.equal(Math.round(p.bpm!), 96);
  assert.deepEqual(p.hits, [
    { step: 0, offset: 0, drumClass: 0, velocity: 98 },
    { step: 0, offset: 2, drumClass: 2, velocity: 43 },
    { step: 2, offset: 1, drumClass: 1, velocity: 63 },
  ]);
});

Deno.test("performanceTokens: a performance written as tokens reads back as the same hits", () => {
  const p = readPerformance(expressiveDrumsMidi(PLAYED).bytes, 4);
  const again = readPerformance(expressiveDrumsMidi(performanceTokens(p, 4)).bytes, 4);
  assert.deepEqual(again.hits, p.hits);
});

Deno.test("quantized and gridPerformance: the grid's hits at one velocity, on the steps", () => {
  const p = readPerformance(expressiveDrumsMidi(PLAYED).bytes, 4);
  assert.deepEqual(quantized(p, 90).hits.map((h) => [h.step, h.drumClass, h.offset, h.velocity]), [
    [0, 0, 0, 90],
    [0, 2, 0, 90],
    [2, 1, 0, 90],
  ]);
  const grid = gridPerformance(["hihat-closed+kick", "-", "snare", "-"], 80);
  assert.equal(grid.steps, 4);
  assert.deepEqual(grid.hits.map((h) => [h.step, h.drumClass]), [[0, 0], [0, 2], [2, 1]]);
  assert.throws(() => gridPerformance(["kick+bongo"], 80), SyntaxError);
});

Deno.test("performanceSlice: steps from..to, moved to start at 0", () => {
  const p = readPerformance(expressiveDrumsMidi(PLAYED).bytes, 4);
  const s = performanceSlice(p, 1, 3);
  assert.equal(s.steps, 2);
  assert.deepEqual(s.hits.map((h) => [h.step, h.drumClass]), [[1, 1]]);
});

Deno.test("performanceTokens: a hit of the first step played early is played at the start", () => {
  const tokens = performanceTokens(
    {
      steps: 2,
      hits: [{ step: 0, offset: -5, drumClass: 0, velocity: 90 }, {
        step: 1,
        offset: -5,
        drumClass: 0,
        velocity: 90,
      }],
    },
    4,
  );
  assert.deepEqual(tokens, ["kick:v88", "step", "@-5", "kick:v88", "step"]);
});
