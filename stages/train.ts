/**
 * train: fits the tutorial's network to the windows and keeps the best checkpoint.
 *
 * The training loop is model/fit.ts's (the tutorial's `model.fit` with
 * `ModelCheckpoint(monitor="loss", save_best_only=True)`, written out batch by batch); this stage
 * reads the window stage's and heldout's windows, checks them against each other, the vocabulary
 * and the machine's memory, picks the backend and LSTM implementation, and turns what the fit
 * gives back into its outputs and the run record's metrics.
 *
 * `train.targets: all` trains the same network on a denser objective: windows `train.stride`
 * tokens apart (cut again from the token stream the window stage's windows spell out, see
 * stages/support/sequence_windows.ts) with the next token as the target at every position, the head
 * applied at every step. Each epoch then takes about 1/window.length of the tutorial's steps and
 * still makes every token a target. What is scored, kept and saved is the tutorial's model with
 * the trained weights copied in, so validation is the same yardstick for both and generation
 * loads the checkpoint as any other.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { defineStage, input, type StageContext, StageInputError } from "../core/stage.ts";
import { type Config, defaultConfig } from "../formats/config_schema.ts";
import { rawBytes } from "../formats/codec.ts";
import {
  type TrainHistory,
  trainHistory,
  type ValidationHistory,
  validationHistory,
} from "../formats/history.ts";
import { type NpyArray, npyCodec } from "../formats/npy.ts";
import { tokenEncoding, tokenList, vocabulary } from "../formats/tokens.ts";
import { parseReport } from "../formats/files.ts";
import { tokenSequences } from "../formats/sequences.ts";
import { trainSequence } from "./support/train_sequence.ts";
import { selectBackend } from "../model/backend.ts";
import { ModelError } from "../model/errors.ts";
import { assertTrainingFits } from "../model/memory_estimate.ts";
import type { Evaluation } from "../model/evaluate.ts";
import { type FitData, fitModel, type FitResult } from "../model/fit.ts";
import { type LstmImplementation, resolveLstm } from "../model/lstm_implementation.ts";
import { transformerSettingsError } from "../model/sequence/transformer.ts";
import { makeSequenceWindows, streamOfWindows } from "./support/sequence_windows.ts";

export const train = defineStage({
  name: "train",
  module: import.meta.url,
  description: "fits the LSTM network to the windows; keeps the lowest-loss checkpoint",
  inputs: {
    x: input("window", "x.npy", npyCodec("float32", 3)),
    y: input("window", "y.npy", npyCodec("int32", 1)),
    vocab: input("vocab", "vocab.json", vocabulary),
    valX: input("heldout", "x.npy", npyCodec("float32", 3)),
    valY: input("heldout", "y.npy", npyCodec("int32", 1)),
    // The sequence network's data: each file's tokens, and every held-out file's.
    notes: input("parse", "notes.json", tokenList),
    report: input("parse", "parse_report.json", parseReport),
    encoding: input("parse", "encoding.json", tokenEncoding),
    validationFiles: input("heldout", "validation-sequences.json", tokenSequences),
    testFiles: input("heldout", "test-sequences.json", tokenSequences),
  },
  outputs: {
    "model.json": rawBytes,
    "weights.bin": rawBytes,
    "history.json": trainHistory,
    "validation.json": validationHistory,
  },
  reads: ["train", "validation"],
  settledByEnvironment: ["train.backend", "train.lstm"],
  async environment(config) {
    return await trainEnvironment(config.train);
  },
  check(config) {
    checkNetworkKeys(config.train);
    if (config.train.network !== "tutorial") return;
    // Before any stage runs, the vocabulary and window are not known yet: the weights alone.
    assertTrainingFits({ ...config.train, vocabSize: 0, windowLength: 0 }, memoryBudget());
    // A stride the tutorial's windows ignore would give a new config hash for the same weights.
    if (config.train.stride !== 0 && config.train.targets !== "all") {
      throw new Error(
        `train.stride spaces the windows of train.targets all, but train.targets is ${config.train.targets}: set train.targets: all or leave train.stride out`,
      );
    }
    if (config.train.monitor === "val_loss" && config.validation.count === 0) {
      throw new Error(
        "train.monitor val_loss follows the validation loss, but validation.count is 0: set validation.count above 0 or train.monitor: loss",
      );
    }
  },
  async run(inputs, config, ctx) {
    const { x, y, vocab, valX, valY } = inputs;
    const settings = config.train;
    if (settings.network !== "tutorial") {
      const machine = await chooseMachine(settings, ctx);
      return await asStageInput(() =>
        trainSequence(
          {
            ...inputs,
            validation: inputs.validationFiles,
            test: inputs.testFiles,
          },
          settings,
          machine,
          ctx,
        )
      );
    }
    const windows = trainingData(x, y, vocab.tokens.length);
    const data = settings.targets === "all" ? everyStepData(windows, settings.stride) : windows;
    const held = { x: valX.data, y: valY.data, count: valY.shape[0] ?? 0, length: data.length };
    if (settings.monitor === "val_loss" && held.count === 0) {
      throw new StageInputError(
        "train.monitor val_loss needs validation windows, but heldout gave none: raise validation.count",
      );
    }
    await asStageInput(() =>
      assertTrainingFits(
        { ...settings, vocabSize: data.vocabSize, windowLength: data.length },
        memoryBudget(),
      )
    );
    const { backend, lstm } = await chooseMachine(settings, ctx);
    if (data.everyStep) ctx.metric("windows", data.count);

    const fit = await asStageInput(() => fitModel(data, held, { ...settings, lstm }, ctx));
    if (fit.resumedAfterEpoch !== undefined) ctx.metric("resumedAfterEpoch", fit.resumedAfterEpoch);
    const { kept, scores, contextFree } = fit;
    const keptScore = scores[kept.epoch - 1];
    if (contextFree && keptScore && keptScore.loss >= contextFree.loss) {
      ctx.warn(keptCheckpointWarning(kept.epoch, keptScore.loss, contextFree.loss, scores));
    }
    const history: TrainHistory = {
      loss: fit.losses,
      bestEpoch: kept.epoch,
      bestLoss: kept.loss,
      backend,
      lstmKernel: lstm.id,
      ...(settings.monitor === "val_loss" ? { monitor: "val_loss", bestValLoss: kept.score } : {}),
    };
    const validation = validationOf(held.count, fit);
    reportMetrics(ctx, fit, validation);
    return {
      "model.json": fit.checkpoint["model.json"],
      "weights.bin": fit.checkpoint["weights.bin"],
      "history.json": history,
      "validation.json": validation,
    };
  },
});

/** The backend and LSTM implementation this machine runs, said and recorded. */
async function chooseMachine(settings: Config["train"], ctx: StageContext) {
  const { backend, reason } = await asStageInput(() => selectBackend(settings.backend));
  const lstm = await asStageInput(() => resolveLstm(settings.lstm, backend));
  const blasPath = blasLibraryOf(lstm);
  // The Transformer has no LSTM: what it takes from the implementation is where products run.
  const what = settings.network === "transformer"
    ? `matrix products on ${blasPath ?? "tfjs"}`
    : `LSTM kernel ${lstm.id}${blasPath !== null ? ` on ${blasPath}` : ""}`;
  ctx.info(`backend ${backend} (${reason}); ${what}`);
  ctx.metric("backend", backend);
  ctx.metric("lstmKernel", lstm.id);
  if (blasPath !== null) ctx.metric("blasLibrary", blasPath);
  return { backend, lstm };
}

/**
 * The keys only the sequence network and the transformer read: set away from their defaults,
 * they need one of them.
 */
const SEQUENCE_KEYS = [
  "embedding",
  "barPosition",
  "lookbackBars",
  "cropLength",
  "weightDecay",
  "clipNorm",
  "schedule",
] as const;

/** The keys only the transformer reads. */
const TRANSFORMER_KEYS = ["blocks", "heads", "width"] as const;

/** Refuses a key of one network set for another, and a transformer that cannot be built. */
function checkNetworkKeys(train: Config["train"]): void {
  const defaults = defaultConfig().train;
  if (train.network !== "transformer") {
    const set = TRANSFORMER_KEYS.find((k) => train[k] !== defaults[k]);
    if (set !== undefined) {
      throw new Error(
        `train.${set} shapes the transformer, but train.network is ${train.network}: set train.network: transformer or leave train.${set} out`,
      );
    }
  } else {
    const refused = transformerSettingsError(train);
    if (refused !== "") throw new Error(refused);
  }
  if (train.network === "tutorial") {
    const set = SEQUENCE_KEYS.filter((k) => train[k] !== defaults[k]);
    if (set.length > 0) {
      throw new Error(
        `train.${
          set[0]
        } shapes the sequence network, but train.network is tutorial: set train.network: sequence or leave train.${
          set[0]
        } out`,
      );
    }
    return;
  }
  for (const key of ["targets", "stride", "monitor"] as const) {
    if (train[key] !== defaults[key]) {
      throw new Error(
        `train.${key} applies to the tutorial's network; the ${train.network} network trains on crops with a target at every step and keeps the epoch of the lowest validation loss: leave train.${key} out`,
      );
    }
  }
}

/** validation.json: the held-out scores of each epoch, and the context-free level. */
function validationOf(windows: number, { scores, contextFree }: FitResult): ValidationHistory {
  return {
    windows,
    loss: scores.map((s) => s.loss),
    top1: scores.map((s) => s.top1),
    top5: scores.map((s) => s.top5),
    perplexity: scores.map((s) => s.perplexity),
    ...(contextFree ? { contextFree } : {}),
  };
}

/**
 * The run record's metrics of the fit. Timings go there, not into history.json: outputs must be
 * the same bytes on every run of the same key, or downstream keys (and reproduce checks) would
 * change.
 */
function reportMetrics(ctx: StageContext, fit: FitResult, validation: ValidationHistory): void {
  ctx.metric("loss", fit.losses);
  ctx.metric("bestLoss", fit.kept.loss);
  ctx.metric("bestEpoch", fit.kept.epoch);
  ctx.metric("secondsPerEpoch", fit.secondsPerEpoch);
  if (fit.contextFree) {
    ctx.metric("valLoss", validation.loss);
    ctx.metric("valAccuracy", validation.top1);
    ctx.metric("valTop5", validation.top5);
    ctx.metric("valPerplexity", validation.perplexity);
    ctx.metric("valContextFreeLoss", fit.contextFree.loss);
  }
}

/**
 * The facts beyond code, config and inputs that change train's (and generate's) bytes: the tfjs
 * version, the backend that will actually run and the LSTM implementation (with its gate flavour,
 * native or JS, for the fused kernel). Resolving `auto` here means a machine where auto lands on
 * wasm never reuses a checkpoint made on tfjs-node.
 */
export async function trainEnvironment(
  settings: Pick<Config["train"], "backend" | "lstm">,
): Promise<Record<string, string>> {
  const { backend } = await selectBackend(settings.backend);
  const lstm = resolveLstm(settings.lstm, backend);
  const environment: Record<string, string> = {
    tfjs: tf.version.tfjs,
    backend,
    lstm: lstm.id,
  };
  // Another BLAS build may sum in another order: its checkpoints differ in the last bits.
  if (lstm.kind === "fused") environment.blas = blasLibraryOf(lstm) ?? "none";
  return environment;
}

/** The OpenBLAS the LSTM runs on (for the run record and the key), or null if none. */
function blasLibraryOf(lstm: LstmImplementation): string | null {
  return lstm.kind === "fused" ? lstm.blas?.path ?? null : null;
}

/**
 * Runs `work`, turning a setting model/ cannot honour on this machine (a ModelError) into this
 * stage's input error, in the same words.
 */
async function asStageInput<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ModelError) throw new StageInputError(e.message, { cause: e });
    throw e;
  }
}

/** What training may use: three quarters of the machine's memory, the rest left to the system. */
function memoryBudget(): number {
  return Deno.systemMemoryInfo().total * 0.75;
}

/** The windows as training reads them, checked against each other and the vocabulary. */
function trainingData(
  x: Extract<NpyArray, { dtype: "float32" }>,
  y: Extract<NpyArray, { dtype: "int32" }>,
  vocabSize: number,
): FitData {
  const [count = 0, length = 0, features] = x.shape;
  if (features !== 1) {
    throw new StageInputError(`x.npy must be [windows, length, 1] (found [${x.shape}])`);
  }
  if (y.shape[0] !== count) {
    throw new StageInputError(`y.npy must hold ${count} targets to match x.npy (found ${y.shape})`);
  }
  if (count === 0) throw new StageInputError("window gave no windows to train on");
  const outside = y.data.find((id) => id < 0 || id >= vocabSize);
  if (outside !== undefined) {
    throw new StageInputError(
      `y.npy holds class id ${outside}, outside the vocabulary of ${vocabSize} tokens`,
    );
  }
  // One target after each window, windows one token apart: the tutorial's.
  const next = y.data;
  return {
    x: x.data,
    y: next,
    count,
    length,
    vocabSize,
    everyStep: false,
    stride: 1,
    nextTokens: next,
  };
}

/**
 * The windows of `train.targets: all`: cut `stride` tokens apart (0: the window length) from
 * the token stream the window stage's windows, one token apart, spell out.
 */
function everyStepData(windows: FitData, stride: number): FitData {
  const { x, y, count, length, vocabSize, nextTokens } = windows;
  const ids = streamOfWindows(x, y, count, length, vocabSize);
  if (ids === null) {
    throw new StageInputError(
      "train.targets all cuts its windows from the token stream of the window stage's windows, " +
        "but x.npy and y.npy are not windows one token apart of one stream: rerun with --force window",
    );
  }
  const apart = stride || length;
  const { x: cutX, y: cutY, count: cutCount } = makeSequenceWindows(ids, length, apart, vocabSize);
  return {
    x: cutX,
    y: cutY,
    count: cutCount,
    length,
    vocabSize,
    everyStep: true,
    stride: apart,
    nextTokens,
  };
}

/**
 * Says that the checkpoint kept does no better on held-out windows than ignoring the context,
 * and which epoch did best there, if one did better.
 */
function keptCheckpointWarning(
  epoch: number,
  loss: number,
  contextFree: number,
  scores: readonly Evaluation[],
): string {
  const lowest = scores.reduce((b, s, i) => (s.loss < scores[b]!.loss ? i : b), 0);
  const better = scores[lowest]!.loss < contextFree
    ? `; epoch ${lowest + 1} did better (${scores[lowest]!.loss.toFixed(4)}), ` +
      "and train.monitor: val_loss keeps the epoch of the lowest validation loss"
    : "; no epoch did better: try more epochs, another train.learningRate or more files";
  return `the checkpoint kept (epoch ${epoch}) scores validation loss ${loss.toFixed(4)}, ` +
    `no better than the ${contextFree.toFixed(4)} of ignoring the context${better}`;
}
