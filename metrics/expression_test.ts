import assert from "node:assert/strict";
import type { ExpressiveHit } from "../music/drums/expressive_drums.ts";
import { close } from "../tests/_metrics.ts";
import {
  compareExpression,
  correlation,
  expressionStats,
  mergeTemplates,
  templateMeans,
} from "./expression.ts";

/** A hit; drum class 1 is the snare in DRUM_CLASS_NAMES, 0 the kick. */
const hit = (step: number, offset: number, velocity = 80, drumClass = 1): ExpressiveHit => ({
  step,
  offset,
  drumClass,
  velocity,
});

/** Sixteenths at 120 bpm, the grid most tests play on. */
const at120 = (hits: ExpressiveHit[]) => expressionStats({ hits, stepsPerQuarter: 4, bpm: 120 });

Deno.test("expressionStats: a straight piece on the grid has no offset and a swing of 1", () => {
  const s = at120([0, 2, 4, 6, 8, 10].map((step) => hit(step, 0)));
  assert.equal(s.hits, 6);
  assert.equal(s.meanAbsOffsetMs, 0);
  assert.equal(s.meanOffsetMs, 0);
  assert.equal(s.swing, 1);
});

Deno.test("expressionStats: off-beat eighths 16/96 of a quarter late are a triplet swing", () => {
  // f = 0.5 + 16/96 = 2/3 of the beat, so f / (1 − f) = 2; the on-beat hits do not move it.
  const s = at120([hit(0, 0), hit(2, 16), hit(4, 0), hit(6, 16), hit(1, 5), hit(3, -5)]);
  close(s.swing!, (0.5 + 16 / 96) / (0.5 - 16 / 96));
  close(s.swing!, 2);
  // A rushed off-beat swings below 1.
  assert.ok(at120([hit(2, -8)]).swing! < 1);
});

Deno.test("expressionStats: swing is null without off-beat eighths or on an odd grid", () => {
  assert.equal(at120([hit(0, 0), hit(1, 3), hit(3, -3)]).swing, null);
  const triplets = expressionStats({ hits: [hit(1, 0), hit(2, 0)], stepsPerQuarter: 3, bpm: 90 });
  assert.equal(triplets.swing, null);
  // Eighth-note grid: the off-beat eighth is every odd step.
  const eighths = expressionStats({ hits: [hit(1, 16), hit(3, 16)], stepsPerQuarter: 2, bpm: 90 });
  close(eighths.swing!, 2);
});

Deno.test("expressionStats: offsets are milliseconds at the piece's tempo", () => {
  // 12 units = 1/8 quarter = 62.5 ms at 120 bpm; in the mean |offset| ahead counts as behind.
  const s = at120([hit(0, 12), hit(1, -12)]);
  assert.equal(s.meanAbsOffsetMs, 62.5);
  assert.equal(s.meanOffsetMs, 0);
  const late = at120([hit(0, 12), hit(1, 12)]);
  assert.equal(late.meanOffsetMs, 62.5);
  // The same offset is twice as long at half the tempo.
  const slow = expressionStats({ hits: [hit(0, 12)], stepsPerQuarter: 4, bpm: 60 });
  assert.equal(slow.meanAbsOffsetMs, 125);
  const early = at120([hit(0, -6)]);
  assert.equal(early.meanOffsetMs, -31.25);
});

Deno.test("expressionStats: velocity mean and spread, overall and per drum class", () => {
  const s = at120([hit(0, 0, 40, 0), hit(4, 0, 80, 0), hit(2, 0, 60, 1)]);
  assert.equal(s.velocityMean, 60);
  close(s.velocitySpread, Math.sqrt(800 / 3));
  assert.deepEqual(s.velocityByDrum[0], { hits: 2, mean: 60, spread: 20 });
  assert.deepEqual(s.velocityByDrum[1], { hits: 1, mean: 60, spread: 0 });
  assert.equal(s.velocityByDrum.length, 9);
  assert.deepEqual(s.velocityByDrum.slice(2), [null, null, null, null, null, null, null]);
  const pair = at120([hit(0, 0, 40), hit(1, 0, 80)]);
  assert.equal(pair.velocitySpread, 20);
});

Deno.test("expressionStats: an empty piece gives zeros and no swing, never NaN", () => {
  const s = expressionStats({ hits: [], stepsPerQuarter: 4, bpm: 90 });
  assert.deepEqual(
    [s.hits, s.meanAbsOffsetMs, s.meanOffsetMs, s.velocityMean, s.velocitySpread, s.swing],
    [0, 0, 0, 0, 0, null],
  );
  assert.ok(s.velocityByDrum.every((d) => d === null));
  assert.deepEqual(s.template.count, new Array(16).fill(0));
  assert.deepEqual(templateMeans(s.template).offsetMs, new Array(16).fill(null));
});

Deno.test("expressionStats: the template sums by step in the bar, across bars", () => {
  // Steps 1 and 17 (the same step a bar later) and a step before the start (−15 ≡ 1).
  const s = at120([hit(1, 12, 30), hit(17, -6, 50), hit(-15, 0, 70), hit(4, 0, 100)]);
  assert.equal(s.template.count.length, 16);
  assert.equal(s.template.count[1], 3);
  assert.equal(s.template.velocitySum[1], 150);
  const means = templateMeans(s.template);
  close(means.offsetMs[1]!, (62.5 - 31.25) / 3);
  assert.equal(means.velocity[1], 50);
  assert.equal(means.velocity[4], 100);
  assert.equal(means.velocity[0], null);
  assert.equal(
    expressionStats({ hits: [], stepsPerQuarter: 3, bpm: 90 }).template.count.length,
    12,
  );
});

Deno.test("expressionStats: a tempo or a grid it cannot measure at is a RangeError", () => {
  for (const bpm of [0, -120, NaN, Infinity]) {
    assert.throws(() => expressionStats({ hits: [], stepsPerQuarter: 4, bpm }), RangeError);
  }
  for (const stepsPerQuarter of [0, -4, 2.5, NaN]) {
    assert.throws(() => expressionStats({ hits: [], stepsPerQuarter, bpm: 120 }), RangeError);
  }
  assert.throws(
    () => expressionStats({ hits: [], stepsPerQuarter: 4, bpm: 0 }),
    /tempo must be a number of bpm above 0 \(found 0\)/,
  );
});

Deno.test("mergeTemplates: pieces pool hit-weighted, step by step in the bar", () => {
  const a = at120([hit(0, 12, 100)]);
  const b = at120([hit(16, 0, 40), hit(32, 0, 40), hit(48, 0, 40), hit(5, 0, 90)]);
  const merged = mergeTemplates([a.template, b.template]);
  assert.equal(merged.count[0], 4);
  const means = templateMeans(merged);
  // Hit-weighted: (100 + 3 × 40) / 4 = 55, not the mean of the pieces' means (70).
  assert.equal(means.velocity[0], 55);
  close(means.offsetMs[0]!, 62.5 / 4);
  assert.equal(means.velocity[5], 90);
  assert.deepEqual(mergeTemplates([a.template]), a.template);
  assert.deepEqual(mergeTemplates([]), { count: [], offsetMsSum: [], velocitySum: [] });
});

Deno.test("correlation: 1 with itself, −1 with its negation, null where it means nothing", () => {
  const template = templateMeans(
    at120([hit(0, 0, 110), hit(2, 10, 50), hit(4, 2, 90), hit(6, 14, 45), hit(8, -3, 100)])
      .template,
  ).velocity;
  close(correlation(template, template)!, 1);
  close(correlation(template, template.map((v) => (v === null ? null : -v)))!, -1);
  // Scale and shift do not matter: only the shape does.
  close(correlation(template, template.map((v) => (v === null ? null : 3 * v + 7)))!, 1);
  // Only indices where both sides have a value count.
  close(correlation([1, 2, null, 3, 9], [2, 4, 5, 6, null])!, 1);
  assert.equal(correlation([3, 3, 3], [1, 2, 3]), null);
  assert.equal(correlation([1, 2, 3], [5, 5, 5]), null);
  assert.equal(correlation([1, 2], [1, 2]), null);
  assert.equal(correlation([1, 2, null], [1, 2, 3]), null);
  assert.equal(correlation([], []), null);
});

Deno.test("compareExpression: pieces like the files are within their spread, templates correlate 1", () => {
  const piece = (late: number) =>
    expressionStats({
      hits: Array.from({ length: 32 }, (_, step) => ({
        step,
        offset: step % 4 === 2 ? late : 0,
        drumClass: 2,
        velocity: step % 4 === 0 ? 100 : 50 + late,
      })),
      stepsPerQuarter: 4,
      bpm: 100,
    });
  const files = [piece(2), piece(4), piece(6)];
  const report = compareExpression([piece(4)], files);
  assert.ok(Object.values(report.statistics).every((s) => s.withinOneStd), JSON.stringify(report));
  assert.equal(report.testFiles, 3);
  assert.ok(Math.abs(report.accentCorrelation! - 1) < 1e-9);
  assert.ok(Math.abs(report.templateCorrelation! - 1) < 1e-9);
  const far = compareExpression([piece(12)], files);
  assert.equal(far.statistics["mean absolute offset (ms)"]!.withinOneStd, false);
});
