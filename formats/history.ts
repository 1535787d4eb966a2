/**
 * `history.json`: what training did, epoch by epoch (epochs count from 1). generate reads the
 * backend and LSTM implementation from it, so it runs the model the way train did. The held-out
 * scores are apart, in `validation.json`, so that scoring leaves history.json (and so generate's
 * key) as it was.
 *
 * @module
 */
import type { Evaluation } from "../model/evaluate.ts";
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
  /** Present when the checkpoint follows the validation loss (`train.monitor: val_loss`). */
  monitor?: "val_loss";
  /** The validation loss of the kept checkpoint, with `monitor`. */
  bestValLoss?: number;
  /**
   * The network trained, when it is not the tutorial's: `sequence` (model/sequence/network.ts)
   * or `transformer` (model/sequence/transformer.ts), which generate and the player then run as
   * such.
   */
  network?: "sequence" | "transformer";
}

/** `validation.json`: the held-out scores after each epoch (empty lists when validation is off). */
export interface ValidationHistory {
  /** Held-out windows scored. */
  windows: number;
  loss: number[];
  top1: number[];
  top5: number[];
  perplexity: number[];
  /**
   * The same scores for a model that ignores its context (the training targets' frequencies,
   * model/evaluate.ts): the loss a network must get below to have learnt anything from it.
   */
  contextFree?: Evaluation;
  /**
   * The baselines on the same held-out steps (model/sequence/baselines.ts), with the sequence network:
   * levels a model must get below.
   */
  baselines?: Record<string, Evaluation>;
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

export const validationHistory: Codec<ValidationHistory> = jsonCodec<ValidationHistory>(
  "an object {windows, loss, top1, top5, perplexity}",
  (v) => {
    const h = v as Partial<ValidationHistory> | null;
    return typeof h === "object" && h !== null && typeof h.windows === "number" &&
        [h.loss, h.top1, h.top5, h.perplexity].every(Array.isArray)
      ? undefined
      : "a field is missing";
  },
);
