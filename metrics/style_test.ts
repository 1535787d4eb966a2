import assert from "node:assert/strict";
import type { ExpressiveHit } from "../music/drums/expressive_drums.ts";
import { expressionStats } from "./expression.ts";
import { fitCentroids, nearestStyle, styleAccuracy, styleFeatures } from "./style.ts";

/** A bar of "jazz" (a swung ride, soft) or "rock" (straight hi-hats, a loud backbeat). */
function piece(style: "jazz" | "rock", jitter: number) {
  const hits: ExpressiveHit[] = [];
  for (let step = 0; step < 64; step += 2) {
    if (style === "jazz") {
      hits.push({
        step,
        drumClass: 4,
        offset: step % 4 === 2 ? 14 + jitter : 0,
        velocity: 50 + jitter,
      });
    } else {
      hits.push({ step, drumClass: 2, offset: jitter, velocity: 70 + jitter });
      if (step % 8 === 4) hits.push({ step, drumClass: 1, offset: 2, velocity: 110 });
    }
  }
  const stats = expressionStats({ hits, stepsPerQuarter: 4, bpm: 120 });
  return { style, features: styleFeatures(stats, 4) };
}

Deno.test("style check: the nearest centroid tells a swung ride from a straight backbeat", () => {
  const train = [0, 1, 2, -1].flatMap((j) => [piece("jazz", j), piece("rock", j)]);
  const model = fitCentroids(train);
  assert.deepEqual(model.styles, ["jazz", "rock"]);
  assert.equal(nearestStyle(model, piece("jazz", 3).features), "jazz");
  assert.equal(styleAccuracy(model, [piece("rock", -2), piece("jazz", -2)]), 1);
  // Asked for jazz, played as rock: not counted as jazz.
  assert.equal(styleAccuracy(model, [{ style: "jazz", features: piece("rock", 0).features }]), 0);
  assert.ok(Number.isNaN(styleAccuracy(model, [])));
});
