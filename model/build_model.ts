/**
 * The tutorial's network, sized by {@link NetworkSettings}:
 *
 * LSTM(units, return_sequences, recurrent_dropout) → … → LSTM(units) → BatchNormalization →
 * Dropout → Dense(denseUnits) → ReLU → BatchNormalization → Dropout → Dense(vocab) → softmax.
 *
 * Every layer gets an explicit name and every random choice a seed drawn from `seed`:
 * tfjs's automatic names come from process-wide counters, and they become the weight names in
 * model.json, so without them the checkpoint's bytes would depend on what else the process built.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { FusedLstm } from "./fused/fused_lstm.ts";
import type { LstmImplementation } from "./lstm_implementation.ts";
import { mixSeed, seedStream } from "./random.ts";
import { SeededDropout, seededDropoutFunc } from "./seeded_dropout.ts";
import { SequenceBatchNorm, SequenceDense } from "./sequence_head.ts";

/** What shapes the network (the pipeline's `train` section has these keys among others). */
export interface NetworkSettings {
  /** Units in each LSTM layer. */
  lstmUnits: number;
  /** Stacked LSTM layers. */
  lstmLayers: number;
  /** Recurrent dropout of the first LSTM layer. */
  recurrentDropout: number;
  /** Units of the hidden dense layer. */
  denseUnits: number;
  /** Dropout after each batch normalisation. */
  dropout: number;
  /** Seed of the initial weights and of every dropout mask. */
  seed: number;
}

/** What {@link buildModel} needs besides the settings. */
export interface BuildModelOptions {
  /** Distinct tokens: the size of the softmax. */
  vocabSize: number;
  /** Tokens per input window. */
  windowLength: number;
  /** What computes the LSTM layers (see model/lstm_implementation.ts). */
  lstm: LstmImplementation;
  /**
   * A softmax at every time step (`train.targets: all`): the last LSTM returns its sequence too,
   * and the head, whose layers all act on the last axis (batch normalisation over batch and
   * time), runs at every step, giving [batch, windowLength, vocab]. The layers, weight names and
   * shapes are the tutorial model's, so weights copy into it ({@link copyWeights}). Default: the
   * tutorial's, the last step only.
   */
  everyStep?: boolean;
}

/**
 * Builds the (uncompiled) model.
 *
 * Stacked LSTMs all return sequences except the last; `recurrentDropout` applies to the first
 * LSTM only, as in the tutorial. Input shape is `[windowLength, 1]` (one normalised id per step).
 */
export function buildModel(train: NetworkSettings, options: BuildModelOptions): tf.Sequential {
  const { vocabSize } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 1) {
    throw new RangeError(
      `Cannot build model: vocabulary size must be a positive integer (found ${vocabSize})`,
    );
  }
  const nextSeed = seedStream(train.seed);
  const model = tf.sequential({ name: "lstm_music" });
  // Weights are variables and survive the tidy; what it frees are initialisers' intermediates,
  // which tf.layers.lstm's unit-forget-bias initialiser otherwise leaks (4 tensors per layer).
  withoutOrthogonalWarning(() => tf.tidy(() => addLayers(model, train, options, nextSeed)));
  return model;
}

/**
 * Runs `build` with tfjs's console warning about large orthogonal initialisations muted. The
 * recurrent kernels (units × 4·units) are always over its 2,000-element threshold, so the
 * warning fires on every build, says nothing the user can act on, and `--quiet` cannot hide it.
 */
export function withoutOrthogonalWarning<T>(build: () => T): T {
  // model/ prints nothing itself; here it only filters what tfjs prints.
  // deno-lint-ignore no-console
  const warn = console.warn;
  // deno-lint-ignore no-console
  console.warn = (...args: unknown[]) => {
    if (
      typeof args[0] === "string" && args[0].startsWith("Orthogonal initializer is being called")
    ) return;
    warn(...args);
  };
  try {
    return build();
  } finally {
    // deno-lint-ignore no-console
    console.warn = warn;
  }
}

function addLayers(
  model: tf.Sequential,
  train: NetworkSettings,
  options: BuildModelOptions,
  nextSeed: () => number,
): void {
  const { windowLength, lstm, vocabSize } = options;
  const everyStep = options.everyStep === true;
  for (let i = 0; i < train.lstmLayers; i++) {
    const recurrentDropout = i === 0 ? train.recurrentDropout : 0;
    const layer = lstmLayer(lstm, {
      units: train.lstmUnits,
      returnSequences: everyStep || i < train.lstmLayers - 1,
      recurrentDropout,
      inputShape: i === 0 ? [windowLength, 1] : undefined,
      seed: nextSeed(),
      name: `lstm_${i + 1}`,
    });
    seedRecurrentDropout(layer, recurrentDropout, nextSeed());
    model.add(layer);
  }
  // With a softmax at every step the head sees batch × window rows: its Dense and batch
  // normalisation layers are the same maths with gradients tfjs computes fast at that size
  // (model/sequence_head.ts). The tutorial's model keeps tfjs's own layers.
  const batchNorm = (name: string): tf.layers.Layer =>
    everyStep ? new SequenceBatchNorm({ name }) : tf.layers.batchNormalization({ name });
  const dense = (units: number, name: string, seed: number): tf.layers.Layer =>
    everyStep ? new SequenceDense({ units, name, seed }) : tf.layers.dense({
      units,
      name,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    });
  model.add(batchNorm("batch_normalization_1"));
  model.add(new SeededDropout({ rate: train.dropout, seed: nextSeed(), name: "dropout_1" }));
  model.add(dense(train.denseUnits, "dense_1", nextSeed()));
  model.add(tf.layers.activation({ activation: "relu", name: "relu" }));
  model.add(batchNorm("batch_normalization_2"));
  model.add(new SeededDropout({ rate: train.dropout, seed: nextSeed(), name: "dropout_2" }));
  model.add(dense(vocabSize, "dense_2", nextSeed()));
  model.add(tf.layers.activation({ activation: "softmax", name: "softmax" }));
}

/** Arguments of one LSTM layer of the model. */
interface LstmLayerArgs {
  units: number;
  returnSequences: boolean;
  recurrentDropout: number;
  inputShape?: [number, number];
  /** Seed for the kernel initialisers and the recurrent dropout masks. */
  seed: number;
  name: string;
}

/**
 * One LSTM layer on `lstm`. Both kinds are the tutorial's (Keras's) layer: sigmoid gates and a
 * forget-gate bias of one (tfjs's own defaults are hardSigmoid and zero), the same initialisers
 * from the same seeds.
 */
function lstmLayer(lstm: LstmImplementation, args: LstmLayerArgs): tf.layers.Layer {
  if (lstm.kind === "fused") {
    return new FusedLstm({
      ...args,
      implementation: lstm,
      recurrentActivation: "sigmoid",
      unitForgetBias: true,
    });
  }
  return tf.layers.lstm({
    units: args.units,
    returnSequences: args.returnSequences,
    recurrentDropout: args.recurrentDropout,
    inputShape: args.inputShape,
    name: args.name,
    recurrentActivation: "sigmoid",
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed: args.seed }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: args.seed + 1 }),
  });
}

/**
 * Copies the weights of every layer of `from` (batch normalisation's moving statistics included)
 * into the layer of the same name in `to`: from the model trained with a softmax at every step
 * into the tutorial's model, which is what is scored, saved and generated from.
 *
 * @throws {RangeError} when `to` lacks one of the layers or its weights differ in shape.
 */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  for (const layer of from.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    let target: tf.layers.Layer;
    try {
      target = to.getLayer(layer.name);
    } catch {
      throw new RangeError(`Cannot copy weights: ${to.name} has no layer ${layer.name}`);
    }
    // setWeights checks every shape and copies the values, so training `from` further leaves
    // `to` as it is.
    target.setWeights(weights);
  }
}

/**
 * tf.layers.lstm draws its recurrent dropout masks from `Math.random` unless its cell has a
 * `dropoutFunc`, which would make two runs of one config differ. When the layer is a tfjs LSTM
 * whose cell has none, give it a seeded one. The fused layer seeds its own masks and is left
 * alone.
 */
function seedRecurrentDropout(layer: tf.layers.Layer, rate: number, seed: number): void {
  if (rate <= 0) return;
  const cell = (layer as unknown as { cell?: { dropoutFunc?: unknown } }).cell;
  if (cell !== undefined && cell.dropoutFunc == null) {
    cell.dropoutFunc = seededDropoutFunc(seed);
    cellSeeds.set(layer, seed);
  }
}

/** The seeds given to tfjs LSTM cells, to restart their streams at each epoch. */
const cellSeeds = new WeakMap<tf.layers.Layer, number>();

/**
 * Restarts every dropout stream of the model for `epoch` (SeededDropout, the fused LSTM's
 * recurrent masks, a tfjs LSTM cell's seeded masks), so each epoch's randomness depends only on
 * (seed, epoch): a run resumed after epoch k continues exactly as an uninterrupted one.
 */
export function startEpoch(model: tf.LayersModel, epoch: number): void {
  for (const layer of model.layers) {
    const seeded = layer as unknown as { startEpoch?: (epoch: number) => void };
    if (typeof seeded.startEpoch === "function") seeded.startEpoch(epoch);
    const seed = cellSeeds.get(layer);
    if (seed !== undefined) {
      (layer as unknown as { cell: { dropoutFunc: unknown } }).cell.dropoutFunc = seededDropoutFunc(
        mixSeed(seed, epoch),
      );
    }
  }
}

/**
 * Disposes a model (built here or loaded from a checkpoint) and its optimizer, including the
 * dropout masks that tf.layers.lstm's cell keeps
 * from its last training step (model.dispose() frees only weights, and tfjs frees the masks only
 * at the layer's next call, so each trained model would otherwise leave four tensors behind).
 */
export function disposeModel(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    const cell = (layer as unknown as { cell?: Partial<Record<MaskField, tf.Tensor[] | null>> })
      .cell;
    if (cell === undefined) continue;
    for (const field of ["dropoutMask", "recurrentDropoutMask"] as const) {
      const mask = cell[field];
      if (mask != null) {
        tf.dispose(mask);
        cell[field] = null;
      }
    }
  }
  // A model compiled with an optimizer instance, as train and loadLayersModel do, does not own
  // it, so model.dispose() leaves the optimizer's variables behind.
  model.optimizer?.dispose();
  model.dispose();
}

type MaskField = "dropoutMask" | "recurrentDropoutMask";
