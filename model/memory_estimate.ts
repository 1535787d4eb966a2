/**
 * How much memory training the network takes, worked out from its sizes before anything is
 * built. A typo such as `lstmUnits: 1000000` otherwise ends in "Array buffer allocation failed"
 * after the stages before train have run, naming no setting; this names the settings to lower.
 *
 * The figure is a floor (the weights, their gradients and Adam's two moments; the activations one
 * step keeps for the backward pass; the softmax batch), not a forecast of the process's size.
 *
 * @module
 */
import { ModelError } from "./errors.ts";

/** The sizes that decide the memory. */
export interface NetworkSizes {
  lstmUnits: number;
  lstmLayers: number;
  denseUnits: number;
  batchSize: number;
  /** Distinct tokens; 0 when not known yet (the check before any stage runs). */
  vocabSize: number;
  /** Tokens per window; 0 when not known yet. */
  windowLength: number;
}

/** One part of the estimate, with the settings it grows with. */
export interface MemoryPart {
  what: string;
  bytes: number;
  keys: string[];
}

const FLOAT = 4;
/** Largest typed array V8 allocates here (2^31 float32 values measured to work, 2^33 not). */
const MAX_ARRAY_BYTES = 2 ** 31 * FLOAT;

/** The parts of the training memory, largest first. */
export function estimateTrainingMemory(n: NetworkSizes): MemoryPart[] {
  const u = n.lstmUnits;
  let lstmParams = 0;
  for (let layer = 0; layer < n.lstmLayers; layer++) {
    const inputs = layer === 0 ? 1 : u;
    lstmParams += 4 * u * (inputs + u + 1);
  }
  const denseParams = u * n.denseUnits + n.denseUnits + 4 * (u + n.denseUnits);
  const outputParams = n.denseUnits * n.vocabSize + n.vocabSize;
  // Weights, gradients and Adam's first and second moments: four copies of every parameter.
  const copies = 4 * FLOAT;
  const parts: MemoryPart[] = [
    {
      what: "the LSTM weights with their gradients and Adam state",
      bytes: lstmParams * copies,
      keys: ["train.lstmUnits", "train.lstmLayers"],
    },
    {
      what: "the dense layers' weights with their gradients and Adam state",
      bytes: (denseParams + outputParams) * copies,
      keys: ["train.denseUnits", "train.lstmUnits"],
    },
    {
      // Gates and states of every step of every layer, kept for the backward pass, and their
      // gradients.
      what: "the LSTM activations of one training step",
      bytes: 2 * n.batchSize * n.windowLength * n.lstmLayers * 6 * u * FLOAT,
      keys: ["train.batchSize", "window.length", "train.lstmUnits"],
    },
    {
      what: "the softmax outputs of one training step",
      bytes: 3 * n.batchSize * n.vocabSize * FLOAT,
      keys: ["train.batchSize"],
    },
  ];
  return parts.sort((a, b) => b.bytes - a.bytes);
}

/**
 * Throws when the network cannot be trained within `budgetBytes`, or when one of its weight
 * matrices is larger than an array can be, naming the settings to lower.
 *
 * @throws {ModelError} naming the settings to lower.
 */
export function assertTrainingFits(n: NetworkSizes, budgetBytes: number): void {
  const recurrent = n.lstmUnits * 4 * n.lstmUnits * FLOAT;
  if (recurrent > MAX_ARRAY_BYTES) {
    throw new ModelError(
      `train.lstmUnits ${n.lstmUnits} makes each recurrent weight matrix ${
        formatBytes(recurrent)
      }, more than one array can hold (${formatBytes(MAX_ARRAY_BYTES)}): lower train.lstmUnits`,
    );
  }
  const parts = estimateTrainingMemory(n);
  const total = parts.reduce((sum, p) => sum + p.bytes, 0);
  if (total <= budgetBytes) return;
  const top = parts[0]!;
  throw new ModelError(
    `training this network needs at least ${formatBytes(total)}, more than the ${
      formatBytes(budgetBytes)
    } this machine can give it (${top.what}: ${formatBytes(top.bytes)}): lower ${
      top.keys.join(" or ")
    }`,
  );
}

/** Bytes in binary units, one decimal (e.g. `1.5 GiB`). */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
