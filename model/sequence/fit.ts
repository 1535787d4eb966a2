/**
 * Training of the Groove recipe's sequence model (model/sequence/network.ts): random crops of the
 * training files, a target at every position, AdamW with gradient clipping and a cosine schedule,
 * and after every epoch a score of every validation file read whole from its start; the
 * checkpoint of the lowest validation loss is kept.
 *
 * Crops. Each epoch lays a grid of `cropLength` steps over every file with a random phase, so
 * every training step is in exactly one crop per epoch (a file of at most `cropLength` steps is
 * one crop; the grid's first and last crops are cut to the file). Crops of full length go into
 * batches of `batchSize` in a seeded order; the shorter ones are batched with crops of similar
 * length (padded to the batch's longest, padding not scored), so little time goes to padding;
 * the batches are then shuffled together. The loss of a batch is the sum of its steps'
 * cross-entropies over `batchSize × cropLength`, so every training step weighs the same,
 * whatever batch it is in, and an epoch's training loss is the mean per step.
 *
 * Optimiser. Adam (β 0.9, 0.999, ε 1e-8) with decoupled weight decay as PyTorch's AdamW
 * (`w ← w − lr·weightDecay·w` on weight matrices and embeddings, not biases), plain Adam when
 * `weightDecay` is 0; gradients clipped to a global norm of `clipNorm` (0: off). Learning rate:
 * a linear warm-up over `warmupSteps`, then constant or a cosine decay to
 * `minLearningRate × learningRate` over the planned steps (`epochs` × batches per epoch); with a
 * time budget (`minutes`) the cosine follows whichever of steps and training time is further
 * along, so a budgeted run still ends its schedule (such a run depends on the machine's speed).
 *
 * Everything random (initial weights, crops, batch order, dropout) comes from `seed`, so a run
 * without a time budget repeats exactly on the same backend and LSTM implementation.
 *
 * The network is the LSTM of network.ts, or with `transformer` set the causal Transformer of
 * transformer.ts, whose attention reaches back `cropLength` steps (the crops it trains on); the
 * loop is the same for both.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { startEpoch } from "../build_model.ts";
import { type CheckpointFiles, saveCheckpoint } from "../checkpoint.ts";
import { ModelError } from "../errors.ts";
import { mixSeed, randomInt, seededRandom, shuffleInPlace } from "../random.ts";
import {
  batchInputs,
  buildSequenceModel,
  DEFAULT_SEQUENCE_MODEL,
  logitsModel,
  scoreSequences,
  type SequenceInputs,
  sequenceInputs,
  type SequenceLayout,
  type SequenceModelSettings,
  type SequenceScore,
} from "./network.ts";
import type { LstmImplementation } from "../lstm_implementation.ts";
import { buildTransformerModel, type TransformerShapeSettings } from "./transformer.ts";
import { blasGemm } from "../gemm_product.ts";

/** What shapes and drives training. */
export interface SequenceFitSettings extends SequenceModelSettings {
  /** Steps per training crop (default 128). */
  cropLength: number;
  /** Crops per batch (default 32). */
  batchSize: number;
  /** Planned epochs: the schedule's length, and where training stops. */
  epochs: number;
  /** Training-time budget in minutes (scoring not counted); 0 or absent: none. */
  minutes?: number;
  /** Peak learning rate (default 3e-3). */
  learningRate: number;
  /** Decoupled weight decay (AdamW) on weight matrices and embeddings; 0: plain Adam. */
  weightDecay: number;
  /** Clip gradients to this global norm; 0: no clipping. */
  clipNorm: number;
  /** Learning-rate schedule after the warm-up. */
  schedule: "constant" | "cosine";
  /** Linear warm-up steps (default 200); 0: none. */
  warmupSteps: number;
  /** The cosine's floor as a share of `learningRate` (default 0.05). */
  minLearningRate: number;
  /** What computes the LSTM. */
  lstm: LstmImplementation;
  /**
   * Trains the causal Transformer of transformer.ts instead of the LSTM (which `units` sizes),
   * attending `cropLength` steps back.
   */
  transformer?: Omit<TransformerShapeSettings, "window">;
}

/** The recipe's defaults (all but `lstm`, which the machine decides). */
export const DEFAULT_SEQUENCE_FIT: Readonly<Omit<SequenceFitSettings, "lstm">> = Object.freeze({
  ...DEFAULT_SEQUENCE_MODEL,
  cropLength: 128,
  batchSize: 32,
  epochs: 40,
  learningRate: 3e-3,
  weightDecay: 0.05,
  clipNorm: 1,
  schedule: "cosine",
  warmupSteps: 200,
  minLearningRate: 0.05,
});

/** The training files. */
export interface SequenceData {
  /** Token ids per file, each in [0, vocabSize), `<unk>` = vocabSize − 1. */
  files: readonly Int32Array[];
  vocabSize: number;
  /** Grid steps per bar (16 for sixteenths in 4/4). */
  stepsPerBar: number;
}

/** A progress bar, as a stage's context gives one. */
export interface SequenceFitProgress {
  tick(n?: number, note?: string): void;
  done(): void;
}

/** What training asks of the outside world; every part is optional (a stage's context fits). */
export interface SequenceFitHooks {
  /** One line for the user. */
  info?(line: string): void;
  /** Starts a progress bar of `total` steps. */
  progress?(label: string, total: number): SequenceFitProgress;
  /** Checked between batches: training stops with its reason (AbortSignal.throwIfAborted). */
  signal?: AbortSignal;
  /**
   * Asked after each scored epoch: true ends training there (a benchmark's time to a target
   * validation loss); the checkpoint kept is still the best epoch's.
   */
  until?(validation: SequenceScore): boolean;
  /** The work of an interrupted run: saved after every epoch but the last, loaded at the start. */
  resume?: {
    load(): Promise<Record<string, Uint8Array> | undefined>;
    save(files: Record<string, Uint8Array>): Promise<void>;
  };
}

/** What {@link fitSequenceModel} gives back. */
export interface SequenceFitResult {
  /** The checkpoint of the kept epoch (the probabilities model, loadCheckpoint reads it). */
  checkpoint: CheckpointFiles;
  /** The epoch kept (from 1): the lowest validation loss (the training loss without validation). */
  keptEpoch: number;
  /** Mean cross-entropy per training step of each epoch (dropout on). */
  losses: number[];
  /** Every validation file scored after each epoch (empty without validation files). */
  validation: SequenceScore[];
  /** Training seconds of each epoch (scoring not counted). */
  secondsPerEpoch: number[];
  /** Scoring seconds after each epoch. */
  scoringSecondsPerEpoch: number[];
  /** Optimiser steps of each epoch (the last is short when the time budget ended it). */
  stepsPerEpoch: number[];
  /** Why training ended: the planned epochs, the time budget, or the `until` hook. */
  stoppedBy: "epochs" | "minutes" | "until";
  /** Trainable parameters. */
  parameters: number;
  /** The epoch an earlier, interrupted run had finished, when this one resumed after it. */
  resumedAfterEpoch?: number;
}

/** One crop: file index and [start, start + length). */
interface Crop {
  file: number;
  start: number;
  length: number;
}

/**
 * One epoch's batches of crops, from (seed, epoch): every step of every file in exactly one crop
 * (see the module comment), full crops and shorter crops batched apart, the batches shuffled.
 */
export function epochBatches(
  lengths: readonly number[],
  cropLength: number,
  batchSize: number,
  seed: number,
  epoch: number,
): Crop[][] {
  const rng = seededRandom(mixSeed(seed, epoch));
  const full: Crop[] = [];
  const short: Crop[] = [];
  lengths.forEach((n, file) => {
    if (n === 0) return;
    if (n <= cropLength) {
      (n === cropLength ? full : short).push({ file, start: 0, length: n });
      return;
    }
    const count = Math.ceil(n / cropLength);
    const shift = randomInt(rng, count * cropLength - n + 1); // the grid starts at −shift
    for (let k = 0; k < count; k++) {
      const start = Math.max(0, k * cropLength - shift);
      const end = Math.min(n, (k + 1) * cropLength - shift);
      if (end > start) {
        (end - start === cropLength ? full : short).push({ file, start, length: end - start });
      }
    }
  });
  shuffleInPlace(full, rng);
  shuffleInPlace(short, rng);
  // Stable: equal lengths keep their shuffled order.
  short.sort((a, b) => a.length - b.length);
  const batches: Crop[][] = [];
  for (const group of [full, short]) {
    for (let i = 0; i < group.length; i += batchSize) batches.push(group.slice(i, i + batchSize));
  }
  return shuffleInPlace(batches, rng);
}

/** Adam with decoupled weight decay and global-norm clipping, on the model's variables. */
class AdamW {
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];
  step = 0;
  constructor(
    readonly vars: tf.Variable[],
    readonly decays: boolean[],
    readonly weightDecay: number,
    readonly clipNorm: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-8,
  ) {
    const zeros = (x: tf.Variable) => {
      const z = tf.zerosLike(x);
      const v = tf.variable(z, false);
      z.dispose();
      return v;
    };
    this.m = vars.map(zeros);
    this.v = vars.map(zeros);
  }

  /** One update with `grads` (in the order of `vars`) at learning rate `lr`. */
  apply(grads: tf.Tensor[], lr: number): void {
    this.step++;
    const { beta1, beta2, epsilon, step } = this;
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    tf.tidy(() => {
      let scale: tf.Tensor | null = null;
      if (this.clipNorm > 0) {
        const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
        scale = tf.div(this.clipNorm, tf.maximum(norm, this.clipNorm));
      }
      this.vars.forEach((x, i) => {
        const g = scale ? tf.mul(grads[i]!, scale) : grads[i]!;
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const update = tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.div(v, c2)), epsilon));
        const decayed = this.decays[i] && this.weightDecay > 0
          ? tf.mul(x, 1 - lr * this.weightDecay)
          : x;
        x.assign(tf.sub(decayed, update));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/** The learning rate of (0-based) step `step` whose schedule is `progress` ∈ [0, 1] through. */
export function learningRateAt(
  settings: Pick<
    SequenceFitSettings,
    "learningRate" | "schedule" | "warmupSteps" | "minLearningRate"
  >,
  step: number,
  progress: number,
): number {
  const warm = settings.warmupSteps > 0 ? Math.min(1, (step + 1) / settings.warmupSteps) : 1;
  if (settings.schedule === "constant") return settings.learningRate * warm;
  const p = Math.min(1, Math.max(0, progress));
  const floor = settings.minLearningRate;
  return settings.learningRate * warm * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Where training stands after each epoch: what resuming restores. */
interface FitState {
  epoch: number;
  losses: number[];
  validation: SequenceScore[];
  secondsPerEpoch: number[];
  scoringSecondsPerEpoch: number[];
  stepsPerEpoch: number[];
  trainingSeconds: number;
  best?: { epoch: number; monitored: number; files: CheckpointFiles };
}

/**
 * Trains the model `settings` describe on `train`, scoring `validation` (whole files) after every
 * epoch, and keeps the checkpoint of the lowest validation loss (of the lowest training loss when
 * there are no validation files). Stops after `epochs`, or when `minutes` of training time are
 * used (the epoch under way is cut there, then scored as any other).
 *
 * @throws {ModelError} when no epoch gave a finite loss; the signal's reason when aborted.
 */
export async function fitSequenceModel(
  train: SequenceData,
  validation: readonly Int32Array[],
  settings: SequenceFitSettings,
  hooks: SequenceFitHooks = {},
): Promise<SequenceFitResult> {
  const { vocabSize, stepsPerBar } = train;
  const layout: SequenceLayout = {
    vocabSize,
    stepsPerBar,
    lookbackBars: settings.lookbackBars,
    barPosition: settings.barPosition,
  };
  for (const file of [...train.files, ...validation]) {
    for (const id of file) {
      if (!(id >= 0 && id < vocabSize)) {
        throw new RangeError(`Cannot train on token id ${id}: ids run from 0 to ${vocabSize - 1}`);
      }
    }
  }
  const lengths = train.files.map((f) => f.length);
  const totalSteps = lengths.reduce((a, b) => a + b, 0);
  if (totalSteps === 0) throw new ModelError("there are no training steps");
  // The inputs of every file once; crops are slices of them.
  const fileInputs = train.files.map((f) => sequenceInputs(f, 0, f.length, layout));

  const { transformer } = settings;
  const model = transformer
    ? buildTransformerModel(
      { ...settings, ...transformer, window: settings.cropLength },
      { vocabSize, stepsPerBar, gemm: blasGemm(settings.lstm) },
    )
    : buildSequenceModel(settings, { vocabSize, stepsPerBar, lstm: settings.lstm });
  const trainer = logitsModel(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Weight matrices and embeddings decay; biases do not (as the PyTorch reference).
  const decays = model.trainableWeights.map((w) => w.shape.length >= 2);
  const optimizer = new AdamW(vars, decays, settings.weightDecay, settings.clipNorm);
  const parameters = model.countParams();
  const batchesPerEpoch = epochBatches(lengths, settings.cropLength, settings.batchSize, 0, 1)
    .length;
  const plannedSteps = batchesPerEpoch * settings.epochs;
  const budget = settings.minutes && settings.minutes > 0 ? settings.minutes * 60 : Infinity;
  hooks.info?.(
    `${train.files.length} training files (${totalSteps} steps), ${validation.length} ` +
      `validation files; vocabulary ${vocabSize}, ${parameters} parameters, ` +
      (transformer
        ? `transformer of ${transformer.blocks} blocks, width ${transformer.width}, ` +
          `${transformer.heads} heads, attending ${settings.cropLength} steps back`
        : `LSTM ${settings.lstm.id}`) +
      `, ${batchesPerEpoch} batches per epoch of up to ` +
      `${settings.batchSize} × ${settings.cropLength} steps`,
  );

  let state: FitState = {
    epoch: 0,
    losses: [],
    validation: [],
    secondsPerEpoch: [],
    scoringSecondsPerEpoch: [],
    stepsPerEpoch: [],
    trainingSeconds: 0,
  };
  let resumedAfterEpoch: number | undefined;
  let stoppedBy: SequenceFitResult["stoppedBy"] = "epochs";
  try {
    const saved = await hooks.resume?.load();
    if (saved !== undefined) {
      state = await restoreState(model, optimizer, saved);
      resumedAfterEpoch = state.epoch;
      hooks.info?.(`resuming after epoch ${state.epoch} of ${settings.epochs}`);
    }
    while (state.epoch < settings.epochs) {
      if (state.trainingSeconds >= budget) {
        stoppedBy = "minutes";
        break;
      }
      const epoch = state.epoch + 1;
      const label = `epoch ${epoch}/${settings.epochs}`;
      startEpoch(model, epoch);
      const batches = epochBatches(
        lengths,
        settings.cropLength,
        settings.batchSize,
        settings.seed,
        epoch,
      );
      const bar = hooks.progress?.(label, batches.length);
      let nll = 0;
      let tokens = 0;
      let steps = 0;
      let seconds = 0;
      try {
        for (const crops of batches) {
          hooks.signal?.throwIfAborted();
          const started = performance.now();
          const step = optimizer.step;
          const progress = Math.max(
            step / plannedSteps,
            (state.trainingSeconds + seconds) / budget,
          );
          const lr = learningRateAt(settings, step, progress);
          const batch = crops.map((c) => slice(fileInputs[c.file]!, c.start, c.length));
          const targets = crops.map((c) =>
            train.files[c.file]!.subarray(c.start, c.start + c.length)
          );
          const sum = trainStep(trainer, optimizer, vars, batch, targets, layout, lr, settings);
          nll += sum;
          tokens += crops.reduce((n, c) => n + c.length, 0);
          steps++;
          seconds += (performance.now() - started) / 1000;
          bar?.tick(1, `loss ${(nll / tokens).toFixed(4)}`);
          // Lets an interrupt and the progress redraw run (the backends resolve synchronously).
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (state.trainingSeconds + seconds >= budget) {
            stoppedBy = "minutes";
            break;
          }
        }
      } finally {
        bar?.done();
      }
      const loss = nll / tokens;
      state.losses.push(loss);
      state.trainingSeconds += seconds;
      state.secondsPerEpoch.push(round(seconds, 3));
      state.stepsPerEpoch.push(steps);
      const scoring = performance.now();
      const score = validation.length > 0 ? await scoreSequences(model, validation) : undefined;
      state.scoringSecondsPerEpoch.push(round((performance.now() - scoring) / 1000, 3));
      if (score) state.validation.push(score);
      const monitored = score ? score.loss : loss;
      const improved = Number.isFinite(monitored) &&
        (state.best === undefined || monitored < state.best.monitored);
      if (improved) {
        state.best = { epoch, monitored, files: await saveCheckpoint(model) };
      }
      state.epoch = epoch;
      const scored = score
        ? `, validation loss ${score.loss.toFixed(4)}, top 1 ${percent(score.top1)}, top 5 ` +
          `${percent(score.top5)}`
        : "";
      hooks.info?.(
        `${label}: loss ${loss.toFixed(4)}${scored} (${seconds.toFixed(1)} s, ${steps} steps, ` +
          `${(state.trainingSeconds / 60).toFixed(2)} min in all)` +
          (improved ? " (best so far: checkpoint kept)" : ""),
      );
      if (score && hooks.until?.(score)) stoppedBy = "until";
      if (stoppedBy !== "epochs") break;
      if (state.epoch < settings.epochs && hooks.resume) {
        await hooks.resume.save(await saveState(model, optimizer, state));
      }
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  const { best } = state;
  if (best === undefined) {
    throw new ModelError(
      `the loss was not a finite number in any of ${state.epoch} epochs; lower the learning rate`,
    );
  }
  return {
    checkpoint: best.files,
    keptEpoch: best.epoch,
    losses: state.losses,
    validation: state.validation,
    secondsPerEpoch: state.secondsPerEpoch,
    scoringSecondsPerEpoch: state.scoringSecondsPerEpoch,
    stepsPerEpoch: state.stepsPerEpoch,
    stoppedBy,
    parameters,
    ...(resumedAfterEpoch !== undefined ? { resumedAfterEpoch } : {}),
  };
}

/** Steps [start, start + length) of a file's precomputed inputs. */
function slice(all: SequenceInputs, start: number, length: number): SequenceInputs {
  const { width } = all;
  return {
    tokens: all.tokens.subarray(start * width, (start + length) * width),
    positions: all.positions.subarray(start, start + length),
    length,
    width,
  };
}

/**
 * One optimiser step on a batch of crops; returns the batch's summed cross-entropy (nats). The
 * loss differentiated is that sum over batchSize × cropLength (see the module comment).
 */
function trainStep(
  trainer: tf.LayersModel,
  optimizer: AdamW,
  vars: tf.Variable[],
  crops: SequenceInputs[],
  targets: Int32Array[],
  layout: SequenceLayout,
  lr: number,
  settings: SequenceFitSettings,
): number {
  const batch = batchInputs(crops, layout);
  const y = new Int32Array(batch.rows * batch.steps);
  targets.forEach((t, r) => y.set(t, r * batch.steps));
  const norm = settings.batchSize * settings.cropLength;
  try {
    const sum = tf.tidy(() => {
      const yT = tf.oneHot(tf.tensor2d(y, [batch.rows, batch.steps], "int32"), layout.vocabSize);
      const maskT = tf.tensor2d(batch.mask, [batch.rows, batch.steps]);
      const { value, grads } = tf.variableGrads(() => {
        const logits = trainer.apply(batch.inputs, { training: true }) as tf.Tensor;
        const nll = tf.neg(tf.sum(tf.mul(yT, tf.logSoftmax(logits)), -1));
        return tf.div(tf.sum(tf.mul(nll, maskT)), norm) as tf.Scalar;
      }, vars);
      optimizer.apply(vars.map((v) => grads[v.name]!), lr);
      return value;
    });
    const value = sum.dataSync()[0]! * norm;
    sum.dispose();
    return value;
  } finally {
    tf.dispose(batch.inputs);
  }
}

/** The bookkeeping saved with the weights: the state less the best checkpoint's bytes. */
interface StateJson extends Omit<FitState, "best"> {
  optimizerStep: number;
  best?: { epoch: number; monitored: number };
  weights: tf.io.WeightsManifestEntry[];
}

/** The files that let an interrupted run resume after `state`'s epoch. */
async function saveState(
  model: tf.LayersModel,
  optimizer: AdamW,
  state: FitState,
): Promise<Record<string, Uint8Array>> {
  const tensors = [
    ...model.getWeights().map((tensor, i) => ({ name: `model/${i}`, tensor })),
    ...optimizer.m.map((tensor, i) => ({ name: `m/${i}`, tensor })),
    ...optimizer.v.map((tensor, i) => ({ name: `v/${i}`, tensor })),
  ];
  const encoded = await tf.io.encodeWeights(tensors);
  const { best, ...progress } = state;
  const json: StateJson = {
    ...progress,
    optimizerStep: optimizer.step,
    ...(best ? { best: { epoch: best.epoch, monitored: best.monitored } } : {}),
    weights: encoded.specs,
  };
  const files: Record<string, Uint8Array> = {
    "state.json": new TextEncoder().encode(JSON.stringify(json)),
    "state.bin": new Uint8Array(tf.io.CompositeArrayBuffer.join(encoded.data)),
  };
  if (best) {
    files["best/model.json"] = best.files["model.json"];
    files["best/weights.bin"] = best.files["weights.bin"];
  }
  return files;
}

/** Restores what {@link saveState} wrote into a model and optimiser built from the same settings. */
async function restoreState(
  model: tf.LayersModel,
  optimizer: AdamW,
  saved: Record<string, Uint8Array>,
): Promise<FitState> {
  const jsonBytes = saved["state.json"];
  const bin = saved["state.bin"];
  if (!jsonBytes || !bin) throw new ModelError("the saved training state is incomplete");
  const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as StateJson;
  const tensors = tf.io.decodeWeights(bin.slice().buffer, json.weights);
  try {
    const count = model.getWeights().length;
    model.setWeights(Array.from({ length: count }, (_, i) => tensors[`model/${i}`]!));
    optimizer.m.forEach((m, i) => m.assign(tensors[`m/${i}`]!));
    optimizer.v.forEach((v, i) => v.assign(tensors[`v/${i}`]!));
  } finally {
    tf.dispose(Object.values(tensors));
  }
  optimizer.step = json.optimizerStep;
  const { best, weights: _weights, optimizerStep: _step, ...progress } = json;
  const state: FitState = { ...progress };
  if (best) {
    const files = {
      "model.json": saved["best/model.json"]!,
      "weights.bin": saved["best/weights.bin"]!,
    };
    state.best = { ...best, files };
  }
  return state;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
