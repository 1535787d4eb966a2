/**
 * train: fits the tutorial's network to the windows and keeps the best checkpoint.
 *
 * As the tutorial's `model.fit(..., epochs, batch_size)` with `ModelCheckpoint(monitor="loss",
 * save_best_only=True)`: categorical cross-entropy, Adam, shuffled batches, and after each epoch
 * the weights are kept if the epoch's mean loss is the lowest so far. The loop is written out
 * (one `trainOnBatch` per batch) so that shuffling comes from `train.seed`, one-hot targets are
 * made one batch at a time (a [windows, vocab] matrix of the whole set would take gigabytes),
 * progress and interrupts are seen between batches, and the checkpoint is bytes, not files.
 *
 * `train.targets: all` trains the same network on a denser objective: windows `train.stride`
 * tokens apart (cut again from the token stream the window stage's windows spell out, see
 * stages/_sequence_windows.ts) with the next token as the target at every position, the head
 * applied at every step. Each epoch then takes about 1/window.length of the tutorial's steps and
 * still makes every token a target. What is scored, kept and saved is the tutorial's model with
 * the trained weights copied in (the last LSTM giving its last step only), so validation is the
 * same yardstick for both and generation loads the checkpoint as any other.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { defineStage, input, type StageContext, StageInputError } from "../core/stage.ts";
import type { Config } from "../core/config_schema.ts";
import { rawBytes } from "../formats/codec.ts";
import {
  type TrainHistory,
  trainHistory,
  type ValidationHistory,
  validationHistory,
} from "../formats/history.ts";
import { type NpyArray, npyCodec } from "../formats/npy.ts";
import { vocabulary } from "../formats/tokens.ts";
import { selectBackend } from "../model/backend.ts";
import { ModelError } from "../model/errors.ts";
import { buildModel, copyWeights, disposeModel, startEpoch } from "../model/build_model.ts";
import { assertTrainingFits } from "../model/memory_estimate.ts";
import { contextFreeScore, evaluate, type Evaluation } from "../model/evaluate.ts";
import { restoreTrainingState, saveTrainingState } from "../model/training_state.ts";
import { saveCheckpoint } from "../model/checkpoint.ts";
import { type LstmImplementation, resolveLstm } from "../model/lstm_implementation.ts";
import { mixSeed, seededRandom, shuffleInPlace } from "../model/random.ts";
import { makeSequenceWindows, streamOfWindows } from "./_sequence_windows.ts";

/** The windows training visits: the window stage's, or (targets all) those cut again from them. */
interface TrainingData {
  /** [count × length] normalised ids, window after window. */
  x: Float32Array;
  /** Target class ids: [count], or [count × length] when {@link everyStep}. */
  y: Int32Array;
  count: number;
  length: number;
  vocabSize: number;
  /** A target at every position (`train.targets: all`) instead of one after each window. */
  everyStep: boolean;
}

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
  async run({ x, y, vocab, valX, valY }, config, ctx) {
    const settings = config.train;
    const windows = trainingData(x, y, vocab.tokens.length);
    const data = settings.targets === "all" ? everyStepData(windows, settings.stride) : windows;
    const held = { x: valX.data, y: valY.data, count: valY.shape[0] ?? 0, length: data.length };
    if (settings.monitor === "val_loss" && held.count === 0) {
      throw new StageInputError(
        "train.monitor val_loss needs validation windows, but heldout gave none: raise validation.count",
      );
    }
    try {
      assertTrainingFits(
        { ...settings, vocabSize: data.vocabSize, windowLength: data.length },
        memoryBudget(),
      );
    } catch (e) {
      throw new StageInputError((e as Error).message);
    }
    const { backend, reason } = await asStageInput(() => selectBackend(settings.backend));
    const lstm = await asStageInput(() => resolveLstm(settings.lstm, backend));
    const description = lstm.id;
    const blasPath = blasLibraryOf(lstm);
    const blas = blasPath !== null ? ` on ${blasPath}` : "";
    ctx.info(`backend ${backend} (${reason}); LSTM kernel ${description}${blas}`);
    ctx.metric("backend", backend);
    ctx.metric("lstmKernel", description);
    if (blasPath !== null) ctx.metric("blasLibrary", blasPath);

    const network = { vocabSize: data.vocabSize, windowLength: data.length, lstm };
    const model = buildModel(settings, { ...network, everyStep: data.everyStep });
    const optimizer = tf.train.adam(settings.learningRate);
    model.compile({ optimizer, loss: "categoricalCrossentropy" });
    // What is scored and saved: the model itself, or with targets all the tutorial's model that
    // the trained weights are copied into after each epoch (a checkpoint of the every-step model
    // would give a softmax per step, which generation does not read). Compiled as the trained
    // one so model.json's training config is the same; its own optimizer never takes a step.
    const kept = data.everyStep ? buildModel(settings, network) : model;
    if (kept !== model) {
      kept.compile({
        optimizer: tf.train.adam(settings.learningRate),
        loss: "categoricalCrossentropy",
      });
    }
    const batchSize = Math.min(settings.batchSize, data.count);
    const steps = Math.ceil(data.count / batchSize);
    const cut = data.everyStep
      ? ` (${settings.stride || data.length} tokens apart, a target at every position: ` +
        `${data.count * data.length} targets)`
      : "";
    ctx.info(
      `${data.count} windows of ${data.length}${cut}, vocabulary ${data.vocabSize}, ` +
        `${model.countParams()} parameters, ${steps} steps per epoch`,
    );
    if (data.everyStep) ctx.metric("windows", data.count);
    const contextFree = held.count > 0
      ? contextFreeScore(y.data, held.y, data.vocabSize)
      : undefined;
    if (contextFree) {
      ctx.info(
        `${held.count} held-out windows; a model that ignores context (the training targets' ` +
          `frequencies) scores loss ${contextFree.loss.toFixed(4)}, accuracy ${
            percent(contextFree.top1)
          } (top 5: ${percent(contextFree.top5)})`,
      );
    }

    let losses: number[] = [];
    let secondsPerEpoch: number[] = [];
    let scores: Evaluation[] = [];
    let best:
      | { epoch: number; loss: number; score?: number; files: Record<string, Uint8Array> }
      | undefined;
    let firstEpoch = 1;
    try {
      // A run that stopped part way (Ctrl-C, a crash) left its last finished epoch behind.
      const saved = await ctx.resume.load();
      if (saved !== undefined) {
        const progress = await restoreTrainingState(model, optimizer, saved);
        ({ losses, secondsPerEpoch } = progress);
        scores = progress.validation ?? [];
        firstEpoch = progress.epoch + 1;
        if (progress.best) {
          best = {
            ...progress.best,
            files: {
              "model.json": saved["best/model.json"]!,
              "weights.bin": saved["best/weights.bin"]!,
            },
          };
        }
        ctx.info(
          `resuming after epoch ${progress.epoch} of ${settings.epochs}, saved by an earlier run`,
        );
        ctx.metric("resumedAfterEpoch", progress.epoch);
      }
      for (let epoch = firstEpoch; epoch <= settings.epochs; epoch++) {
        const started = performance.now();
        startEpoch(model, epoch);
        const order = epochOrder(data.count, settings.shuffle, settings.seed, epoch);
        const loss = await trainEpoch(model, data, order, batchSize, {
          ctx,
          label: `epoch ${epoch}/${settings.epochs}`,
        });
        losses.push(loss);
        // Scored after the epoch's timing: the time is training's, the score a measurement.
        secondsPerEpoch.push(round((performance.now() - started) / 1000, 3));
        if (kept !== model) copyWeights(model, kept);
        const score = held.count > 0 ? await evaluate(kept, held) : undefined;
        if (score) scores.push(score);
        // What the kept checkpoint follows: the training loss (the tutorial's) or the held-out one.
        const monitored = settings.monitor === "val_loss" ? score?.loss ?? NaN : loss;
        const improved = Number.isFinite(monitored) &&
          (best === undefined || monitored < (best.score ?? best.loss));
        if (improved) {
          best = {
            epoch,
            loss,
            ...(settings.monitor === "val_loss" ? { score: monitored } : {}),
            files: { ...(await saveCheckpoint(kept)) },
          };
        }
        ctx.info(
          `epoch ${epoch}/${settings.epochs}: loss ${loss.toFixed(4)}` +
            (score
              ? `, validation loss ${score.loss.toFixed(4)}, accuracy ${
                percent(score.top1)
              } (top 5: ${percent(score.top5)})`
              : "") +
            (improved
              ? ` (lowest ${
                settings.monitor === "val_loss" ? "validation" : "training"
              } loss so far: checkpoint kept)`
              : ""),
        );
        if (epoch < settings.epochs) {
          const progress = {
            epoch,
            losses,
            secondsPerEpoch,
            best: best && { epoch: best.epoch, loss: best.loss, score: best.score },
            ...(scores.length > 0 ? { validation: scores } : {}),
          };
          const bestFiles: Record<string, Uint8Array> = best
            ? {
              "best/model.json": best.files["model.json"]!,
              "best/weights.bin": best.files["weights.bin"]!,
            }
            : {};
          await ctx.resume.save(await saveTrainingState(model, optimizer, progress, bestFiles));
        }
      }
    } finally {
      disposeModel(model); // and its optimizer
      if (kept !== model) disposeModel(kept);
    }
    if (best === undefined) {
      throw new StageInputError(
        `the loss was not a finite number in any of ${settings.epochs} epochs ` +
          `(found ${losses.join(", ")}); lower train.learningRate`,
      );
    }

    const keptScore = scores[best.epoch - 1];
    if (contextFree && keptScore && keptScore.loss >= contextFree.loss) {
      ctx.warn(keptCheckpointWarning(best.epoch, keptScore.loss, contextFree.loss, scores));
    }
    const history: TrainHistory = {
      loss: losses,
      bestEpoch: best.epoch,
      bestLoss: best.loss,
      backend,
      lstmKernel: description,
      ...(settings.monitor === "val_loss" ? { monitor: "val_loss", bestValLoss: best.score } : {}),
    };
    const validation: ValidationHistory = {
      windows: held.count,
      loss: scores.map((s) => s.loss),
      top1: scores.map((s) => s.top1),
      top5: scores.map((s) => s.top5),
      perplexity: scores.map((s) => s.perplexity),
      ...(contextFree ? { contextFree } : {}),
    };
    // Timings go to the run record, not into history.json: outputs must be the same bytes on
    // every run of the same key, or downstream keys (and reproduce checks) would change.
    ctx.metric("loss", losses);
    ctx.metric("bestLoss", best.loss);
    ctx.metric("bestEpoch", best.epoch);
    ctx.metric("secondsPerEpoch", secondsPerEpoch);
    if (contextFree) {
      ctx.metric("valLoss", validation.loss);
      ctx.metric("valAccuracy", validation.top1);
      ctx.metric("valTop5", validation.top5);
      ctx.metric("valPerplexity", validation.perplexity);
      ctx.metric("valContextFreeLoss", contextFree.loss);
    }
    return {
      "model.json": best.files["model.json"]!,
      "weights.bin": best.files["weights.bin"]!,
      "history.json": history,
      "validation.json": validation,
    };
  },
});

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
): TrainingData {
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
  return { x: x.data, y: y.data, count, length, vocabSize, everyStep: false };
}

/**
 * The windows of `train.targets: all`: cut `stride` tokens apart (0: the window length) from
 * the token stream the window stage's windows, one token apart, spell out.
 */
function everyStepData(windows: TrainingData, stride: number): TrainingData {
  const { x, y, count, length, vocabSize } = windows;
  const ids = streamOfWindows(x, y, count, length, vocabSize);
  if (ids === null) {
    throw new StageInputError(
      "train.targets all cuts its windows from the token stream of the window stage's windows, " +
        "but x.npy and y.npy are not windows one token apart of one stream: rerun with --force window",
    );
  }
  const cut = makeSequenceWindows(ids, length, stride || length, vocabSize);
  return { x: cut.x, y: cut.y, count: cut.count, length, vocabSize, everyStep: true };
}

/** Window indices in the order one epoch visits them: shuffled from (seed, epoch) if asked. */
export function epochOrder(count: number, shuffle: boolean, seed: number, epoch: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (!shuffle) return order;
  // Mixes the epoch into the seed so each epoch has its own order, repeatable from train.seed.
  return shuffleInPlace(order, seededRandom(mixSeed(seed, epoch)));
}

/** One pass over the windows in `order`; returns the mean loss weighted by batch size. */
async function trainEpoch(
  model: tf.LayersModel,
  data: TrainingData,
  order: number[],
  batchSize: number,
  progress: { ctx: StageContext; label: string },
): Promise<number> {
  const { ctx, label } = progress;
  const steps = Math.ceil(order.length / batchSize);
  const targets = data.everyStep ? data.length : 1; // per window
  const bar = ctx.progress(label, steps);
  let weightedSum = 0;
  let seen = 0;
  try {
    for (let step = 0; step < steps; step++) {
      ctx.signal.throwIfAborted();
      const batch = order.slice(step * batchSize, (step + 1) * batchSize);
      const xs = new Float32Array(batch.length * data.length);
      const ys = new Int32Array(batch.length * targets);
      batch.forEach((w, row) => {
        xs.set(data.x.subarray(w * data.length, (w + 1) * data.length), row * data.length);
        ys.set(data.y.subarray(w * targets, (w + 1) * targets), row * targets);
      });
      const [x, y] = tf.tidy(() => [
        tf.tensor3d(xs, [batch.length, data.length, 1]),
        // [batch, vocab], or [batch, length, vocab] for a target at every position.
        tf.oneHot(
          data.everyStep
            ? tf.tensor2d(ys, [batch.length, data.length], "int32")
            : tf.tensor1d(ys, "int32"),
          data.vocabSize,
        ),
      ]);
      let loss: number;
      try {
        loss = await model.trainOnBatch(x!, y!) as number;
      } finally {
        tf.dispose([x!, y!]);
      }
      weightedSum += loss * batch.length;
      seen += batch.length;
      bar.tick(1, `loss ${(weightedSum / seen).toFixed(4)}`);
      // On the cpu and wasm backends trainOnBatch resolves without a macrotask turn; yield one so
      // an interrupt (ctx.signal) and the progress redraw get a chance to run.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    bar.done();
  }
  return weightedSum / seen;
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

/** A share as a percentage with one decimal, as the epoch lines print it. */
function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
