import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { loadBlas } from "./blas.ts";
import { buildModel } from "./build_model.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { FusedLstm } from "./fused_lstm.ts";

const HAS_BLAS = loadBlas() !== null;

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

/** The tiny model on the fused LSTM layer (tfjs's product where OpenBLAS is missing). */
function tinyFusedModel(): tf.Sequential {
  const model = buildModel(
    { lstmUnits: 4, lstmLayers: 2, recurrentDropout: 0.3, denseUnits: 3, dropout: 0.3, seed: 2 },
    { vocabSize: 5, windowLength: 6, kernel: "blas" },
  );
  if (!HAS_BLAS) { for (const l of model.layers) if (l instanceof FusedLstm) l.setGemm("tfjs"); }
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

Deno.test({
  name: "loadCheckpoint() brings the fused layers back as FusedLstm, predicting exactly the same",
  ignore: !HAS_BLAS,
  fn: async () => {
    const model = tinyFusedModel();
    const restored = await loadCheckpoint(await saveCheckpoint(model));
    assert.deepEqual(
      restored.layers.slice(0, 2).map((l) => l instanceof FusedLstm),
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
    tf.dispose([x, want, got]);
    model.dispose();
    restored.dispose();
  },
});

Deno.test("loadCheckpoint() still loads checkpoints whose model.json names FusedLstm", async () => {
  const model = tinyFusedModel();
  const files = await saveCheckpoint(model);
  // Rewrite the two LSTM entries as the fused layer used to save itself.
  const json = JSON.parse(new TextDecoder().decode(files["model.json"]));
  delete json.userDefinedMetadata;
  for (const layer of json.modelTopology.config.layers.slice(0, 2)) {
    const c = layer.config;
    layer.class_name = "FusedLstm";
    layer.config = {
      name: c.name,
      trainable: c.trainable,
      ...(c.batch_input_shape ? { batch_input_shape: c.batch_input_shape } : {}),
      dtype: c.dtype,
      units: c.units,
      return_sequences: c.return_sequences,
      recurrent_dropout: c.recurrent_dropout,
      seed: c.kernel_initializer.config.seed,
      recurrent_activation: c.recurrent_activation,
      unit_forget_bias: c.unit_forget_bias,
      gemm: HAS_BLAS ? "auto" : "tfjs",
    };
  }
  const restored = await loadCheckpoint({
    ...files,
    "model.json": new TextEncoder().encode(JSON.stringify(json)),
  });
  assert.ok(restored.layers[0] instanceof FusedLstm);
  const x = window();
  const want = model.predict(x) as tf.Tensor, got = restored.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()));
  tf.dispose([x, want, got]);
  model.dispose();
  restored.dispose();
});
