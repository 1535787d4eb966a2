/**
 * The training loop: fits the tutorial's network to windows and keeps the best checkpoint.
 *
 * As the tutorial's `model.fit(..., epochs, batch_size)` with `ModelCheckpoint(monitor="loss",
 * save_best_only=True)`: categorical cross-entropy, Adam, shuffled batches, and after each epoch
 * the weights are kept if the epoch's mean loss is the lowest so far (or, `monitor: val_loss`, its
 * held-out loss). The loop is written out (one `trainOnBatch` per batch) so that shuffling comes
 * from the seed, one-hot targets are made one batch at a time (a [windows, vocab] matrix of the
 * whole set would take gigabytes), progress and interrupts are seen between batches, and the
 * checkpoint is bytes, not files.
 *
 * With {@link FitData.everyStep} the network is trained with a target at every position, and
 * what is scored, kept and saved is the tutorial's model with the trained weights copied in (the
 * last LSTM giving its last step only), so validation is the same yardstick for both objectives
 * and generation loads the checkpoint as any other.
 *
 * Everything outside the model comes through {@link FitHooks} (a stage's context fits it): info
 * lines, progress bars, the interrupt signal and the saved work of an interrupted run, which
 * {@link fitModel} resumes after its last finished epoch.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  buildModel,
  copyWeights,
  disposeModel,
  type NetworkSettings,
  startEpoch,
} from "./build_model.ts";
import { type CheckpointFiles, saveCheckpoint } from "./checkpoint.ts";
import { ModelError } from "./errors.ts";
import { contextFreeScore, evaluate, type Evaluation } from "./evaluate.ts";
import type { LstmImplementation } from "./lstm_implementation.ts";
import { mixSeed, seededRandom, shuffleInPlace } from "./random.ts";
import { type EpochProgress, restoreTrainingState, saveTrainingState } from "./training_state.ts";

/** The windows training visits. */
export interface FitData {
  /** [count × length] normalised ids, window after window. */
  x: Float32Array;
  /** Target class ids: [count], or [count × length] when {@link everyStep}. */
  y: Int32Array;
  count: number;
  length: number;
  vocabSize: number;
  /** A target at every position (`train.targets: all`) instead of one after each window. */
  everyStep: boolean;
  /** Tokens from the start of one window to the start of the next. */
  stride: number;
  /**
   * The targets a model that ignores context learns the frequencies of: the next token after
   * each window one token apart (the window stage's `y`), whatever {@link y} holds.
   */
  nextTokens: Int32Array;
}

/** Held-out windows, one target after each; `count` 0 when validation is off. */
export interface HeldOutData {
  x: Float32Array;
  y: Int32Array;
  count: number;
  length: number;
}

/** What shapes and drives training (the pipeline's `train` section has these keys among others). */
export interface FitSettings extends NetworkSettings {
  learningRate: number;
  batchSize: number;
  epochs: number;
  shuffle: boolean;
  /** Which loss picks the checkpoint kept: the training loss (the tutorial's) or the held-out one. */
  monitor: "loss" | "val_loss";
  /** What computes the LSTM layers. */
  lstm: LstmImplementation;
}

/** A progress bar, as a stage's context gives one. */
export interface FitProgress {
  tick(n?: number, note?: string): void;
  done(): void;
}

/** What training asks of the outside world; a stage's context is one. */
export interface FitHooks {
  /** One line for the user. */
  info(line: string): void;
  /** Starts a progress bar of `total` steps. */
  progress(label: string, total: number): FitProgress;
  /** Aborted when the user interrupts the run: training stops between batches. */
  signal: AbortSignal;
  /** The work of an interrupted run: saved after every epoch but the last, loaded at the start. */
  resume: {
    load(): Promise<Record<string, Uint8Array> | undefined>;
    save(files: Record<string, Uint8Array>): Promise<void>;
  };
}

/** The epoch whose weights are kept, with the loss it was chosen by. */
export interface KeptEpoch {
  epoch: number;
  /** Its training loss. */
  loss: number;
  /** Its validation loss, when the checkpoint follows it (`monitor: val_loss`). */
  score?: number;
}

/** What {@link fitModel} gives back. */
export interface FitResult {
  /** The checkpoint of the kept epoch. */
  checkpoint: CheckpointFiles;
  kept: KeptEpoch;
  /** Mean loss of each epoch, weighted by batch size. */
  losses: number[];
  /** Seconds each epoch's training took (without scoring). */
  secondsPerEpoch: number[];
  /** The held-out scores after each epoch (empty when validation is off). */
  scores: Evaluation[];
  /** The same scores for a model that ignores context, when validation is on. */
  contextFree?: Evaluation;
  /** The epoch an earlier, interrupted run had finished, when this one resumed after it. */
  resumedAfterEpoch?: number;
}

/** The model trained, and the one scored and saved (the same unless every step is a target). */
interface Models {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  kept: tf.LayersModel;
}

/** Where training stands after each epoch: what resuming restores. */
interface FitState {
  losses: number[];
  secondsPerEpoch: number[];
  scores: Evaluation[];
  best?: KeptEpoch & { files: CheckpointFiles };
  /** The last finished epoch, 0 before the first. */
  epoch: number;
}

/**
 * Trains a network built from `settings` on `data`, scoring it on `held` after every epoch, and
 * keeps the checkpoint of the lowest monitored loss. Resumes after the last finished epoch of an
 * interrupted run when `hooks.resume` holds one.
 *
 * @throws {ModelError} when no epoch gave a finite loss.
 */
export async function fitModel(
  data: FitData,
  held: HeldOutData,
  settings: FitSettings,
  hooks: FitHooks,
): Promise<FitResult> {
  const models = compiledModels(data, settings);
  const batchSize = Math.min(settings.batchSize, data.count);
  hooks.info(describeData(data, models.model.countParams(), batchSize));
  const contextFree = held.count > 0
    ? contextFreeScore(data.nextTokens, held.y, data.vocabSize)
    : undefined;
  if (contextFree) hooks.info(describeContextFree(held.count, contextFree));
  let state: FitState = { losses: [], secondsPerEpoch: [], scores: [], epoch: 0 };
  let resumedAfterEpoch: number | undefined;
  try {
    const saved = await hooks.resume.load();
    if (saved !== undefined) {
      state = await restoredState(models, saved);
      resumedAfterEpoch = state.epoch;
      hooks.info(
        `resuming after epoch ${state.epoch} of ${settings.epochs}, saved by an earlier run`,
      );
    }
    while (state.epoch < settings.epochs) {
      await fitEpoch(models, data, held, settings, batchSize, state, hooks);
      if (state.epoch < settings.epochs) await hooks.resume.save(await savedState(models, state));
    }
  } finally {
    disposeModel(models.model); // and its optimizer
    if (models.kept !== models.model) disposeModel(models.kept);
  }
  const { best, losses, secondsPerEpoch, scores } = state;
  if (best === undefined) {
    throw new ModelError(
      `the loss was not a finite number in any of ${settings.epochs} epochs ` +
        `(found ${losses.join(", ")}); lower train.learningRate`,
    );
  }
  const { files: checkpoint, ...kept } = best;
  return {
    checkpoint,
    kept,
    losses,
    secondsPerEpoch,
    scores,
    ...(contextFree ? { contextFree } : {}),
    ...(resumedAfterEpoch !== undefined ? { resumedAfterEpoch } : {}),
  };
}

/**
 * The network to train, compiled with Adam and categorical cross-entropy, and the one to score
 * and save: with every step a target, the tutorial's model that the trained weights are copied
 * into after each epoch (a checkpoint of the every-step model would give a softmax per step,
 * which generation does not read). That one is compiled as the trained one so model.json's
 * training config is the same; its own optimizer never takes a step.
 */
function compiledModels(data: FitData, settings: FitSettings): Models {
  const network = { vocabSize: data.vocabSize, windowLength: data.length, lstm: settings.lstm };
  const model = buildModel(settings, { ...network, everyStep: data.everyStep });
  const optimizer = tf.train.adam(settings.learningRate);
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
  const kept = data.everyStep ? buildModel(settings, network) : model;
  if (kept !== model) {
    kept.compile({
      optimizer: tf.train.adam(settings.learningRate),
      loss: "categoricalCrossentropy",
    });
  }
  return { model, optimizer, kept };
}

/** The line that says what training will visit. */
function describeData(data: FitData, parameters: number, batchSize: number): string {
  const steps = Math.ceil(data.count / batchSize);
  const cut = data.everyStep
    ? ` (${data.stride} tokens apart, a target at every position: ` +
      `${data.count * data.length} targets)`
    : "";
  return `${data.count} windows of ${data.length}${cut}, vocabulary ${data.vocabSize}, ` +
    `${parameters} parameters, ${steps} steps per epoch`;
}

/** The line that gives the level a model must get below to have learnt from the context. */
function describeContextFree(windows: number, contextFree: Evaluation): string {
  return `${windows} held-out windows; a model that ignores context (the training targets' ` +
    `frequencies) scores loss ${contextFree.loss.toFixed(4)}, accuracy ${
      percent(contextFree.top1)
    } (top 5: ${percent(contextFree.top5)})`;
}

/**
 * One epoch: a pass over the shuffled windows, timed; then the held-out score, the checkpoint
 * if the monitored loss improved, and the epoch's line. Advances `state`.
 */
async function fitEpoch(
  { model, kept }: Models,
  data: FitData,
  held: HeldOutData,
  settings: FitSettings,
  batchSize: number,
  state: FitState,
  hooks: FitHooks,
): Promise<void> {
  const epoch = state.epoch + 1;
  const label = `epoch ${epoch}/${settings.epochs}`;
  const started = performance.now();
  startEpoch(model, epoch);
  const order = epochOrder(data.count, settings.shuffle, settings.seed, epoch);
  const loss = await trainEpoch(model, data, order, batchSize, hooks, label);
  state.losses.push(loss);
  // Scored after the epoch's timing: the time is training's, the score a measurement.
  state.secondsPerEpoch.push(round((performance.now() - started) / 1000, 3));
  if (kept !== model) copyWeights(model, kept);
  const score = held.count > 0 ? await evaluate(kept, held) : undefined;
  if (score) state.scores.push(score);
  const byValidation = settings.monitor === "val_loss";
  const monitored = byValidation ? score?.loss ?? NaN : loss;
  const { best } = state;
  const improved = Number.isFinite(monitored) &&
    (best === undefined || monitored < (best.score ?? best.loss));
  if (improved) {
    const files = await saveCheckpoint(kept);
    state.best = { epoch, loss, ...(byValidation ? { score: monitored } : {}), files };
  }
  state.epoch = epoch;
  const scored = score
    ? `, validation loss ${score.loss.toFixed(4)}, accuracy ${percent(score.top1)} ` +
      `(top 5: ${percent(score.top5)})`
    : "";
  const keptNote = improved
    ? ` (lowest ${byValidation ? "validation" : "training"} loss so far: checkpoint kept)`
    : "";
  hooks.info(`${label}: loss ${loss.toFixed(4)}${scored}${keptNote}`);
}

/** The saved work of an interrupted run, restored into the freshly built models. */
async function restoredState(
  { model, optimizer }: Models,
  saved: Record<string, Uint8Array>,
): Promise<FitState> {
  const progress = await restoreTrainingState(model, optimizer, saved);
  const { losses, secondsPerEpoch, epoch } = progress;
  const state: FitState = { losses, secondsPerEpoch, scores: progress.validation ?? [], epoch };
  if (progress.best) {
    const files = {
      "model.json": saved["best/model.json"]!,
      "weights.bin": saved["best/weights.bin"]!,
    };
    state.best = { ...progress.best, files };
  }
  return state;
}

/** The files that let an interrupted run resume after `state`'s epoch. */
async function savedState(
  { model, optimizer }: Models,
  state: FitState,
): Promise<Record<string, Uint8Array>> {
  const { best, losses, secondsPerEpoch, scores } = state;
  const progress: EpochProgress = {
    epoch: state.epoch,
    losses,
    secondsPerEpoch,
    best: best && { epoch: best.epoch, loss: best.loss, score: best.score },
    ...(scores.length > 0 ? { validation: scores } : {}),
  };
  const bestFiles: Record<string, Uint8Array> = best
    ? { "best/model.json": best.files["model.json"], "best/weights.bin": best.files["weights.bin"] }
    : {};
  return await saveTrainingState(model, optimizer, progress, bestFiles);
}

/** Window indices in the order one epoch visits them: shuffled from (seed, epoch) if asked. */
export function epochOrder(count: number, shuffle: boolean, seed: number, epoch: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (!shuffle) return order;
  // Mixes the epoch into the seed so each epoch has its own order, repeatable from the seed.
  return shuffleInPlace(order, seededRandom(mixSeed(seed, epoch)));
}

/** One pass over the windows in `order`; returns the mean loss weighted by batch size. */
async function trainEpoch(
  model: tf.LayersModel,
  data: FitData,
  order: number[],
  batchSize: number,
  hooks: FitHooks,
  label: string,
): Promise<number> {
  const steps = Math.ceil(order.length / batchSize);
  const bar = hooks.progress(label, steps);
  let weightedSum = 0;
  let seen = 0;
  try {
    for (let step = 0; step < steps; step++) {
      hooks.signal.throwIfAborted();
      const batch = order.slice(step * batchSize, (step + 1) * batchSize);
      const [x, y] = batchTensors(data, batch);
      let loss: number;
      try {
        loss = await model.trainOnBatch(x, y) as number;
      } finally {
        tf.dispose([x, y]);
      }
      weightedSum += loss * batch.length;
      seen += batch.length;
      bar.tick(1, `loss ${(weightedSum / seen).toFixed(4)}`);
      // On the cpu and wasm backends trainOnBatch resolves without a macrotask turn; yield one so
      // an interrupt (the signal) and the progress redraw get a chance to run.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    bar.done();
  }
  return weightedSum / seen;
}

/**
 * The inputs and one-hot targets of the windows `batch`: [batch, length, 1] and [batch, vocab],
 * or [batch, length, vocab] for a target at every position.
 */
function batchTensors(data: FitData, batch: number[]): [tf.Tensor, tf.Tensor] {
  const targets = data.everyStep ? data.length : 1; // per window
  const xs = new Float32Array(batch.length * data.length);
  const ys = new Int32Array(batch.length * targets);
  batch.forEach((w, row) => {
    xs.set(data.x.subarray(w * data.length, (w + 1) * data.length), row * data.length);
    ys.set(data.y.subarray(w * targets, (w + 1) * targets), row * targets);
  });
  return tf.tidy(() => [
    tf.tensor3d(xs, [batch.length, data.length, 1]),
    tf.oneHot(
      data.everyStep
        ? tf.tensor2d(ys, [batch.length, data.length], "int32")
        : tf.tensor1d(ys, "int32"),
      data.vocabSize,
    ),
  ]);
}

/** A share as a percentage with one decimal, as the epoch lines print it. */
function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
