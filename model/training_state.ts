/**
 * Training state as bytes, so an interrupted training run can resume after its last finished
 * epoch: every model weight (batch-norm moving statistics included), the Adam optimizer's state
 * (step count, both moment estimates and its running beta powers) and the epoch bookkeeping.
 * Restored into a model built from the same config, training continues exactly as if it had
 * never stopped (each epoch's shuffle and dropout depend only on the seed and the epoch).
 *
 * Tensors are stored as tfjs stores weights (`tf.io.encodeWeights`: the values back to back,
 * described by weights-manifest entries in state.json), which is byte for byte the layout
 * earlier versions wrote by hand, so their saved state still resumes.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Evaluation } from "./evaluate.ts";

/** A tensor with the name tfjs optimizers give their state. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** The epoch bookkeeping saved with the weights. */
export interface EpochProgress {
  /** The last finished epoch (from 1). */
  epoch: number;
  losses: number[];
  secondsPerEpoch: number[];
  /**
   * The best checkpoint so far (whose files are saved beside): its epoch, training loss and the
   * value it was chosen by (its validation loss when the monitor says so; else absent).
   */
  best?: { epoch: number; loss: number; score?: number };
  /** The held-out scores of each finished epoch, when validation is on. */
  validation?: Evaluation[];
}

interface StateJson {
  progress: EpochProgress;
  /** The model's weights in model.bin, named by their index in getWeights(). */
  model: tf.io.WeightsManifestEntry[];
  /** The optimizer's weights in optimizer.bin, named as the optimizer names them. */
  optimizer: tf.io.WeightsManifestEntry[];
  betaPowers: number[];
}

/** The private state tfjs's Adam keeps outside getWeights(): its running beta powers. */
type AdamInternals = { accBeta1?: tf.Variable; accBeta2?: tf.Variable };

/** Serialises the model's and optimizer's state and the progress, plus `extra` files. */
export async function saveTrainingState(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  progress: EpochProgress,
  extra: Record<string, Uint8Array> = {},
): Promise<Record<string, Uint8Array>> {
  const modelTensors = model.getWeights().map((t, i) => ({ name: String(i), tensor: t }));
  const optimizerTensors = await optimizer.getWeights();
  const modelData = await tf.io.encodeWeights(modelTensors);
  const optimizerData = await tf.io.encodeWeights(optimizerTensors);
  const internals = optimizer as unknown as AdamInternals;
  const betaPowers = [internals.accBeta1, internals.accBeta2]
    .filter((v): v is tf.Variable => v !== undefined)
    .map((v) => v.dataSync()[0]!);
  const state: StateJson = {
    progress,
    model: modelData.specs,
    optimizer: optimizerData.specs,
    betaPowers,
  };
  const files = {
    ...extra,
    "state.json": new TextEncoder().encode(JSON.stringify(state)),
    "model.bin": new Uint8Array(modelData.data),
    "optimizer.bin": new Uint8Array(optimizerData.data),
  };
  // getWeights() hands out the optimizer's own variables plus a fresh step-count scalar.
  tf.dispose(optimizerTensors.map((t) => t.tensor).filter((t) => !(t instanceof tf.Variable)));
  return files;
}

/** Restores what {@link saveTrainingState} saved; returns the progress. */
export async function restoreTrainingState(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  files: Record<string, Uint8Array>,
): Promise<EpochProgress> {
  const state = JSON.parse(new TextDecoder().decode(files["state.json"]!)) as StateJson;
  const weights = decode(state.model, files["model.bin"]!);
  model.setWeights(weights.map((w) => w.tensor));
  tf.dispose(weights.map((w) => w.tensor));
  const named = decode(state.optimizer, files["optimizer.bin"]!);
  await optimizer.setWeights(named); // copies the values into variables of its own
  tf.dispose(named.map((n) => n.tensor));
  // setWeights recomputes the beta powers as pow(beta, step); the running products differ in
  // the last bits, so put back the saved ones for a bit-identical continuation.
  const internals = optimizer as unknown as AdamInternals;
  const powers = [internals.accBeta1, internals.accBeta2];
  tf.tidy(() => state.betaPowers.forEach((value, i) => powers[i]?.assign(tf.scalar(value))));
  return state.progress;
}

/** The tensors `specs` describes in `bytes`, in the order of `specs`. */
function decode(specs: tf.io.WeightsManifestEntry[], bytes: Uint8Array): NamedTensor[] {
  // A copy: decodeWeights wants an ArrayBuffer of its own (the store's bytes may be a view).
  const byName = tf.io.decodeWeights(bytes.slice().buffer, specs);
  return specs.map(({ name }) => ({ name, tensor: byName[name]! }));
}
