import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildModel } from "./build_model.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";

await tf.setBackend("cpu");

function tinyModel(): tf.Sequential {
  const model = buildModel(
    { lstmUnits: 4, lstmLayers: 2, recurrentDropout: 0.3, denseUnits: 3, dropout: 0.3, seed: 2 },
    { vocabSize: 5, windowLength: 6, kernel: "tfjs" },
  );
  model.compile({ optimizer: tf.train.adam(0.001), loss: "categoricalCrossentropy" });
  return model;
}

Deno.test("loadCheckpoint(saveCheckpoint(model)) predicts exactly what the model predicts", async () => {
  const model = tinyModel();
  const x = tf.tensor3d(Array.from({ length: 3 * 6 }, (_, i) => (i % 5) / 5), [3, 6, 1]);
  const restored = await loadCheckpoint(await saveCheckpoint(model));
  const before = model.predict(x) as tf.Tensor;
  const after = restored.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(after.dataSync()), Array.from(before.dataSync()));
  assert.deepEqual(restored.layers.map((l) => l.name), model.layers.map((l) => l.name));
  tf.dispose([x, before, after]);
  model.dispose();
  restored.dispose();
});

Deno.test("saveCheckpoint() writes a standard layers-model model.json that points at weights.bin", async () => {
  const model = tinyModel();
  const files = await saveCheckpoint(model);
  const json = JSON.parse(new TextDecoder().decode(files["model.json"]));
  assert.equal(json.format, "layers-model");
  assert.equal(json.modelTopology.class_name, "Sequential");
  assert.deepEqual(json.weightsManifest.map((g: { paths: string[] }) => g.paths), [[
    "weights.bin",
  ]]);
  assert.equal(files["weights.bin"].byteLength, model.countParams() * 4);
  assert.equal(json.trainingConfig.loss, "categorical_crossentropy");
  model.dispose();
});

Deno.test("saveCheckpoint() gives the same bytes for the same model", async () => {
  const model = tinyModel();
  const a = await saveCheckpoint(model);
  const b = await saveCheckpoint(model);
  assert.deepEqual(a, b);
  model.dispose();
});

Deno.test("loadCheckpoint() rejects a weights.bin of the wrong size with a sentence", async () => {
  const model = tinyModel();
  const files = await saveCheckpoint(model);
  model.dispose();
  await assert.rejects(
    () => loadCheckpoint({ ...files, "weights.bin": files["weights.bin"].subarray(4) }),
    /weights\.bin has \d+/,
  );
});
