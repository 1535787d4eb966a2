import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildModel, copyWeights, type NetworkSettings } from "./build_model.ts";
import { selectBackend } from "./backend.ts";
import { resolveLstm, TFJS_LSTM } from "./lstm_implementation.ts";

/** The tutorial's recipe (configs/deep-lstm.yaml). */
const TUTORIAL: NetworkSettings = {
  lstmUnits: 256,
  lstmLayers: 2,
  recurrentDropout: 0.3,
  denseUnits: 128,
  dropout: 0.3,
  seed: 1,
};

const TINY: NetworkSettings = { ...TUTORIAL, lstmUnits: 4, denseUnits: 3 };

/** Keras's LSTM parameter count: four gates, each with input, recurrent and bias weights. */
function lstmParams(inputDim: number, units: number): number {
  return 4 * (units * (inputDim + units) + units);
}

// The cpu backend's QR (orthogonal initialiser) takes minutes at 256 units; wasm takes seconds.
await selectBackend("wasm");

Deno.test("buildModel() gives the tutorial's layers in order with the tutorial's shapes", () => {
  const vocab = 200;
  const model = buildModel(TUTORIAL, { vocabSize: vocab, windowLength: 100, lstm: TFJS_LSTM });
  try {
    assert.deepEqual(
      model.layers.map((l) => [l.name, l.getClassName(), l.outputShape]),
      [
        ["lstm_1", "LSTM", [null, 100, 256]],
        ["lstm_2", "LSTM", [null, 256]],
        ["batch_normalization_1", "BatchNormalization", [null, 256]],
        ["dropout_1", "Dropout", [null, 256]],
        ["dense_1", "Dense", [null, 128]],
        ["relu", "Activation", [null, 128]],
        ["batch_normalization_2", "BatchNormalization", [null, 128]],
        ["dropout_2", "Dropout", [null, 128]],
        ["dense_2", "Dense", [null, vocab]],
        ["softmax", "Activation", [null, vocab]],
      ],
    );
    const expected = lstmParams(1, 256) + // 264,192
      lstmParams(256, 256) + // 525,312
      4 * 256 + // batch norm: gamma, beta, moving mean, moving variance
      (256 * 128 + 128) +
      4 * 128 +
      (128 * vocab + vocab);
    assert.equal(expected, 849_736);
    assert.equal(model.countParams(), expected);
    const nonTrainable = model.nonTrainableWeights.reduce(
      (n, w) => n + tf.util.sizeFromShape(w.shape as number[]),
      0,
    );
    assert.equal(nonTrainable, 2 * (256 + 128)); // the moving statistics
  } finally {
    model.dispose();
  }
});

Deno.test("buildModel() puts recurrent dropout on the first LSTM only and returns sequences from all but the last", () => {
  const model = buildModel({ ...TINY, lstmLayers: 3 }, {
    vocabSize: 5,
    windowLength: 6,
    lstm: TFJS_LSTM,
  });
  try {
    const lstms = model.layers.slice(0, 3).map((l) => l.getConfig());
    assert.deepEqual(lstms.map((c) => c["recurrentDropout"]), [0.3, 0, 0]);
    assert.deepEqual(lstms.map((c) => c["returnSequences"]), [true, true, false]);
    assert.equal(model.layers[3]!.getClassName(), "BatchNormalization");
  } finally {
    model.dispose();
  }
});

Deno.test("buildModel() initialises the same weights for the same seed and different ones for another", () => {
  const weights = (seed: number) => {
    const model = buildModel({ ...TINY, seed }, { vocabSize: 5, windowLength: 6, lstm: TFJS_LSTM });
    const values = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return values;
  };
  assert.deepEqual(weights(7), weights(7));
  assert.notDeepEqual(weights(7), weights(8));
});

Deno.test("buildModel() names every weight the same way in every process", () => {
  // tfjs's automatic names count models built so far; explicit names keep model.json stable.
  const names = () => {
    const model = buildModel(TINY, { vocabSize: 5, windowLength: 6, lstm: TFJS_LSTM });
    const out = model.weights.map((w) => w.originalName);
    model.dispose();
    return out;
  };
  const first = names();
  assert.deepEqual(names(), first);
  assert.ok(first.includes("lstm_1/kernel"), first.join(", "));
});

Deno.test("buildModel() makes training deterministic: two runs of one seed give the same weights", async () => {
  const train = async () => {
    const model = buildModel(TINY, { vocabSize: 5, windowLength: 6, lstm: TFJS_LSTM });
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
    const x = tf.tensor3d(Array.from({ length: 4 * 6 }, (_, i) => (i % 5) / 5), [4, 6, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 5);
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push(await model.trainOnBatch(x, y));
    const values = model.getWeights().map((w) => Array.from(w.dataSync()));
    tf.dispose([x, y]);
    model.dispose();
    return { losses, values };
  };
  assert.deepEqual(await train(), await train());
});

Deno.test("buildModel() with everyStep gives a softmax at every step from the tutorial's layers", () => {
  const options = { vocabSize: 5, windowLength: 6, lstm: TFJS_LSTM };
  const tutorial = buildModel(TINY, options);
  const every = buildModel({ ...TINY, seed: 2 }, { ...options, everyStep: true });
  const x = tf.tensor3d(Array.from({ length: 2 * 6 }, (_, i) => (i % 5) / 5), [2, 6, 1]);
  try {
    assert.deepEqual(every.outputs[0]!.shape, [null, 6, 5]);
    const described = (m: tf.LayersModel) => m.weights.map((w) => [w.originalName, w.shape]);
    assert.deepEqual(described(every), described(tutorial));
    // With its weights copied in, the tutorial's model predicts what the every-step model
    // predicts at the last step.
    copyWeights(every, tutorial);
    const [last, steps] = tf.tidy(() => [
      tutorial.predict(x) as tf.Tensor,
      (every.predict(x) as tf.Tensor).slice([0, 5, 0], [2, 1, 5]).reshape([2, 5]),
    ]);
    const [a, b] = [last!.dataSync(), steps!.dataSync()];
    tf.dispose([last!, steps!]);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6, `${a[i]} ${b[i]}`);
  } finally {
    tf.dispose(x);
    tutorial.dispose();
    every.dispose();
  }
});

const FUSED = resolveLstm("auto", "wasm");

Deno.test({
  name: "buildModel() with everyStep trains on the fused LSTM as on tf.layers.lstm (within 1e-4)",
  ignore: FUSED.kind !== "fused",
  fn: async () => {
    // No dropout: the two draw their masks differently; everything else is the same maths.
    const settings = { ...TINY, lstmUnits: 8, recurrentDropout: 0, dropout: 0 };
    const options = { vocabSize: 5, windowLength: 6, everyStep: true };
    const x = tf.tensor3d(Array.from({ length: 4 * 6 }, (_, i) => ((i * 3) % 5) / 5), [4, 6, 1]);
    const y = tf.oneHot(
      tf.tensor2d(Array.from({ length: 24 }, (_, i) => (i * 2) % 5), [4, 6], "int32"),
      5,
    );
    const reference = buildModel(settings, { ...options, lstm: TFJS_LSTM });
    const fused = buildModel(settings, { ...options, lstm: FUSED });
    copyWeights(reference, fused);
    const losses: number[][] = [];
    for (const model of [reference, fused]) {
      model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
      const seen = [];
      for (let i = 0; i < 3; i++) seen.push(await model.trainOnBatch(x, y) as number);
      losses.push(seen);
    }
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(losses[0]![i]! - losses[1]![i]!) < 1e-4 * losses[0]![i]!, `${losses}`);
    }
    const [want, got] = [reference, fused].map((m) => m.getWeights().map((w) => w.dataSync()));
    want!.forEach((w, i) => {
      const g = got![i]!;
      let num = 0, den = 0;
      for (let j = 0; j < w.length; j++) {
        num += (w[j]! - g[j]!) ** 2;
        den += w[j]! ** 2;
      }
      assert.ok(Math.sqrt(num / Math.max(den, 1e-30)) < 1e-4, reference.weights[i]!.originalName);
    });
    tf.dispose([x, y]);
    for (const model of [reference, fused]) {
      model.optimizer.dispose();
      model.dispose();
    }
  },
});
