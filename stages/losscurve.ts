/**
 * losscurve: draws train's loss after each epoch (and the held-out loss, with the level a model
 * that ignores the context gets) as `loss.svg`, from the numbers train recorded. A picture for
 * people, kept apart from the stage that computes the numbers: a change to how it is drawn
 * reruns this stage alone, never training.
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { text } from "../formats/codec.ts";
import { trainHistory, validationHistory } from "../formats/history.ts";
import { lossCurveSvg } from "../plots/loss_curve.ts";

export const losscurve = defineStage({
  name: "losscurve",
  module: import.meta.url,
  description: "draws the training and validation loss of each epoch",
  inputs: {
    history: input("train", "history.json", trainHistory),
    validation: input("train", "validation.json", validationHistory),
  },
  outputs: { "loss.svg": text },
  reads: [],
  async run({ history, validation }) {
    const scored = validation.windows > 0;
    return {
      "loss.svg": lossCurveSvg(history.loss, {
        title: `${scored ? "Loss" : "Training loss"} (${history.backend}, ${history.lstmKernel})`,
        best: history.bestEpoch - 1,
        ...(validation.contextFree
          ? { validation: validation.loss, contextFree: validation.contextFree.loss }
          : {}),
        ...(validation.baselines
          ? {
            levels: Object.entries(validation.baselines)
              .filter(([name]) => name !== "unigram") // the context-free level already
              .map(([label, e]) => ({ label, value: e.loss })),
          }
          : {}),
      }),
    };
  },
});
