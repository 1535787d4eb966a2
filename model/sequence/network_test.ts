import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { loadCheckpoint, saveCheckpoint } from "../checkpoint.ts";
import { FusedLstm } from "../fused/fused_lstm.ts";
import { fusedLstmImplementation, TFJS_LSTM } from "../lstm_implementation.ts";
import {
  batchInputs,
  buildSequenceModel,
  DEFAULT_SEQUENCE_MODEL,
  sampleSequences,
  scoreSequences,
  sequenceInputs,
  sequenceLayout,
  type SequenceModelSettings,
  SequenceStepper,
} from "./network.ts";

await selectBackend("wasm");

/** The fused layer on tfjs's matMul and the JS loops: runs on any machine. */
const FUSED_JS = fusedLstmImplementation({ gemm: "tfjs", gates: "js" });

const TINY: SequenceModelSettings = {
  ...DEFAULT_SEQUENCE_MODEL,
  embedding: 4,
  positionEmbedding: 3,
  units: 8,
  dropout: 0.2,
  seed: 7,
};

function ids(values: number[]): Int32Array {
  return Int32Array.from(values);
}

Deno.test("sequenceInputs() names x_{t-1}, x_{t-16}, x_{t-32} and t mod 16, with begin-of-file before the start", () => {
  const V = 200;
  const seq = ids(Array.from({ length: 100 }, (_, i) => i));
  const layout = { vocabSize: V, stepsPerBar: 16, lookbackBars: 2 };
  const all = sequenceInputs(seq, 0, 100, layout);
  assert.equal(all.width, 3);
  assert.equal(all.length, 100);
  for (let t = 0; t < 100; t++) {
    const row = Array.from(all.tokens.subarray(3 * t, 3 * t + 3));
    assert.deepEqual(row, [t >= 1 ? t - 1 : V, t >= 16 ? t - 16 : V, t >= 32 ? t - 32 : V]);
    assert.equal(all.positions[t], t % 16);
  }
  // A crop sees the real tokens before its start, and counts positions from the file's start.
  const crop = sequenceInputs(seq, 40, 10, layout);
  assert.deepEqual(Array.from(crop.tokens.subarray(0, 3)), [39, 24, 8]);
  assert.deepEqual(Array.from(crop.positions), [8, 9, 10, 11, 12, 13, 14, 15, 0, 1]);
  assert.deepEqual(crop.tokens, all.tokens.subarray(120, 150));
  // Clipped to the file.
  assert.equal(sequenceInputs(seq, 95, 10, layout).length, 5);
  // Other lookbacks and bars.
  const one = sequenceInputs(seq, 0, 10, { vocabSize: V, stepsPerBar: 4, lookbackBars: 1 });
  assert.deepEqual(Array.from(one.tokens.subarray(2 * 5, 2 * 5 + 2)), [4, 1]);
  assert.equal(one.positions[5], 1);
});

Deno.test("buildSequenceModel() gives named layers, [batch, T, V] probabilities at any T, and the recipe's parameter count", () => {
  const V = 133;
  for (const lstm of [FUSED_JS, TFJS_LSTM]) {
    const model = buildSequenceModel(DEFAULT_SEQUENCE_MODEL, {
      vocabSize: V,
      stepsPerBar: 16,
      lstm,
    });
    try {
      assert.deepEqual(model.layers.map((l) => l.name), [
        "tokens",
        "token_embedding",
        "bar_position",
        "token_features",
        "position_embedding",
        "features",
        "lstm",
        "dropout",
        "logits",
        "softmax",
      ]);
      const D = 3 * 64 + 16;
      assert.equal(model.countParams(), (V + 1) * 64 + 16 * 16 + 4 * 128 * (D + 128 + 1) + 129 * V);
      const layout = sequenceLayout(model);
      assert.deepEqual(layout, {
        vocabSize: V,
        stepsPerBar: 16,
        lookbackBars: 2,
        barPosition: true,
      });
      const seq = ids(Array.from({ length: 50 }, (_, i) => (i * 5) % V));
      for (const T of [1, 37]) {
        const batch = batchInputs([
          sequenceInputs(seq, 0, T, layout),
          sequenceInputs(seq, 3, T, layout),
        ], layout);
        const out = model.predict(batch.inputs) as tf.Tensor;
        assert.deepEqual(out.shape, [2, T, V]);
        const sums = tf.sum(out, -1).dataSync();
        for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-4);
        tf.dispose([out, ...batch.inputs]);
      }
    } finally {
      model.dispose();
    }
  }
  // Without bar positions: one input; the layout needs stepsPerBar.
  const plain = buildSequenceModel({ ...TINY, barPosition: false, lookbackBars: 1 }, {
    vocabSize: 5,
    stepsPerBar: 4,
    lstm: FUSED_JS,
  });
  try {
    assert.equal(plain.inputs.length, 1);
    assert.throws(() => sequenceLayout(plain), /stepsPerBar/);
    assert.deepEqual(sequenceLayout(plain, 4), {
      vocabSize: 5,
      stepsPerBar: 4,
      lookbackBars: 1,
      barPosition: false,
    });
  } finally {
    plain.dispose();
  }
});

Deno.test("buildSequenceModel() makes the same weights from the same seed, on either LSTM path", () => {
  const options = { vocabSize: 6, stepsPerBar: 4 };
  const a = buildSequenceModel(TINY, { ...options, lstm: FUSED_JS });
  const b = buildSequenceModel(TINY, { ...options, lstm: TFJS_LSTM });
  const c = buildSequenceModel({ ...TINY, seed: 8 }, { ...options, lstm: FUSED_JS });
  try {
    const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(wa, b.getWeights().map((w) => Array.from(w.dataSync())));
    assert.notDeepEqual(wa, c.getWeights().map((w) => Array.from(w.dataSync())));
  } finally {
    [a, b, c].forEach((m) => m.dispose());
  }
});

/** A few files of a small vocabulary, `<unk>` (id 4) among them. */
const FILES = [
  ids([0, 1, 2, 0, 1, 3, 0, 1, 2, 0, 1, 3, 0, 1, 2, 0, 1, 3, 4, 0]),
  ids([2, 2]),
  ids([3]),
  ids(Array.from({ length: 41 }, (_, i) => (i * 7) % 5)),
];

Deno.test("scoreSequences() scores every step of every file, whole from its start, whatever the grouping", async () => {
  const model = buildSequenceModel(TINY, { vocabSize: 5, stepsPerBar: 4, lstm: FUSED_JS });
  try {
    const layout = sequenceLayout(model);
    const together = await scoreSequences(model, FILES);
    assert.equal(together.steps, 20 + 2 + 1 + 41);
    // One file per pass gives the same (padding changes nothing).
    const apart = await scoreSequences(model, FILES, { stepsPerPass: 1 });
    assert.equal(apart.steps, together.steps);
    assert.ok(Math.abs(apart.loss - together.loss) < 1e-6);
    assert.equal(apart.top1, together.top1);
    // By hand: mean −log p(x_t) over every step of every file.
    let nll = 0;
    let top1 = 0;
    for (const file of FILES) {
      const batch = batchInputs([sequenceInputs(file, 0, file.length, layout)], layout);
      const p = (model.predict(batch.inputs) as tf.Tensor).arraySync() as number[][][];
      tf.dispose(batch.inputs);
      file.forEach((x, t) => {
        const row = p[0]![t]!;
        nll -= Math.log(row[x]!);
        if (row.every((q) => q <= row[x]!)) top1++;
      });
    }
    assert.ok(Math.abs(nll / together.steps - together.loss) < 1e-5);
    assert.ok(Math.abs(top1 / together.steps - together.top1) < 1e-12);
    assert.ok(together.top5 >= together.top1);
    assert.ok(Math.abs(together.perplexity - Math.exp(together.loss)) < 1e-9);
  } finally {
    model.dispose();
  }
});

Deno.test("a checkpoint loads back with the same probabilities, as the fused layer or tf.layers.lstm", async () => {
  const model = buildSequenceModel(TINY, { vocabSize: 5, stepsPerBar: 4, lstm: FUSED_JS });
  const layout = sequenceLayout(model);
  const batch = batchInputs(FILES.map((f) => sequenceInputs(f, 0, f.length, layout)), layout);
  try {
    const expected = (model.predict(batch.inputs) as tf.Tensor).dataSync();
    const files = await saveCheckpoint(model);
    const json = JSON.parse(new TextDecoder().decode(files["model.json"]));
    assert.deepEqual(json.userDefinedMetadata, { fusedLstm: ["lstm"] });
    // Plain tfjs classes only: loads without this project's code.
    const classes = json.modelTopology.config.layers.map((l: { class_name: string }) =>
      l.class_name
    );
    assert.deepEqual(classes, [
      "InputLayer",
      "Embedding",
      "InputLayer",
      "Reshape",
      "Embedding",
      "Concatenate",
      "LSTM",
      "Dropout",
      "Dense",
      "Activation",
    ]);
    for (const lstm of [FUSED_JS, TFJS_LSTM]) {
      const loaded = await loadCheckpoint(files, { lstm });
      try {
        assert.equal(loaded.getLayer("lstm") instanceof FusedLstm, lstm.kind === "fused");
        const got = (loaded.predict(batch.inputs) as tf.Tensor).dataSync();
        for (let i = 0; i < expected.length; i++) {
          assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-5, `probability ${i}`);
        }
        // Saved again, the same weights.
        assert.deepEqual((await saveCheckpoint(loaded))["weights.bin"], files["weights.bin"]);
        const a = await scoreSequences(model, FILES);
        const b = await scoreSequences(loaded, FILES);
        assert.ok(Math.abs(a.loss - b.loss) < 1e-5);
      } finally {
        loaded.dispose();
      }
    }
  } finally {
    tf.dispose(batch.inputs);
    model.dispose();
  }
});

Deno.test("sampleSequences() never gives <unk>, and repeats for a seed", () => {
  const V = 5;
  const model = buildSequenceModel(TINY, { vocabSize: V, stepsPerBar: 4, lstm: FUSED_JS });
  try {
    // Make <unk> (id 4) the most likely token everywhere.
    const logits = model.getLayer("logits");
    const bias = tf.tensor1d([0, 0, 0, 0, 5]);
    logits.setWeights([logits.getWeights()[0]!, bias]);
    bias.dispose();
    const primers = [ids([0, 1, 2, 0, 1, 3, 0, 1]), ids([]), ids([2])];
    for (const temperature of [0, 0.7, 1.5]) {
      const a = sampleSequences(model, primers, 24, { temperature, seed: 3 });
      const b = sampleSequences(model, primers, 24, { temperature, seed: 3 });
      assert.deepEqual(a, b);
      assert.equal(a.length, 3);
      for (const piece of a) {
        assert.equal(piece.length, 24);
        for (const id of piece) assert.ok(id >= 0 && id < V - 1, `token ${id}`);
      }
      if (temperature > 0) {
        assert.notDeepEqual(a, sampleSequences(model, primers, 24, { temperature, seed: 4 }));
      }
    }
    // Temperature 0: the most probable token other than <unk>, after the whole prefix.
    const layout = sequenceLayout(model);
    const greedy = sampleSequences(model, [primers[0]!], 3, { temperature: 0, seed: 1 })[0]!;
    const seq = Int32Array.from([...primers[0]!, ...greedy]);
    for (let k = 0; k < 3; k++) {
      const t = primers[0]!.length + k;
      const batch = batchInputs([sequenceInputs(seq, 0, t + 1, layout)], layout);
      const p = (model.predict(batch.inputs) as tf.Tensor).arraySync() as number[][][];
      tf.dispose(batch.inputs);
      const row = p[0]![t]!.slice(0, V - 1);
      assert.equal(greedy[k], row.indexOf(Math.max(...row)));
    }
  } finally {
    model.dispose();
  }
});

Deno.test("SequenceStepper gives the probabilities of a whole-file pass, step by step", async () => {
  const settings = [TINY, { ...TINY, barPosition: false, lookbackBars: 1 }, {
    ...TINY,
    lookbackBars: 0,
  }];
  for (const [i, s] of settings.entries()) {
    const built = buildSequenceModel(s, { vocabSize: 5, stepsPerBar: 4, lstm: FUSED_JS });
    // Through a checkpoint too: tfjs's own Embedding, Dense and LSTM layers.
    const model = i === 0
      ? await loadCheckpoint(await saveCheckpoint(built), { lstm: TFJS_LSTM })
      : built;
    try {
      const layout = sequenceLayout(model, 4);
      const stepper = new SequenceStepper(model, 4);
      for (const file of FILES) {
        const batch = batchInputs([sequenceInputs(file, 0, file.length, layout)], layout);
        const p = (model.predict(batch.inputs) as tf.Tensor).arraySync() as number[][][];
        tf.dispose(batch.inputs);
        const state = stepper.initialState();
        file.forEach((_, t) => {
          const q = stepper.step(state, file, t, true)!;
          p[0]![t]!.forEach((v, k) =>
            assert.ok(Math.abs(v - q[k]!) < 1e-5, `step ${t} class ${k}`)
          );
        });
      }
    } finally {
      model.dispose();
      if (model !== built) built.dispose();
    }
  }
});

Deno.test("the embedding's gradient is the gather's", () => {
  // The custom gradient sums rows in JS; tfjs's cpu-side reference is a one-hot product.
  const model = buildSequenceModel(TINY, { vocabSize: 5, stepsPerBar: 4, lstm: FUSED_JS });
  try {
    const layer = model.getLayer("token_embedding");
    const table = layer.trainableWeights[0]!.read() as tf.Variable;
    const x = tf.tensor3d([[[0, 5, 5], [1, 0, 5]], [[4, 4, 2], [3, 1, 0]]], [2, 2, 3], "int32");
    const w = tf.randomNormal([2, 2, 3, 4], 0, 1, "float32", 5);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, w)) as tf.Scalar,
      [table],
    );
    const oneHot = tf.oneHot(tf.reshape(x, [-1]), 6);
    const expected = tf.matMul(oneHot, tf.reshape(w, [-1, 4]), true, false);
    const got = grads[table.name]!.dataSync();
    const want = expected.dataSync();
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5);
    assert.throws(
      () => layer.apply(tf.tensor3d([[[6, 0, 0]]], [1, 1, 3], "int32")),
      /Cannot embed id 6/,
    );
    tf.dispose([x, w, oneHot, expected, ...Object.values(grads)]);
  } finally {
    model.dispose();
  }
});
