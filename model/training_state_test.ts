import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { restoreTrainingState, saveTrainingState } from "./training_state.ts";

await tf.setBackend("cpu");

function tinyModel(seed: number): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({
    units: 3,
    inputShape: [2],
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  }));
  model.add(tf.layers.batchNormalization());
  return model;
}

async function trained(seed: number) {
  const model = tinyModel(seed);
  const optimizer = tf.train.adam(0.01);
  model.compile({ optimizer, loss: "meanSquaredError" });
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const y = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
  tf.dispose([x, y]);
  return { model, optimizer };
}

const values = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

Deno.test("restoreTrainingState() puts back the weights, Adam's state and the progress", async () => {
  const a = await trained(1);
  const progress = { epoch: 2, losses: [0.5, 0.25], secondsPerEpoch: [1, 1] };
  const files = await saveTrainingState(a.model, a.optimizer, progress, {
    "extra.bin": new Uint8Array([7]),
  });
  assert.deepEqual(files["extra.bin"], new Uint8Array([7]));
  const b = await trained(2); // other weights, the same structure
  assert.notDeepEqual(values(b.model), values(a.model));
  assert.deepEqual(await restoreTrainingState(b.model, b.optimizer, files), progress);
  assert.deepEqual(values(b.model), values(a.model));
  const opt = async (o: tf.Optimizer) =>
    (await o.getWeights()).map((w) => [w.name, Array.from(w.tensor.dataSync())]);
  assert.deepEqual(await opt(b.optimizer), await opt(a.optimizer));
  a.model.dispose();
  b.model.dispose();
});

Deno.test("restoreTrainingState() reads the state earlier versions packed by hand", async () => {
  const a = await trained(1);
  // What saveTrainingState wrote before it used tf.io.encodeWeights: entries {name, dtype,
  // shape} and the raw values back to back.
  const pack = (tensors: { name: string; tensor: tf.Tensor }[]) => {
    const parts = tensors.map(({ tensor }) => {
      const d = tensor.dataSync() as Float32Array | Int32Array;
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return {
      entries: tensors.map(({ name, tensor }) => ({
        name,
        dtype: tensor.dtype,
        shape: tensor.shape,
      })),
      bytes: out,
    };
  };
  const model = pack(a.model.getWeights().map((t, i) => ({ name: String(i), tensor: t })));
  const optimizer = pack(await a.optimizer.getWeights());
  const progress = { epoch: 1, losses: [0.5], secondsPerEpoch: [1] };
  const state = {
    progress,
    model: model.entries,
    optimizer: optimizer.entries,
    betaPowers: [0.9, 0.999],
  };
  const files = {
    "state.json": new TextEncoder().encode(JSON.stringify(state)),
    "model.bin": model.bytes,
    "optimizer.bin": optimizer.bytes,
  };
  const b = await trained(2);
  assert.deepEqual(await restoreTrainingState(b.model, b.optimizer, files), progress);
  assert.deepEqual(values(b.model), values(a.model));
  a.model.dispose();
  b.model.dispose();
});
