import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { loadCheckpoint, saveCheckpoint } from "../checkpoint.ts";
import { tfjsGemm } from "../fused/gemm.ts";
import { fusedLstmSupport, resolveLstm, TFJS_LSTM } from "../lstm_implementation.ts";
import { DEFAULT_SEQUENCE_FIT, fitSequenceModel } from "./fit.ts";
import {
  batchInputs,
  DEFAULT_SEQUENCE_MODEL,
  sampleSequences,
  scoreSequences,
  sequenceInputs,
  sequenceLayout,
} from "./network.ts";
import {
  buildTransformerModel,
  type TransformerModelSettings,
  transformerSettingsError,
} from "./transformer.ts";
import {
  attentionContext,
  attentionLayers,
  CausalSelfAttention,
  TransformerStepper,
} from "./transformer_layers.ts";
import { alibiSlopes } from "./transformer_step.js";

await selectBackend("wasm");

/** Two blocks attending 6 steps back: files of a few dozen steps slide the window many times. */
const TINY: TransformerModelSettings = {
  ...DEFAULT_SEQUENCE_MODEL,
  embedding: 4,
  positionEmbedding: 3,
  blocks: 2,
  heads: 2,
  width: 8,
  window: 6,
  dropout: 0.2,
  seed: 5,
};
const V = 5;
const OPTIONS = { vocabSize: V, stepsPerBar: 4 };

function ids(values: number[]): Int32Array {
  return Int32Array.from(values);
}

/** A few files of a small vocabulary, `<unk>` (id 4) among them. */
const FILES = [
  ids(Array.from({ length: 41 }, (_, i) => (i * 7 + (i >> 3)) % 5)),
  ids([0, 1, 2, 0, 1, 3, 0, 1, 2, 0, 1, 3, 0, 1, 2, 0, 1, 3, 4, 0]),
  ids([2, 2]),
  ids([3]),
];

/** The model's probabilities at every step of one file, from one pass over all of it. */
function probabilities(model: tf.LayersModel, file: Int32Array): number[][] {
  const layout = sequenceLayout(model, 4);
  const batch = batchInputs([sequenceInputs(file, 0, file.length, layout)], layout);
  const out = model.predict(batch.inputs) as tf.Tensor;
  const p = (out.arraySync() as number[][][])[0]!;
  tf.dispose([out, ...batch.inputs]);
  return p;
}

Deno.test("buildTransformerModel() gives [batch, T, V] probabilities from the LSTM network's inputs, named layers and seeded weights", () => {
  const model = buildTransformerModel(TINY, OPTIONS);
  const again = buildTransformerModel(TINY, OPTIONS);
  const other = buildTransformerModel({ ...TINY, seed: 6 }, OPTIONS);
  try {
    assert.deepEqual(sequenceLayout(model), {
      vocabSize: V,
      stepsPerBar: 4,
      lookbackBars: 2,
      barPosition: true,
    });
    const names = model.layers.map((l) => l.name);
    for (const name of ["token_embedding", "block2_attention", "final_norm", "logits"]) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(names.at(-1), "softmax");
    // Embeddings, the projection to the width, two blocks of (2 norms, qkv, out, MLP), head.
    const w = 8;
    const block = 4 * w + (w * 3 * w + 3 * w) + (w * w + w) + (w * 4 * w + 4 * w) +
      (4 * w * w + w);
    assert.equal(
      model.countParams(),
      (V + 1) * 4 + 4 * 3 + (3 * 4 + 3) * w + w + 2 * block + 2 * w + w * V + V,
    );
    const p = probabilities(model, FILES[0]!);
    assert.equal(p.length, 41);
    for (const row of p) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const weights = (m: tf.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));
    assert.deepEqual(weights(model), weights(again));
    assert.notDeepEqual(weights(model), weights(other));
    assert.equal(attentionContext(model), 2 * (6 - 1));
  } finally {
    [model, again, other].forEach((m) => m.dispose());
  }
});

Deno.test("the transformer is causal: changing token t+1 leaves every output up to t+1 as it was, and changing token t changes output t+1", () => {
  const model = buildTransformerModel(TINY, OPTIONS);
  try {
    const file = FILES[0]!;
    const before = probabilities(model, file);
    for (const t of [0, 5, 17, 38]) {
      // Output s predicts x_s from x_{<s}: x_{t+1} first enters output t+2.
      const changed = file.slice();
      changed[t + 1] = (changed[t + 1]! + 1) % V;
      const after = probabilities(model, changed);
      for (let s = 0; s <= t + 1; s++) assert.deepEqual(after[s], before[s], `output ${s}`);
      assert.notDeepEqual(after[t + 2], before[t + 2], `output ${t + 2}`);
      // And x_t is read by output t+1.
      const earlier = file.slice();
      earlier[t] = (earlier[t]! + 2) % V;
      assert.notDeepEqual(probabilities(model, earlier)[t + 1], before[t + 1], `output ${t + 1}`);
    }
  } finally {
    model.dispose();
  }
});

Deno.test("the transformer's settings are refused in one sentence naming the keys", () => {
  assert.equal(transformerSettingsError({ blocks: 3, heads: 4, width: 128 }), "");
  const odd = transformerSettingsError({ blocks: 3, heads: 3, width: 128 });
  assert.match(odd, /^train\.width 128 must be a multiple of train\.heads 3, .*: change one/);
  assert.ok(!odd.includes(". "), "one sentence");
  assert.match(
    transformerSettingsError({ blocks: 0, heads: 4, width: 128 }),
    /^train\.blocks must be a positive integer \(found 0\)$/,
  );
  assert.throws(
    () => buildTransformerModel({ ...TINY, heads: 3 }, OPTIONS),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message.startsWith("Cannot build the transformer: train.width 8 must be a multiple"),
  );
});

Deno.test("alibiSlopes() are Press et al.'s: geometric from 2^(-8/n) for a power of two, interleaved otherwise", () => {
  assert.deepEqual(alibiSlopes(4), [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8]);
  assert.deepEqual(alibiSlopes(1), [2 ** -8]);
  // The paper's code for 6 heads: the 4 of 4 heads, then slopes 1 and 3 of 8 heads.
  assert.deepEqual(alibiSlopes(6), [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3]);
});

Deno.test("a transformer checkpoint loads back with the same probabilities and weights", async () => {
  const model = buildTransformerModel(TINY, OPTIONS);
  try {
    const files = await saveCheckpoint(model);
    const json = JSON.parse(new TextDecoder().decode(files["model.json"]));
    const classes = new Set(
      json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name),
    );
    // One class of this project; the rest are tfjs's own.
    for (const name of ["CausalSelfAttention", "LayerNormalization", "Dense", "Embedding"]) {
      assert.ok(classes.has(name), name);
    }
    const loaded = await loadCheckpoint(files);
    try {
      for (const file of FILES) {
        const want = probabilities(model, file);
        const got = probabilities(loaded, file);
        got.forEach((row, t) =>
          row.forEach((q, k) => assert.ok(Math.abs(q - want[t]![k]!) < 1e-6, `${t} ${k}`))
        );
      }
      assert.deepEqual((await saveCheckpoint(loaded))["weights.bin"], files["weights.bin"]);
      assert.equal(attentionContext(loaded), attentionContext(model));
      assert.ok(attentionLayers(loaded).every((l) => l instanceof CausalSelfAttention && !l.gemm));
      // Where OpenBLAS loads, the fused LSTM's implementation puts attention's products on it.
      if (fusedLstmSupport().blas) {
        const fast = await loadCheckpoint(files, { lstm: resolveLstm("blas") });
        assert.ok(attentionLayers(fast).every((l) => l.gemm !== null));
        fast.dispose();
      }
    } finally {
      loaded.dispose();
    }
  } finally {
    model.dispose();
  }
});

Deno.test("the transformer computes the same probabilities and gradients with its products on a Gemm", () => {
  const plain = buildTransformerModel(TINY, OPTIONS);
  // tfjs's matMul behind the Gemm interface: the OpenBLAS path's code on any machine.
  const onGemm = buildTransformerModel(TINY, { ...OPTIONS, gemm: tfjsGemm });
  try {
    const layout = sequenceLayout(plain);
    const batch = batchInputs(FILES.map((f) => sequenceInputs(f, 0, f.length, layout)), layout);
    const lossOf = (m: tf.LayersModel) => () =>
      tf.sum(tf.square(m.apply(batch.inputs, { training: false }) as tf.Tensor)) as tf.Scalar;
    const vars = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
    const a = tf.variableGrads(lossOf(plain), vars(plain));
    const b = tf.variableGrads(lossOf(onGemm), vars(onGemm));
    assert.ok(Math.abs(a.value.dataSync()[0]! - b.value.dataSync()[0]!) < 1e-5);
    const ga = Object.values(a.grads);
    const gb = Object.values(b.grads);
    assert.equal(ga.length, gb.length);
    ga.forEach((g, i) => {
      const x = g.dataSync();
      const y = gb[i]!.dataSync();
      for (let k = 0; k < x.length; k++) {
        assert.ok(
          Math.abs(x[k]! - y[k]!) < 1e-4 * (1 + Math.abs(x[k]!)),
          `${i} ${k}: ${x[k]} ${y[k]}`,
        );
      }
    });
    tf.dispose([a.value, b.value, ...ga, ...gb, ...batch.inputs]);
  } finally {
    plain.dispose();
    onGemm.dispose();
  }
});

Deno.test("scoreSequences() on a transformer: chunks of a file score what one pass over it scores", async () => {
  const model = buildTransformerModel(TINY, OPTIONS);
  try {
    const whole = await scoreSequences(model, FILES, { chunkSteps: 1000 });
    assert.equal(whole.steps, 41 + 20 + 2 + 1);
    for (const chunkSteps of [1, 3, 7]) {
      const chunked = await scoreSequences(model, FILES, { chunkSteps, stepsPerPass: 16 });
      assert.equal(chunked.steps, whole.steps);
      assert.ok(Math.abs(chunked.loss - whole.loss) < 1e-6, `chunks of ${chunkSteps}`);
      assert.equal(chunked.top1, whole.top1);
      assert.equal(chunked.top5, whole.top5);
    }
    // By hand from one pass per file.
    let nll = 0;
    for (const file of FILES) {
      probabilities(model, file).forEach((row, t) => (nll -= Math.log(row[file[t]!]!)));
    }
    assert.ok(Math.abs(nll / whole.steps - whole.loss) < 1e-5);
  } finally {
    model.dispose();
  }
});

Deno.test("TransformerStepper gives the model's probabilities at every step, after the window slides too", async () => {
  const settings = [TINY, { ...TINY, barPosition: false, lookbackBars: 0, heads: 1, blocks: 3 }];
  for (const [i, s] of settings.entries()) {
    const built = buildTransformerModel(s, OPTIONS);
    // Through a checkpoint too: tfjs's own LayerNormalization, Dense and Embedding layers.
    const model = i === 0 ? await loadCheckpoint(await saveCheckpoint(built)) : built;
    try {
      const stepper = new TransformerStepper(model, sequenceLayout(model, 4));
      for (const file of FILES) {
        const p = probabilities(model, file);
        const state = stepper.initialState();
        let worst = 0;
        file.forEach((_, t) => {
          const q = stepper.step(state, file, t, true)!;
          p[t]!.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - q[k]!))));
        });
        assert.ok(worst < 1e-4, `largest difference ${worst}`);
      }
      assert.throws(
        () => stepper.step(stepper.initialState(), FILES[0]!, 3, true),
        /Cannot step the transformer to step 3: its state is at 0/,
      );
    } finally {
      model.dispose();
      if (model !== built) built.dispose();
    }
  }
});

Deno.test("sampleSequences() runs a transformer: never <unk>, repeatable, greedy is the model's argmax", () => {
  const model = buildTransformerModel(TINY, OPTIONS);
  try {
    // Make <unk> (id 4) the most likely token everywhere.
    const logits = model.getLayer("logits");
    const bias = tf.tensor1d([0, 0, 0, 0, 5]);
    logits.setWeights([logits.getWeights()[0]!, bias]);
    bias.dispose();
    const primers = [FILES[1]!.slice(0, 9), ids([]), ids([2])];
    const a = sampleSequences(model, primers, 20, { temperature: 1, seed: 3 });
    assert.deepEqual(a, sampleSequences(model, primers, 20, { temperature: 1, seed: 3 }));
    assert.notDeepEqual(a, sampleSequences(model, primers, 20, { temperature: 1, seed: 4 }));
    for (const piece of a) {
      assert.equal(piece.length, 20);
      for (const id of piece) assert.ok(id >= 0 && id < V - 1, `token ${id}`);
    }
    const greedy = sampleSequences(model, [primers[0]!], 12, { temperature: 0, seed: 1 })[0]!;
    const seq = Int32Array.from([...primers[0]!, ...greedy]);
    const p = probabilities(model, seq);
    greedy.forEach((id, k) => {
      const row = p[primers[0]!.length + k]!.slice(0, V - 1);
      assert.equal(id, row.indexOf(Math.max(...row)), `step ${k}`);
    });
  } finally {
    model.dispose();
  }
});

/** Files of a bar of 8 steps repeated: [0, 1, 0, 2, 0, 1, 0, 3] (as fit_test.ts). */
const BAR = [0, 1, 0, 2, 0, 1, 0, 3];
function periodic(bars: number, cut = 0): Int32Array {
  return Int32Array.from({ length: bars * 8 - cut }, (_, i) => BAR[i % 8]!);
}

Deno.test("fitSequenceModel() trains a transformer that learns a periodic groove far below the unigram", async () => {
  const files = [periodic(12), periodic(7, 3), periodic(1, 5), periodic(20)];
  const validation = [periodic(6), periodic(9, 2)];
  const fit = await fitSequenceModel(
    { files, vocabSize: V, stepsPerBar: 8 },
    validation,
    {
      ...DEFAULT_SEQUENCE_FIT,
      embedding: 6,
      positionEmbedding: 4,
      dropout: 0,
      cropLength: 16,
      batchSize: 8,
      epochs: 8,
      learningRate: 0.01,
      warmupSteps: 5,
      seed: 3,
      lstm: TFJS_LSTM,
      transformer: { blocks: 1, heads: 2, width: 16 },
    },
  );
  // The unigram of the bar: 0 half the time, 1 a quarter, 2 and 3 an eighth each.
  const unigram = -(0.5 * Math.log(0.5) + 0.25 * Math.log(0.25) + 0.25 * Math.log(0.125));
  const best = fit.validation[fit.keptEpoch - 1]!;
  assert.ok(best.loss < 0.2 * unigram, `validation loss ${best.loss} (unigram ${unigram})`);
  assert.ok(best.top1 > 0.95);
  const model = await loadCheckpoint(fit.checkpoint);
  try {
    assert.equal(attentionContext(model), 15);
    const again = await scoreSequences(model, validation);
    assert.ok(Math.abs(again.loss - best.loss) < 1e-5);
  } finally {
    model.dispose();
  }
});
