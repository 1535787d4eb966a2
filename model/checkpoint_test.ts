import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildModel } from "./build_model.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { FusedLstm } from "./fused/fused_lstm.ts";
import { fusedLstmImplementation, resolveLstm, TFJS_LSTM } from "./lstm_implementation.ts";

/** The fused layer as the pipeline runs it here, or on tfjs's product where OpenBLAS is missing. */
const FUSED = (() => {
  const auto = resolveLstm("auto");
  return auto.kind === "fused" ? auto : fusedLstmImplementation({ gemm: "tfjs", gates: "js" });
})();

await tf.setBackend("cpu");

function tinyModel(): tf.Sequential {
  const model = buildModel(
    { lstmUnits: 4, lstmLayers: 2, recurrentDropout: 0.3, denseUnits: 3, dropout: 0.3, seed: 2 },
    { vocabSize: 5, windowLength: 6, lstm: TFJS_LSTM },
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

/** The tiny model on the fused LSTM layer. */
function tinyFusedModel(): tf.Sequential {
  const model = buildModel(
    { lstmUnits: 4, lstmLayers: 2, recurrentDropout: 0.3, denseUnits: 3, dropout: 0.3, seed: 2 },
    { vocabSize: 5, windowLength: 6, lstm: FUSED },
  );
  model.compile({ optimizer: tf.train.adam(0.001), loss: "categoricalCrossentropy" });
  return model;
}

const window = () =>
  tf.tensor3d(Array.from({ length: 3 * 6 }, (_, i) => ((i * 7) % 5) / 5), [3, 6, 1]);

Deno.test("a fused-layer checkpoint loads with plain tf.loadLayersModel and predicts the same within 1e-5", async () => {
  const model = tinyFusedModel();
  const files = await saveCheckpoint(model);
  const text = new TextDecoder().decode(files["model.json"]);
  assert.ok(!text.includes("FusedLstm"), "model.json names the project's own layer class");
  const json = JSON.parse(text) as tf.io.ModelJSON;
  const layers = (json.modelTopology as { config: { layers: { class_name: string }[] } }).config
    .layers;
  assert.deepEqual(layers.slice(0, 2).map((l) => l.class_name), ["LSTM", "LSTM"]);
  assert.deepEqual(json.userDefinedMetadata, { fusedLstm: ["lstm_1", "lstm_2"] });
  // What any tfjs user would do with the two files: no project code on the load path.
  const plain = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: files["weights.bin"].slice().buffer,
  }));
  assert.ok(plain.layers.every((l) => !(l instanceof FusedLstm)));
  const x = window();
  const want = model.predict(x) as tf.Tensor, got = plain.predict(x) as tf.Tensor;
  const diff = tf.max(tf.abs(tf.sub(want, got))).dataSync()[0]!;
  assert.ok(diff < 1e-5, `predictions differ by ${diff}`);
  tf.dispose([x, want, got]);
  model.dispose();
  plain.dispose();
});

Deno.test("loadCheckpoint() given a fused implementation brings the fused layers back on it, predicting exactly the same", async () => {
  const model = tinyFusedModel();
  const files = await saveCheckpoint(model);
  const restored = await loadCheckpoint(files, { lstm: FUSED });
  assert.deepEqual(
    restored.layers.slice(0, 2).map((l) => l instanceof FusedLstm && l.implementation === FUSED),
    [true, true],
  );
  const first = restored.layers[0] as FusedLstm;
  assert.deepEqual([first.recurrentDropout, first.recurrentActivation, first.unitForgetBias], [
    0.3,
    "sigmoid",
    true,
  ]);
  const x = window();
  const want = model.predict(x) as tf.Tensor, got = restored.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()));
  // Without a fused implementation the same files load as tf.layers.lstm.
  const plain = await loadCheckpoint(files, { lstm: TFJS_LSTM });
  assert.ok(plain.layers.every((l) => !(l instanceof FusedLstm)));
  tf.dispose([x, want, got]);
  model.dispose();
  restored.dispose();
  plain.dispose();
});
