import assert from "node:assert/strict";
import { curveColor, lossCurvesSvg } from "./curves.ts";
import { assertWellFormedSvg } from "../tests/_svg.ts";

/** The `d` of every curve of `kind`, keyed by the run it belongs to. */
function curves(svg: string, kind: "train" | "validation"): Map<string, string> {
  const re = new RegExp(`<path class="curve ${kind}" data-run="([^"]*)" d="([^"]*)"`, "g");
  return new Map([...svg.matchAll(re)].map((m) => [m[1]!, m[2]!]));
}

Deno.test("lossCurvesSvg() overlays one solid training curve per run, in its own colour", () => {
  const svg = lossCurvesSvg([
    { label: "aaaa", train: [4.2, 3.1, 2.5] },
    { label: "bbbb", train: [4.0, 3.6, 3.3, 3.1] },
  ]);
  assertWellFormedSvg(svg);
  const train = curves(svg, "train");
  assert.deepEqual([...train.keys()], ["aaaa", "bbbb"]);
  assert.equal(train.get("aaaa")!.split(/[ML]/).filter(Boolean).length, 3);
  assert.equal(train.get("bbbb")!.split(/[ML]/).filter(Boolean).length, 4);
  assert.equal(curves(svg, "validation").size, 0);
  assert.ok(!svg.includes("stroke-dasharray"), "no dashed line without validation");
  assert.ok(svg.includes(`stroke="${curveColor(0)}"`) && svg.includes(`stroke="${curveColor(1)}"`));
  // The legend names each run; the axes are labelled and ticked up to the longest run.
  assert.match(svg, />aaaa<\/text>/);
  assert.match(svg, />bbbb<\/text>/);
  assert.ok(svg.includes(">epoch</text>") && svg.includes(">loss</text>"));
  assert.ok(svg.includes(">4</text>"), "an x tick at epoch 4");
  assert.ok(svg.includes("2 runs · 4 epochs"));
});

Deno.test("lossCurvesSvg() draws validation loss dashed, only for the runs that have it", () => {
  const svg = lossCurvesSvg([
    { label: "with", train: [3, 2], validation: [3.5, 3.2] },
    { label: "without", train: [3, 2.5] },
  ]);
  assertWellFormedSvg(svg);
  assert.deepEqual([...curves(svg, "validation").keys()], ["with"]);
  assert.deepEqual([...curves(svg, "train").keys()], ["with", "without"]);
  assert.match(svg, /<path class="curve validation"[^>]* stroke-dasharray="7 4"/);
  assert.ok(svg.includes("solid: training, dashed: validation"));
  assert.ok(svg.includes(">validation</text>"), "the legend says what dashed means");
});

Deno.test("lossCurvesSvg() breaks a line at non-finite losses and survives empty input", () => {
  const svg = lossCurvesSvg([{ label: "x", train: [5, NaN, 4, 3, Infinity, 2] }]);
  assertWellFormedSvg(svg);
  const d = curves(svg, "train").get("x")!;
  assert.equal(d.match(/M/g)?.length, 3, d);
  assert.equal(d.match(/L/g)?.length, 1, d);
  for (const series of [[], [{ label: "none", train: [] }], [{ label: "nan", train: [NaN] }]]) {
    const empty = lossCurvesSvg(series);
    assertWellFormedSvg(empty);
    assert.ok(empty.includes("no finite loss values"));
    assert.equal(curves(empty, "train").size, 0);
  }
});

Deno.test("lossCurvesSvg() escapes labels and notes and grows to fit a long legend", () => {
  const svg = lossCurvesSvg(
    Array.from({ length: 14 }, (_, i) => ({
      label: `<run & ${i}>`,
      note: `lr="${i}" & more text than the legend has room for`,
      train: [3 - i / 10, 2 - i / 10],
    })),
  );
  assertWellFormedSvg(svg);
  assert.ok(svg.includes("&lt;run &amp; 0&gt;"));
  assert.ok(!svg.includes("<run &"));
  const height = Number(/^<svg [^>]*height="(\d+)"/.exec(svg)![1]);
  assert.ok(height > 380, `height ${height}`);
  assert.equal(curveColor(10), curveColor(0));
});

Deno.test("lossCurvesSvg() handles a single epoch and one run", () => {
  const svg = lossCurvesSvg([{ label: "one", train: [3.21], validation: [3.5] }]);
  assertWellFormedSvg(svg);
  assert.ok(svg.includes(">1</text>"));
  assert.match(svg, /<g class="markers train"[^>]*>\n<circle /);
  assert.ok(svg.includes("1 run · 1 epoch"));
});

Deno.test("lossCurvesSvg() says when a run's curves are another's exactly", () => {
  const svg = lossCurvesSvg([
    { label: "aaaaaaaaaaaa", train: [3, 2], note: "t=0.5" },
    { label: "bbbbbbbbbbbb", train: [3, 2], note: "t=1" },
    { label: "cccccccccccc", train: [3, 2.5] },
  ]);
  assert.ok(svg.includes(">same curves as aaaaaaaa · t=1</text>"));
  assert.ok(svg.includes(">t=0.5</text>"));
  assert.equal(svg.match(/same curves as/g)?.length, 1);
});
