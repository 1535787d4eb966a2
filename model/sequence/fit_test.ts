import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend.ts";
import { loadCheckpoint } from "../checkpoint.ts";
import {
  fusedLstmImplementation,
  fusedLstmSupport,
  type LstmImplementation,
  resolveLstm,
  TFJS_LSTM,
} from "../lstm_implementation.ts";
import {
  DEFAULT_SEQUENCE_FIT,
  epochBatches,
  fitSequenceModel,
  learningRateAt,
  type SequenceFitSettings,
} from "./fit.ts";
import { scoreSequences } from "./network.ts";

await selectBackend("wasm");

const FUSED_JS = fusedLstmImplementation({ gemm: "tfjs", gates: "js" });
/** The pipeline's fast path (OpenBLAS and the C loops), where this machine has it. */
const NATIVE = fusedLstmSupport().blas ? [resolveLstm("blas")] : [];

/** A small network and short crops: a fit takes a second or two. */
function tiny(
  lstm: LstmImplementation,
  extra: Partial<SequenceFitSettings> = {},
): SequenceFitSettings {
  return {
    ...DEFAULT_SEQUENCE_FIT,
    embedding: 6,
    positionEmbedding: 4,
    units: 16,
    dropout: 0.1,
    cropLength: 16,
    batchSize: 8,
    epochs: 6,
    learningRate: 0.02,
    warmupSteps: 5,
    seed: 3,
    lstm,
    ...extra,
  };
}

/**
 * Files of a bar of 8 steps repeated: [0, 1, 0, 2, 0, 1, 0, 3]. The previous token alone cannot
 * say what follows a 0; the bar position (or the lookback) can.
 */
const BAR = [0, 1, 0, 2, 0, 1, 0, 3];
function periodic(bars: number, cut = 0): Int32Array {
  return Int32Array.from({ length: bars * 8 - cut }, (_, i) => BAR[i % 8]!);
}
const V = 5; // 0 … 3 and <unk>
const TRAIN = {
  files: [periodic(12), periodic(7, 3), periodic(1, 5), periodic(20)],
  vocabSize: V,
  stepsPerBar: 8,
};
const VALIDATION = [periodic(6), periodic(2, 1)];

Deno.test("epochBatches() puts every step of every file in exactly one crop, repeatably from (seed, epoch)", () => {
  const lengths = [5, 16, 17, 100, 0, 33, 48];
  const a = epochBatches(lengths, 16, 4, 1, 1);
  assert.deepEqual(a, epochBatches(lengths, 16, 4, 1, 1));
  assert.notDeepEqual(a, epochBatches(lengths, 16, 4, 1, 2));
  const seen = lengths.map((n) => new Array<number>(n).fill(0));
  for (const batch of a) {
    assert.ok(batch.length >= 1 && batch.length <= 4);
    for (const c of batch) {
      assert.ok(c.length >= 1 && c.length <= 16);
      for (let t = c.start; t < c.start + c.length; t++) seen[c.file]![t]!++;
    }
  }
  for (const file of seen) for (const n of file) assert.equal(n, 1);
  // Crops per epoch ≈ steps / cropLength: one per started block of 16 steps.
  const crops = a.reduce((n, b) => n + b.length, 0);
  assert.equal(crops, lengths.reduce((n, l) => n + Math.ceil(l / 16), 0));
  // A batch holds full crops only, or shorter ones only.
  for (const batch of a) {
    const full = batch.map((c) => c.length === 16);
    assert.ok(full.every((f) => f === full[0]));
  }
});

Deno.test("learningRateAt() warms up linearly, then holds or follows the cosine to its floor", () => {
  const s = { learningRate: 1, warmupSteps: 10, minLearningRate: 0.1 };
  assert.equal(learningRateAt({ ...s, schedule: "cosine" }, 0, 0), 0.1);
  assert.equal(learningRateAt({ ...s, schedule: "cosine" }, 9, 0), 1);
  assert.ok(Math.abs(learningRateAt({ ...s, schedule: "cosine" }, 50, 0.5) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRateAt({ ...s, schedule: "cosine" }, 99, 1) - 0.1) < 1e-12);
  assert.equal(learningRateAt({ ...s, schedule: "constant" }, 99, 1), 1);
  assert.equal(learningRateAt({ ...s, schedule: "constant", warmupSteps: 0 }, 0, 0), 1);
});

Deno.test("fitSequenceModel() learns a periodic sequence well below ln V, on every LSTM path", async () => {
  for (const lstm of [FUSED_JS, TFJS_LSTM, ...NATIVE]) {
    const lines: string[] = [];
    const result = await fitSequenceModel(TRAIN, VALIDATION, tiny(lstm, { epochs: 8 }), {
      info: (line) => lines.push(line),
    });
    assert.equal(result.losses.length, 8);
    assert.equal(result.validation.length, 8);
    assert.equal(result.stoppedBy, "epochs");
    const best = result.validation[result.keptEpoch - 1]!;
    assert.equal(best.loss, Math.min(...result.validation.map((s) => s.loss)));
    assert.equal(best.steps, 48 + 15);
    // ln 5 = 1.61; the sequence is certain after the first step of a file.
    assert.ok(best.loss < 0.35 * Math.log(V), `${lstm.id}: validation loss ${best.loss}`);
    assert.ok(result.losses.at(-1)! < result.losses[0]!);
    assert.ok(lines.some((l) => l.startsWith("epoch 8/8")));
    // The kept checkpoint scores what the epoch scored.
    const model = await loadCheckpoint(result.checkpoint, { lstm });
    try {
      const again = await scoreSequences(model, VALIDATION);
      assert.ok(Math.abs(again.loss - best.loss) < 1e-6);
    } finally {
      model.dispose();
    }
  }
});

Deno.test("fitSequenceModel() repeats exactly for a seed, and differs for another", async () => {
  const settings = tiny(FUSED_JS, { epochs: 2, weightDecay: 0.1, clipNorm: 0.5 });
  const a = await fitSequenceModel(TRAIN, VALIDATION, settings);
  const b = await fitSequenceModel(TRAIN, VALIDATION, settings);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.validation, b.validation);
  assert.deepEqual(a.checkpoint, b.checkpoint);
  const c = await fitSequenceModel(TRAIN, VALIDATION, { ...settings, seed: 4 });
  assert.notDeepEqual(a.losses, c.losses);
  // Plain Adam, no clipping, constant rate: another run, still repeatable.
  const plain = { ...settings, weightDecay: 0, clipNorm: 0, schedule: "constant" as const };
  const d = await fitSequenceModel(TRAIN, VALIDATION, plain);
  assert.notDeepEqual(a.losses, d.losses);
  assert.deepEqual(d.losses, (await fitSequenceModel(TRAIN, VALIDATION, plain)).losses);
});

Deno.test("fitSequenceModel() resumed after an epoch ends as an uninterrupted run", async () => {
  const settings = tiny(FUSED_JS, { epochs: 3 });
  const saves: Record<string, Uint8Array>[] = [];
  const whole = await fitSequenceModel(TRAIN, VALIDATION, settings, {
    resume: {
      load: () => Promise.resolve(undefined),
      save: (f) => (saves.push(f), Promise.resolve()),
    },
  });
  assert.equal(saves.length, 2); // after epochs 1 and 2, not after the last
  const resumed = await fitSequenceModel(TRAIN, VALIDATION, settings, {
    resume: { load: () => Promise.resolve(saves[0]), save: () => Promise.resolve() },
  });
  assert.equal(resumed.resumedAfterEpoch, 1);
  assert.deepEqual(resumed.losses, whole.losses);
  assert.deepEqual(resumed.validation, whole.validation);
  assert.deepEqual(resumed.checkpoint, whole.checkpoint);
  assert.equal(resumed.keptEpoch, whole.keptEpoch);
});

Deno.test("fitSequenceModel() stops between batches when aborted, and at its time budget", async () => {
  const controller = new AbortController();
  controller.abort(new Error("interrupted"));
  await assert.rejects(
    fitSequenceModel(TRAIN, VALIDATION, tiny(FUSED_JS), { signal: controller.signal }),
    /interrupted/,
  );
  const budgeted = await fitSequenceModel(
    TRAIN,
    VALIDATION,
    tiny(FUSED_JS, { epochs: 50, minutes: 1e-9 }),
  );
  assert.equal(budgeted.stoppedBy, "minutes");
  assert.equal(budgeted.losses.length, 1);
  assert.equal(budgeted.stepsPerEpoch[0], 1);
  assert.equal(budgeted.validation.length, 1);
  assert.equal(tf.memory().numTensors < 1e6, true);
});

Deno.test("fitSequenceModel() leaves no tensors behind", async () => {
  const before = tf.memory().numTensors;
  await fitSequenceModel(TRAIN, VALIDATION, tiny(FUSED_JS, { epochs: 1 }));
  assert.equal(tf.memory().numTensors, before);
});
