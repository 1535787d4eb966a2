import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "./backend.ts";
import { SequenceBatchNorm, SequenceDense } from "./sequence_head.ts";

// The backend the pipeline trains on, whose transposed products these layers avoid.
await selectBackend("wasm");

const B = 4, T = 5, U = 6, D = 3, V = 7;

/** The head on [B, T, U] with tfjs's layers, or with this module's. */
function head(sequence: boolean): tf.layers.Layer[] {
  const norm = (name: string) =>
    sequence ? new SequenceBatchNorm({ name }) : tf.layers.batchNormalization({ name });
  const dense = (units: number, name: string, seed: number) =>
    sequence ? new SequenceDense({ units, name, seed }) : tf.layers.dense({
      units,
      name,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    });
  return [
    norm("batch_normalization_1"),
    dense(D, "dense_1", 3),
    tf.layers.activation({ activation: "relu", name: "relu" }),
    norm("batch_normalization_2"),
    dense(V, "dense_2", 4),
    tf.layers.activation({ activation: "softmax", name: "softmax" }),
  ];
}

/** Loss (cross-entropy at every step) and the gradients of the trainable weights, in order. */
function lossAndGrads(layers: tf.layers.Layer[], x: tf.Tensor, y: tf.Tensor) {
  const weights = layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const { value, grads } = tf.variableGrads(() => {
    let h = x;
    for (const layer of layers) h = layer.apply(h, { training: true }) as tf.Tensor;
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(h)), -1))) as tf.Scalar;
  }, weights);
  return { value, grads: weights.map((w) => grads[w.name]!) };
}

function assertClose(a: tf.Tensor, b: tf.Tensor, what: string) {
  assert.deepEqual(a.shape, b.shape, what);
  const x = a.dataSync(), y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    assert.ok(
      Math.abs(x[i]! - y[i]!) <= 1e-5 + 1e-4 * Math.abs(y[i]!),
      `${what}[${i}]: ${x[i]} ${y[i]}`,
    );
  }
}

Deno.test("SequenceDense and SequenceBatchNorm compute tfjs's Dense and BatchNormalization, gradients and moving statistics included", () => {
  const x = tf.randomNormal([B, T, U], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.randomUniform([B, T], 0, V, "int32", 2), V);
  const ours = head(true);
  const theirs = head(false);
  // Builds both; the same names, shapes and (from the same seeds) initial values.
  for (const layers of [ours, theirs]) {
    let h = x;
    for (const layer of layers) h = layer.apply(h) as tf.Tensor;
  }
  ours.forEach((layer, i) => {
    const other = theirs[i]!;
    assert.equal(layer.getClassName(), other.getClassName());
    assert.deepEqual(layer.getConfig(), other.getConfig());
    assert.deepEqual(
      layer.weights.map((w) => [w.originalName, w.shape, w.trainable]),
      other.weights.map((w) => [w.originalName, w.shape, w.trainable]),
    );
    layer.getWeights().forEach((w, j) => assertClose(w, other.getWeights()[j]!, layer.name));
  });
  const want = lossAndGrads(theirs, x, y);
  const got = lossAndGrads(ours, x, y);
  assertClose(got.value, want.value, "loss");
  const names = theirs.flatMap((l) => l.trainableWeights.map((w) => w.originalName));
  want.grads.forEach((grad, i) => assertClose(got.grads[i]!, grad, `d ${names[i]}`));
  // The training call moved the moving statistics the same way; inference reads them.
  ours.forEach((layer, i) =>
    layer.getWeights().forEach((w, j) => assertClose(w, theirs[i]!.getWeights()[j]!, layer.name))
  );
  let a = x, b = x;
  for (const layer of ours) a = layer.apply(a) as tf.Tensor;
  for (const layer of theirs) b = layer.apply(b) as tf.Tensor;
  assertClose(a, b, "inference");
});
