import assert from "node:assert/strict";
import { FormatError } from "./codec.ts";
import { humanizerModel } from "./humanizer.ts";
import { weightShapes } from "../model/humanizer/humanize_step.js";
import { humanizerLayout } from "../model/humanizer/humanizer.ts";

const layout = humanizerLayout({ context: 1, stepsPerQuarter: 4, styles: ["funk"], hidden: 3 });
const model = {
  layout,
  weights: weightShapes(layout).map((shape, i) =>
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, j) => (i + 1) * 0.5 - j)
  ),
};
const stored = () => JSON.parse(new TextDecoder().decode(humanizerModel.encode(model)));
const decode = (value: unknown) =>
  humanizerModel.decode(new TextEncoder().encode(JSON.stringify(value)));

Deno.test("humanizer.json: a model round-trips bit for bit; a run without one is null", () => {
  assert.deepEqual(humanizerModel.decode(humanizerModel.encode(model)), model);
  assert.equal(humanizerModel.decode(humanizerModel.encode(null)), null);
});

Deno.test("humanizer.json: a file that is not this humanizer is refused in one sentence", () => {
  const cases: [unknown, RegExp][] = [
    [[1, 2], /it is not an object/],
    [{ ...stored(), layout: { ...layout, hidden: 0 } }, /layout's hidden is 0/],
    [{ ...stored(), layout: { ...layout, drums: 40 } }, /40 drums \(at most 16\)/],
    [
      { ...stored(), layout: { ...layout, stepsPerQuarter: 7 } },
      /stepsPerQuarter 7 does not divide 96/,
    ],
    [{ ...stored(), layout: { ...layout, stepsPerBar: 12 } }, /stepsPerBar is 12, not 4/],
    [{ ...stored(), layout: { ...layout, styles: [3] } }, /styles are not a list of names/],
    [{ ...stored(), weights: stored().weights.slice(1) }, /has 5 weights, not 6/],
    [{ ...stored(), weights: ["!!", ...stored().weights.slice(1)] }, /weight 0 is not base64/],
    [
      { ...stored(), layout: { ...layout, hidden: 4 } },
      /weight 0 holds \d+ numbers where its layout needs \d+/,
    ],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => decode(value),
      (e: Error) => e instanceof FormatError && message.test(e.message),
      JSON.stringify(message),
    );
  }
});
