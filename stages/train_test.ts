import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { StageInputError } from "../core/stage.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { fakeContext, tinyTrainConfig, trainInputs, TUNE } from "../tests/_helpers.ts";
import { epochOrder, train } from "./train.ts";

Deno.test("train records one loss per epoch and keeps the checkpoint of the lowest", async () => {
  const config = tinyTrainConfig();
  config.train.epochs = 3;
  const ctx = fakeContext();
  const out = await train.run(trainInputs(TUNE, 8), config, ctx);
  assert.deepEqual(Object.keys(out).sort(), [
    "history.json",
    "loss.svg",
    "model.json",
    "validation.json",
    "weights.bin",
  ]);
  assert.deepEqual(out["validation.json"], {
    windows: 0,
    loss: [],
    top1: [],
    top5: [],
    perplexity: [],
  });
  const history = out["history.json"];
  assert.equal(history.loss.length, 3);
  assert.equal((ctx.collected.metrics.secondsPerEpoch as number[]).length, 3);
  assert.equal(history.bestLoss, Math.min(...history.loss));
  assert.equal(history.loss[history.bestEpoch - 1], history.bestLoss);
  assert.equal(history.backend, "cpu");
  assert.equal(history.lstmKernel, "tfjs");
  assert.deepEqual(ctx.collected.metrics.loss, history.loss);
  assert.equal(ctx.collected.metrics.bestLoss, history.bestLoss);
  assert.equal(ctx.collected.metrics.backend, "cpu");
  assert.match(out["loss.svg"], /<svg/);
  const model = await loadCheckpoint({
    "model.json": out["model.json"]!,
    "weights.bin": out["weights.bin"]!,
  });
  assert.deepEqual(model.outputs[0]!.shape, [null, 7]);
  model.dispose();
});

Deno.test("train gives identical checkpoint bytes and losses for the same seed", async () => {
  const run = () => train.run(trainInputs(TUNE, 8), tinyTrainConfig(), fakeContext());
  const [a, b] = [await run(), await run()];
  assert.deepEqual(a["weights.bin"], b["weights.bin"]);
  assert.deepEqual(a["model.json"], b["model.json"]);
  assert.deepEqual(
    a["history.json"].loss,
    b["history.json"].loss,
  );
});

Deno.test("train frees every tensor it makes", async () => {
  const leftAfter = async (epochs: number) => {
    const config = tinyTrainConfig();
    config.train.epochs = epochs;
    const before = tf.memory().numTensors;
    await train.run(trainInputs(TUNE, 8), config, fakeContext());
    return tf.memory().numTensors - before;
  };
  await leftAfter(1); // the first run also makes tfjs's lasting tensors (kernel caches and the like)
  assert.equal(await leftAfter(1), 0);
  assert.equal(await leftAfter(3), 0);
});

Deno.test("train trains on what there is when there are fewer windows than one batch", async () => {
  const config = tinyTrainConfig();
  config.train.batchSize = 32;
  const steps: number[] = [];
  const ctx = {
    ...fakeContext(),
    progress: (_: string, total: number) => (steps.push(total), { tick() {}, done() {} }),
  };
  const out = await train.run(trainInputs(TUNE.slice(0, 20), 8), config, ctx);
  assert.deepEqual(steps, [1, 1]);
  assert.equal(out["history.json"].loss.length, 2);
});

Deno.test("train ticks one progress step per batch with the running loss", async () => {
  const bars: { label: string; total: number; ticks: string[] }[] = [];
  const ctx = {
    ...fakeContext(),
    progress: (label: string, total: number) => {
      const bar = { label, total, ticks: [] as string[] };
      bars.push(bar);
      return { tick: (_n?: number, note?: string) => void bar.ticks.push(note ?? ""), done() {} };
    },
  };
  await train.run(trainInputs(TUNE, 8), tinyTrainConfig(), ctx);
  // 42 windows in batches of 16: 3 steps per epoch.
  assert.deepEqual(bars.map((b) => [b.label, b.total, b.ticks.length]), [["epoch 1/2", 3, 3], [
    "epoch 2/2",
    3,
    3,
  ]]);
  assert.match(bars[0]!.ticks[0]!, /^loss \d+\.\d{4}$/);
});

Deno.test("train stops between batches once the run is interrupted", async () => {
  const controller = new AbortController();
  controller.abort(new Error("interrupted"));
  const ctx = { ...fakeContext(), signal: controller.signal };
  await assert.rejects(
    () => train.run(trainInputs(TUNE, 8), tinyTrainConfig(), ctx),
    /interrupted/,
  );
});

Deno.test("train rejects a target outside the vocabulary with one sentence", async () => {
  const inputs = trainInputs(TUNE, 8);
  inputs.vocab = { tokens: ["C4", "E4"] };
  await assert.rejects(
    () => train.run(inputs, tinyTrainConfig(), fakeContext()),
    (error: unknown) =>
      error instanceof StageInputError && /outside the vocabulary of 2 tokens/.test(error.message),
  );
});

Deno.test("train turns a backend that does not load into one sentence the user can act on", async () => {
  const config = tinyTrainConfig();
  config.train.backend = "tensorflow";
  await assert.rejects(
    () => train.run(trainInputs(TUNE, 8), config, fakeContext()),
    (error: unknown) =>
      error instanceof StageInputError &&
      error.message ===
        "train.backend: tensorflow needs @tensorflow/tfjs-node, but @tensorflow/tfjs-node is not installed; use auto, wasm or cpu",
  );
});

Deno.test("train's environment names the tfjs version, the backend and the LSTM kernel", async () => {
  assert.deepEqual(await train.environment!(tinyTrainConfig()), {
    tfjs: tf.version.tfjs,
    backend: "cpu",
    lstm: "tfjs",
  });
});

Deno.test("epochOrder() shuffles each epoch differently, repeatably from the seed", () => {
  assert.deepEqual(epochOrder(10, true, 1, 1), epochOrder(10, true, 1, 1));
  assert.notDeepEqual(epochOrder(10, true, 1, 1), epochOrder(10, true, 1, 2));
  assert.notDeepEqual(epochOrder(10, true, 1, 1), epochOrder(10, true, 2, 1));
  assert.deepEqual(
    [...epochOrder(10, true, 1, 1)].sort((a, b) => a - b),
    epochOrder(10, false, 1, 1),
  );
  assert.deepEqual(epochOrder(4, false, 1, 1), [0, 1, 2, 3]);
});

for (const lstm of ["tfjs", "auto"] as const) {
  Deno.test(`train interrupted after an epoch resumes there and ends as an uninterrupted run (lstm ${lstm})`, async () => {
    const config = tinyTrainConfig();
    Object.assign(config.train, { epochs: 3, lstm, recurrentDropout: 0.3, dropout: 0.3 });
    const inputs = trainInputs(TUNE, 8);
    const whole = await train.run(inputs, config, fakeContext());

    // The user presses Ctrl-C while epoch 3 runs, after epoch 2 was saved.
    const interrupted = fakeContext();
    const abort = new AbortController();
    interrupted.signal = abort.signal;
    const save = interrupted.resume.save;
    let saves = 0;
    interrupted.resume.save = async (files) => {
      await save(files);
      if (++saves === 2) abort.abort();
    };
    await assert.rejects(train.run(inputs, config, interrupted));

    const resumed = fakeContext();
    resumed.resume = interrupted.resume;
    const out = await train.run(inputs, config, resumed);
    assert.equal(resumed.collected.metrics.resumedAfterEpoch, 2);
    assert.deepEqual(out, whole);
  });
}

/** A held-out tune: the training tune's tokens in another order, plus one it lacks (left out). */
const HELD_OUT = [...TUNE.slice(25), ...TUNE.slice(0, 25), "A9", ...TUNE.slice(3, 20)];

Deno.test("train scores held-out windows after every epoch without touching the training", async (t) => {
  // Both LSTM paths: tf.layers.lstm, and the fused layer where OpenBLAS loads (else its fallback).
  for (const lstm of ["tfjs", "auto"] as const) {
    await t.step(lstm, () => scoresWithoutTouching(lstm));
  }
});

async function scoresWithoutTouching(lstm: "tfjs" | "auto") {
  const config = tinyTrainConfig();
  config.train.epochs = 3;
  config.train.lstm = lstm;
  const ctx = fakeContext();
  const scored = await train.run(trainInputs(TUNE, 8, HELD_OUT), config, ctx);
  const plain = await train.run(trainInputs(TUNE, 8), config, fakeContext());
  // Scoring is inference only: the weights and the history are the same bytes without it.
  assert.deepEqual(scored["weights.bin"], plain["weights.bin"]);
  assert.deepEqual(scored["model.json"], plain["model.json"]);
  assert.deepEqual(scored["history.json"], plain["history.json"]);
  const v = scored["validation.json"];
  assert.ok(v.windows > 0);
  assert.equal(v.loss.length, 3);
  for (let e = 0; e < 3; e++) {
    assert.ok(Number.isFinite(v.loss[e]!) && v.loss[e]! > 0);
    assert.ok(v.top1[e]! >= 0 && v.top1[e]! <= v.top5[e]! && v.top5[e]! <= 1);
    assert.ok(Math.abs(v.perplexity[e]! - Math.exp(v.loss[e]!)) < 1e-9);
  }
  assert.deepEqual(ctx.collected.metrics.valLoss, v.loss);
  assert.deepEqual(ctx.collected.metrics.valAccuracy, v.top1);
  assert.match(scored["loss.svg"], /class="val-loss"/);
  assert.doesNotMatch(plain["loss.svg"], /val-loss/);
}

Deno.test("train.monitor val_loss keeps the checkpoint of the lowest validation loss", async () => {
  const config = tinyTrainConfig();
  config.train.epochs = 4;
  config.train.monitor = "val_loss";
  const out = await train.run(trainInputs(TUNE, 8, HELD_OUT), config, fakeContext());
  const v = out["validation.json"];
  const h = out["history.json"];
  const lowest = Math.min(...v.loss);
  assert.equal(h.monitor, "val_loss");
  assert.equal(h.bestValLoss, lowest);
  assert.equal(v.loss[h.bestEpoch - 1], lowest);
  assert.equal(h.bestLoss, h.loss[h.bestEpoch - 1]);
  // Without held-out windows there is nothing to follow: one sentence, before and during a run.
  config.validation.count = 0;
  assert.throws(() => train.check!(config), /validation\.count is 0/);
  await assert.rejects(
    () =>
      train.run(
        trainInputs(TUNE, 8),
        { ...config, validation: { count: 5, seed: 7 } },
        fakeContext(),
      ),
    /heldout gave none: raise validation\.count/,
  );
});
