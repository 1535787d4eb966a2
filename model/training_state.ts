/**
 * Training state as bytes, so an interrupted training run can resume after its last finished
 * epoch: every model weight (batch-norm moving statistics included), the Adam optimizer's state
 * (step count, both moment estimates and its running beta powers) and the epoch bookkeeping.
 * Restored into a model built from the same config, training continues exactly as if it had
 * never stopped (each epoch's shuffle and dropout depend only on the seed and the epoch).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A tensor with the name tfjs optimizers give their state. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** The epoch bookkeeping saved with the weights. */
export interface EpochProgress {
  /** The last finished epoch (from 1). */
  epoch: number;
  losses: number[];
  secondsPerEpoch: number[];
  /** The epoch and loss of the best checkpoint so far, whose files are saved beside. */
  best?: { epoch: number; loss: number };
}

interface TensorEntry {
  name: string;
  dtype: "float32" | "int32";
  shape: number[];
}

interface StateJson {
  progress: EpochProgress;
  model: TensorEntry[];
  optimizer: TensorEntry[];
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
  const internals = optimizer as unknown as AdamInternals;
  const betaPowers = [internals.accBeta1, internals.accBeta2]
    .filter((v): v is tf.Variable => v !== undefined)
    .map((v) => v.dataSync()[0]!);
  const state: StateJson = {
    progress,
    model: describe(modelTensors),
    optimizer: describe(optimizerTensors),
    betaPowers,
  };
  const files = {
    ...extra,
    "state.json": new TextEncoder().encode(JSON.stringify(state)),
    "model.bin": pack(modelTensors),
    "optimizer.bin": pack(optimizerTensors),
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
  const weights = unpack(state.model, files["model.bin"]!);
  model.setWeights(weights.map((w) => w.tensor));
  tf.dispose(weights.map((w) => w.tensor));
  const named = unpack(state.optimizer, files["optimizer.bin"]!);
  await optimizer.setWeights(named); // copies the values into variables of its own
  tf.dispose(named.map((n) => n.tensor));
  // setWeights recomputes the beta powers as pow(beta, step); the running products differ in
  // the last bits, so put back the saved ones for a bit-identical continuation.
  const internals = optimizer as unknown as AdamInternals;
  const powers = [internals.accBeta1, internals.accBeta2];
  tf.tidy(() => state.betaPowers.forEach((value, i) => powers[i]?.assign(tf.scalar(value))));
  return state.progress;
}

function describe(tensors: NamedTensor[]): TensorEntry[] {
  return tensors.map(({ name, tensor }) => ({
    name,
    dtype: tensor.dtype === "int32" ? "int32" : "float32",
    shape: tensor.shape,
  }));
}

/** Every tensor's values back to back, 4 bytes each (float32 or int32). */
function pack(tensors: NamedTensor[]): Uint8Array {
  const size = tensors.reduce((n, { tensor }) => n + tensor.size, 0);
  const out = new Uint8Array(size * 4);
  let at = 0;
  for (const { tensor } of tensors) {
    const data = tensor.dataSync() as Float32Array | Int32Array;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

function unpack(entries: TensorEntry[], bytes: Uint8Array): NamedTensor[] {
  const buffer = bytes.slice().buffer; // aligned copy
  let at = 0;
  return entries.map(({ name, dtype, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = dtype === "int32"
      ? new Int32Array(buffer, at, size)
      : new Float32Array(buffer, at, size);
    at += size * 4;
    return { name, tensor: tf.tensor(data, shape, dtype) };
  });
}
