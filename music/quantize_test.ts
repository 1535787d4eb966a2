import assert from "node:assert/strict";
import { quantize12, quantizeNoteDuration12 } from "./quantize.ts";

Deno.test("quantize12() snaps to the nearest 1/4 or 1/3, the lower one on a tie", () => {
  // SPEC §7 at tpq 480; results in twelfths.
  const cases: [number, number][] = [
    [200, 4], // 1/3, not 1/2
    [216, 6], // 1/2
    [130, 3], // 1/4
    [60, 0], // tie 0 vs 1/4
    [420, 9], // tie 3/4 vs 1
    [180, 4], // 1/3
    [480, 12],
    [0, 0],
  ];
  for (const [tick, want] of cases) assert.equal(quantize12(tick, 480), want, `tick ${tick}`);
});

Deno.test("quantize12() is exact at tpq 100 and 1024", () => {
  assert.equal(quantize12(25, 100), 3);
  assert.equal(quantize12(12, 100), 0); // 0.12 is nearer 0 than 1/4
  assert.equal(quantize12(13, 100), 3); // 0.13 is nearer 1/4
  assert.equal(quantize12(1024 * 5 + 341, 1024), 64); // 5 + 1/3 - a little
});

Deno.test("quantizeNoteDuration12() gives 1/4 to a short non-grace note, 0 to a grace note", () => {
  assert.equal(quantizeNoteDuration12(10, 480, false), 3);
  assert.equal(quantizeNoteDuration12(0, 480, true), 0);
  assert.equal(quantizeNoteDuration12(-40, 480, false), 3);
  assert.equal(quantizeNoteDuration12(960, 480, false), 24);
});
