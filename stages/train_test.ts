import assert from "node:assert/strict";
import { emptySequences } from "../formats/sequences.ts";
import * as tf from "@tensorflow/tfjs";
import { StageInputError } from "../core/stage.ts";
import { sha256Hex } from "../core/hash.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { contextFreeScore, evaluate } from "../model/evaluate.ts";
import { fakeContext, tinyTrainConfig, trainInputs, TUNE } from "../tests/_helpers.ts";
import { generate } from "./generate.ts";
import { losscurve } from "./losscurve.ts";
import { train } from "./train.ts";

Deno.test("train records one loss per epoch and keeps the checkpoint of the lowest", async () => {
  const config = tinyTrainConfig();
  config.train.epochs = 3;
  const ctx = fakeContext();
  const out = await train.run(trainInputs(TUNE, 8), config, ctx);
  assert.deepEqual(Object.keys(out).sort(), [
    "history.json",
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

Deno.test("train with the default targets trains the bytes it trained before train.targets existed", async () => {
  // Digests of a tf.layers.lstm run on the cpu backend (pure JS arithmetic, the same bytes on
  // every machine) recorded before the option was added: train.targets last is the tutorial's.
  const config = tinyTrainConfig();
  config.train.epochs = 3;
  const out = await train.run(trainInputs(TUNE, 8), config, fakeContext());
  assert.equal(
    sha256Hex(out["weights.bin"]),
    "4242c4ea5485a33aeec3bf4b4c29139a5545131e3a954b29116369d2482a2af3",
  );
  assert.equal(
    sha256Hex(out["model.json"]),
    "5c9375272b0ad5204b17d1155914dd4663a2d928712ebb288997868ec3443e13",
  );
  assert.deepEqual(out["history.json"].loss, [
    2.2089387008122037,
    2.0671603906722296,
    1.8901385012127103,
  ]);
});

for (const targets of ["last", "all"] as const) {
  Deno.test(`train frees every tensor it makes (targets ${targets})`, async () => {
    const leftAfter = async (epochs: number) => {
      const config = tinyTrainConfig();
      config.train.epochs = epochs;
      config.train.targets = targets;
      const before = tf.memory().numTensors;
      await train.run(trainInputs(TUNE, 8, HELD_OUT), config, fakeContext());
      return tf.memory().numTensors - before;
    };
    await leftAfter(1); // the first run also makes tfjs's lasting tensors (kernel caches and the like)
    assert.equal(await leftAfter(1), 0);
    assert.equal(await leftAfter(3), 0);
  });
}

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

for (
  const [lstm, targets] of [["tfjs", "last"], ["auto", "last"], ["auto", "all"]] as const
) {
  Deno.test(`train interrupted after an epoch resumes there and ends as an uninterrupted run (lstm ${lstm}, targets ${targets})`, async () => {
    const config = tinyTrainConfig();
    Object.assign(config.train, { epochs: 3, lstm, targets, recurrentDropout: 0.3, dropout: 0.3 });
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
  const drawn = await losscurve.run(
    { history: scored["history.json"], validation: v },
    config,
    fakeContext(),
  );
  const drawnPlain = await losscurve.run(
    { history: plain["history.json"], validation: plain["validation.json"] },
    config,
    fakeContext(),
  );
  assert.match(drawnPlain["loss.svg"], /<svg/);
  assert.match(drawn["loss.svg"], /class="val-loss"/);
  assert.doesNotMatch(drawnPlain["loss.svg"], /val-loss/);
  // The yardstick of a model that ignores context: the training targets' frequencies.
  const inputs = trainInputs(TUNE, 8, HELD_OUT);
  const contextFree = contextFreeScore(inputs.y.data, inputs.valY.data, inputs.vocab.tokens.length);
  assert.deepEqual(v.contextFree, contextFree);
  assert.equal(ctx.collected.metrics.valContextFreeLoss, contextFree.loss);
  assert.ok(
    ctx.collected.infos.some((line) => line.includes(`loss ${contextFree.loss.toFixed(4)}`)),
  );
  assert.match(drawn["loss.svg"], /class="context-free"/);
  assert.equal(plain["validation.json"].contextFree, undefined);
}

Deno.test("train warns when the checkpoint kept does no better than ignoring the context", async () => {
  // Three epochs of a tiny network have learnt the tune's frequencies and little else.
  const config = tinyTrainConfig();
  config.train.epochs = 3;
  const ctx = fakeContext();
  const out = await train.run(trainInputs(TUNE, 8, HELD_OUT), config, ctx);
  const v = out["validation.json"];
  const epoch = out["history.json"].bestEpoch;
  assert.ok(v.loss[epoch - 1]! >= v.contextFree!.loss);
  assert.deepEqual(ctx.collected.warnings, [
    `the checkpoint kept (epoch ${epoch}) scores validation loss ${
      v.loss[epoch - 1]!.toFixed(4)
    }, no better than the ${v.contextFree!.loss.toFixed(4)} of ignoring the context; ` +
    "no epoch did better: try more epochs, another train.learningRate or more files",
  ]);

  // Held out the tune itself, which a larger network learns by heart within 20 epochs: better
  // than the level, no warning.
  Object.assign(config.train, { epochs: 20, lstmUnits: 32, denseUnits: 16, learningRate: 0.02 });
  config.train.lstm = "auto";
  const learnt = fakeContext();
  const fit = await train.run(trainInputs(TUNE, 8, TUNE), config, learnt);
  const kept = fit["validation.json"].loss[fit["history.json"].bestEpoch - 1]!;
  assert.ok(kept < fit["validation.json"].contextFree!.loss, `kept ${kept}`);
  assert.deepEqual(learnt.collected.warnings, []);
});

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

/** Steps per epoch, as the progress bars count them. */
function countingSteps() {
  const steps: number[] = [];
  const ctx = fakeContext();
  ctx.progress = (_: string, total: number) => (steps.push(total), { tick() {}, done() {} });
  return { ctx, steps };
}

Deno.test("train.targets all trains on windows train.stride apart: about 1/window.length of the steps", async () => {
  // 50 tokens, windows of 8: 42 windows one token apart, in 3 batches of 16 ...
  const last = countingSteps();
  await train.run(trainInputs(TUNE, 8), tinyTrainConfig(), last.ctx);
  assert.deepEqual(last.steps, [3, 3]);
  // ... against 6 that do not overlap (starts 0, 8, …, 40; 48 targets), one batch.
  const config = tinyTrainConfig();
  config.train.targets = "all";
  const all = countingSteps();
  await train.run(trainInputs(TUNE, 8), config, all.ctx);
  assert.deepEqual(all.steps, [1, 1]);
  assert.equal(all.ctx.collected.metrics.windows, 6);
  assert.match(
    all.ctx.collected.infos.join("\n"),
    /6 windows of 8 \(8 tokens apart, .* 48 targets\)/,
  );
  // Two tokens apart: starts 0, 2, …, 40.
  config.train.stride = 2;
  const strided = countingSteps();
  await train.run(trainInputs(TUNE, 8), config, strided.ctx);
  assert.equal(strided.ctx.collected.metrics.windows, 21);
  assert.deepEqual(strided.steps, [2, 2]);
});

/** A stream the tiny network can learn: the tune's first 14 tokens over and over. */
const PERIODIC = Array.from({ length: 120 }, (_, i) => TUNE[i % 14]!);

Deno.test("train.targets all learns, and its checkpoint is the tutorial's model, generating in both modes", async () => {
  const config = tinyTrainConfig();
  Object.assign(config.train, {
    targets: "all",
    lstm: "auto",
    lstmUnits: 16,
    denseUnits: 16,
    epochs: 10,
    batchSize: 4,
    dropout: 0,
    recurrentDropout: 0,
    learningRate: 0.03,
  });
  const inputs = trainInputs(PERIODIC, 8, PERIODIC.slice(3, 60));
  const out = await train.run(inputs, config, fakeContext());
  const loss = out["history.json"].loss;
  assert.ok(loss.at(-1)! < 0.6 * loss[0]!, `loss ${loss.join(", ")}`);

  // The same model.json as the tutorial's objective writes: same layers, names and shapes (the
  // number of epochs is in neither).
  const last = await train.run(
    inputs,
    { ...config, train: { ...config.train, targets: "last", epochs: 1 } },
    fakeContext(),
  );
  assert.deepEqual(out["model.json"], last["model.json"]);
  assert.notDeepEqual(out["weights.bin"], last["weights.bin"]);

  // Generation reads it as any checkpoint, in both modes (both start from the same window).
  config.generate.length = 20;
  const vocabulary = inputs.vocab.tokens;
  const generateInputs = {
    tokens: PERIODIC,
    vocab: inputs.vocab,
    encoding: { encoding: "music21", stepsPerQuarter: 4, velocity: "off" } as const,
    modelJson: out["model.json"],
    weights: out["weights.bin"],
    history: out["history.json"],
    testFiles: emptySequences(),
  };
  const pieces: Record<string, string[]> = {};
  for (const mode of ["window", "stateful"] as const) {
    config.generate.mode = mode;
    pieces[mode] = (await generate.run(generateInputs, config, fakeContext()))["tokens.json"];
    assert.equal(pieces[mode]!.length, 20);
    for (const token of pieces[mode]!) assert.ok(vocabulary.includes(token), token);
  }
  assert.equal(pieces.stateful![0], pieces.window![0]);
});

Deno.test("train.targets all is scored as last is: the next-token loss after each held-out window", async () => {
  const config = tinyTrainConfig();
  Object.assign(config.train, { targets: "all", epochs: 2, monitor: "val_loss" });
  const inputs = trainInputs(TUNE, 8, HELD_OUT);
  const out = await train.run(inputs, config, fakeContext());
  const v = out["validation.json"];
  // The held-out windows are the window stage's: one token apart, one target each.
  assert.equal(v.windows, inputs.valY.shape[0]);
  // The score of the kept epoch is the saved model's on those windows, as evaluate gives it.
  const model = await loadCheckpoint({
    "model.json": out["model.json"],
    "weights.bin": out["weights.bin"],
  });
  const held = { x: inputs.valX.data, y: inputs.valY.data, count: v.windows, length: 8 };
  const score = await evaluate(model, held);
  model.dispose();
  assert.equal(score.loss, v.loss[out["history.json"].bestEpoch - 1]);
});

Deno.test("train.stride without train.targets all is refused before any stage runs", () => {
  const config = tinyTrainConfig();
  config.train.stride = 4;
  assert.throws(() => train.check!(config), /train\.stride .* train\.targets is last/);
  config.train.targets = "all";
  train.check!(config);
});

Deno.test("train.targets all refuses windows that do not spell out one token stream", async () => {
  const inputs = trainInputs(TUNE, 8);
  const x = Float32Array.from(inputs.x.data);
  x.copyWithin(8, 16, 24); // the second window replaced by the third
  inputs.x = { ...inputs.x, data: x };
  const config = tinyTrainConfig();
  config.train.targets = "all";
  await assert.rejects(
    () => train.run(inputs, config, fakeContext()),
    (error: unknown) =>
      error instanceof StageInputError && /rerun with --force window/.test(error.message),
  );
});
