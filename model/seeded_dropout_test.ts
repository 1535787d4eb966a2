import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { SeededDropout, seededDropoutFunc } from "./seeded_dropout.ts";

await tf.setBackend("cpu");

function masks(layer: SeededDropout, steps: number, training = true): number[][] {
  const ones = tf.ones([2, 8]);
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    const y = layer.apply(ones, { training }) as tf.Tensor;
    out.push(Array.from(y.dataSync()));
    y.dispose();
  }
  ones.dispose();
  return out;
}

Deno.test("SeededDropout draws a new mask at every training step", () => {
  const [a, b] = masks(new SeededDropout({ rate: 0.5, seed: 3 }), 2);
  assert.notDeepEqual(a, b);
});

Deno.test("SeededDropout repeats its masks for the same seed", () => {
  assert.deepEqual(
    masks(new SeededDropout({ rate: 0.5, seed: 3 }), 3),
    masks(new SeededDropout({ rate: 0.5, seed: 3 }), 3),
  );
});

Deno.test("SeededDropout passes inputs through outside training", () => {
  assert.deepEqual(masks(new SeededDropout({ rate: 0.5, seed: 3 }), 1, false), [Array(16).fill(1)]);
});

Deno.test("SeededDropout serialises as a standard Dropout layer", () => {
  const layer = new SeededDropout({ rate: 0.25, seed: 9, name: "drop" });
  assert.equal(layer.getClassName(), "Dropout");
  const restored = tf.layers.dropout(layer.getConfig() as unknown as { rate: number });
  assert.equal(restored.getConfig()["rate"], 0.25);
});

Deno.test("seededDropoutFunc() gives repeatable masks that change between calls", () => {
  const run = () => {
    const f = seededDropoutFunc(5);
    const ones = tf.ones([16]);
    const out = [0, 1].map(() => {
      const m = f(ones, 0.5);
      const v = Array.from(m.dataSync());
      m.dispose();
      return v;
    });
    ones.dispose();
    return out;
  };
  const first = run();
  assert.deepEqual(run(), first);
  assert.notDeepEqual(first[0], first[1]);
});
