import assert from "node:assert/strict";
import { lossCurveSvg } from "./loss_curve.ts";
import { assertWellFormedSvg } from "../tests/_svg.ts";

/** The points of the loss polyline. */
function polylinePoints(svg: string): string[] {
  const m = /<polyline class="loss" points="([^"]*)"/.exec(svg);
  return m?.[1]?.split(" ") ?? [];
}

Deno.test("lossCurveSvg() draws a polyline with one point per epoch and marks the lowest", () => {
  const losses = [4.2, 3.1, 2.5, 2.2, 2.3, 2.4];
  const svg = lossCurveSvg(losses, { title: "quick" });
  assertWellFormedSvg(svg);
  assert.equal(polylinePoints(svg).length, 6);
  assert.ok(svg.includes("best 2.200 @ epoch 4"));
  assert.ok(svg.includes(">epoch</text>"));
  assert.ok(svg.includes(">loss</text>"));
  assert.ok(svg.includes("quick"));
});

Deno.test("lossCurveSvg() marks the epoch given as best", () => {
  const svg = lossCurveSvg([4, 3, 2, 1], { best: 1 });
  assert.ok(svg.includes("best 3.000 @ epoch 2"));
});

Deno.test("lossCurveSvg() ignores a best index that points at no finite loss", () => {
  for (const best of [-1, 9, 1.5, 2]) {
    const svg = lossCurveSvg([4, 3, NaN, 3.5], { best });
    assert.ok(svg.includes("best 3.000 @ epoch 2"), `best ${best}`);
  }
});

Deno.test("lossCurveSvg() handles a single epoch", () => {
  const svg = lossCurveSvg([3.21]);
  assertWellFormedSvg(svg);
  assert.equal(polylinePoints(svg).length, 1);
  assert.ok(svg.includes("best 3.210 @ epoch 1"));
  assert.ok(svg.includes(">1</text>"));
});

Deno.test("lossCurveSvg() skips NaN and infinite losses and says how many", () => {
  const svg = lossCurveSvg([5, NaN, 4, Infinity, 3, -Infinity, 2.5]);
  assertWellFormedSvg(svg);
  assert.equal(polylinePoints(svg).length, 4);
  assert.ok(svg.includes("3 non-finite skipped"));
  assert.ok(svg.includes("@ epoch 7"));
});

Deno.test("lossCurveSvg() of no finite losses draws empty axes and says so", () => {
  for (const losses of [[], [NaN, NaN]]) {
    const svg = lossCurveSvg(losses);
    assertWellFormedSvg(svg);
    assert.equal(polylinePoints(svg).length, 0);
    assert.ok(svg.includes("no finite loss values"));
    assert.ok(!svg.includes('class="best"'));
  }
});

Deno.test("lossCurveSvg() handles equal losses and a long run", () => {
  assertWellFormedSvg(lossCurveSvg([2, 2, 2]));
  const long = Array.from({ length: 500 }, (_, i) => 5 / (1 + i / 20));
  const svg = lossCurveSvg(long);
  assertWellFormedSvg(svg);
  assert.equal(polylinePoints(svg).length, 500);
});

Deno.test("lossCurveSvg() draws the context-free loss as a level line, inside the axes", () => {
  // A level above every loss must still be drawn: the axis range grows to hold it.
  const svg = lossCurveSvg([3, 2, 1], { validation: [3.5, 3.2, 3.1], contextFree: 4 });
  assertWellFormedSvg(svg);
  assert.ok(svg.includes(">ignoring context 4.000</text>"));
  const level = /<g class="context-free"><line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)"/
    .exec(svg);
  assert.ok(level, "no level line");
  assert.equal(level[1], level[2]);
  const ys = [
    ...polylinePoints(svg),
    ...(/class="val-loss" points="([^"]*)"/.exec(svg)![1]!)
      .split(" "),
  ].map((p) => Number(p.split(",")[1]));
  // Higher loss is higher on the page (smaller y): the level is above every point, yet on the page.
  for (const y of ys) assert.ok(Number(level[1]) < y, `level ${level[1]} not above ${y}`);
  assert.ok(Number(level[1]) > 0);
  assert.ok(!lossCurveSvg([3, 2, 1]).includes("context-free"));
});
