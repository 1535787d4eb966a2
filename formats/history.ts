/**
 * `history.json`: what training did, epoch by epoch (epochs count from 1). generate reads the
 * backend and LSTM implementation from it, so it runs the model the way train did.
 *
 * @module
 */
import { type Codec, jsonCodec } from "./codec.ts";

/** What training did. */
export interface TrainHistory {
  /** Mean loss of each epoch, weighted by batch size (as Keras reports it). */
  loss: number[];
  /** The epoch (from 1) whose weights are in the checkpoint: the lowest loss. */
  bestEpoch: number;
  bestLoss: number;
  backend: string;
  lstmKernel: string;
}

export const trainHistory: Codec<TrainHistory> = jsonCodec<TrainHistory>(
  "an object {loss, bestEpoch, bestLoss, backend, lstmKernel}",
  (v) => {
    const h = v as Partial<TrainHistory> | null;
    if (typeof h !== "object" || h === null || !Array.isArray(h.loss)) return "it has no loss list";
    return typeof h.bestEpoch === "number" && typeof h.backend === "string" &&
        typeof h.lstmKernel === "string"
      ? undefined
      : "bestEpoch, backend or lstmKernel is missing";
  },
);
