import assert from "node:assert/strict";
import { contextFreeScore } from "./evaluate.ts";

Deno.test("contextFreeScore() scores the training targets' smoothed frequencies, worked by hand", () => {
  // Targets 0,0,0,1 over 3 tokens, plus one each: counts 4, 2, 1 of 7.
  const score = contextFreeScore(new Int32Array([0, 0, 0, 1]), new Int32Array([0, 1, 2]), 3);
  // −(ln 4/7 + ln 2/7 + ln 1/7) / 3 = ln(7³ / 8) / 3
  assert.ok(Math.abs(score.loss - Math.log(343 / 8) / 3) < 1e-12);
  assert.ok(Math.abs(score.perplexity - Math.exp(score.loss)) < 1e-12);
  assert.equal(score.top1, 1 / 3); // only token 0 is the most frequent
  assert.equal(score.top5, 1); // three tokens: all in the top five
});

Deno.test("contextFreeScore(): tokens never seen as targets rank below every seen one", () => {
  const held = new Int32Array([5, 6]);
  const score = contextFreeScore(new Int32Array([0, 1, 2, 3, 4]), held, 8);
  assert.equal(score.top1, 0);
  assert.equal(score.top5, 0); // five tokens seen once each rank above 5 and 6
  assert.ok(Math.abs(score.loss - Math.log(13)) < 1e-12); // 1 of 5 + 8
});
