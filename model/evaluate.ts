/**
 * Scores a model on windows it does not learn from: cross-entropy loss (as Keras computes
 * categorical cross-entropy, probabilities clipped at 1e-7), top-1 and top-5 accuracy and
 * perplexity. Inference only (`predict`, dropout off, batch normalisation on its moving
 * statistics), so scoring between epochs changes neither the weights nor any random stream: a
 * run trains to the same bytes with or without it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** How a model does on held-out windows. */
export interface Evaluation {
  /** Mean cross-entropy of the target token. */
  loss: number;
  /** Share of windows whose target is the most probable token. */
  top1: number;
  /** Share of windows whose target is among the five most probable tokens. */
  top5: number;
  /** exp(loss): how many tokens the model is, on average, as unsure as a uniform choice among. */
  perplexity: number;
}

/** Keras's epsilon: probabilities are clipped to [1e-7, 1 − 1e-7] before the logarithm. */
const EPSILON = 1e-7;

/**
 * Scores `model` on `count` windows of `length` normalised ids (`x`, window after window) with
 * their target ids `y`.
 */
export async function evaluate(
  model: tf.LayersModel,
  windows: { x: Float32Array; y: Int32Array; count: number; length: number },
  batchSize = 256,
): Promise<Evaluation> {
  const { x, y, count, length } = windows;
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  for (let start = 0; start < count; start += batchSize) {
    const rows = Math.min(batchSize, count - start);
    const input = tf.tensor3d(x.subarray(start * length, (start + rows) * length), [
      rows,
      length,
      1,
    ]);
    let probabilities: Float32Array;
    try {
      const output = model.predict(input) as tf.Tensor;
      probabilities = (await output.data()) as Float32Array;
      output.dispose();
    } finally {
      input.dispose();
    }
    const classes = probabilities.length / rows;
    for (let r = 0; r < rows; r++) {
      const row = probabilities.subarray(r * classes, (r + 1) * classes);
      const p = row[y[start + r]!]!;
      lossSum -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, p)));
      let above = 0;
      for (const q of row) if (q > p) above++;
      if (above < 1) top1++;
      if (above < 5) top5++;
    }
  }
  const loss = lossSum / count;
  return { loss, top1: top1 / count, top5: top5 / count, perplexity: Math.exp(loss) };
}

/**
 * The score of a model that ignores its context: every window gets the training targets'
 * frequencies (add-one smoothed, so a token never seen as a target is not an infinite loss).
 * A trained network whose validation loss is not below this has learnt only which tokens are
 * common, however low its training loss; top-1 here is the share of the most frequent token.
 *
 * @param trainTargets the training windows' target ids
 * @param heldTargets the held-out windows' target ids
 */
export function contextFreeScore(
  trainTargets: Int32Array,
  heldTargets: Int32Array,
  vocabSize: number,
): Evaluation {
  const counts = new Float64Array(vocabSize).fill(1);
  for (const id of trainTargets) counts[id]!++;
  const total = trainTargets.length + vocabSize;
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  for (const id of heldTargets) {
    const count = counts[id]!;
    lossSum -= Math.log(count / total);
    // As evaluate() ranks: the tokens strictly more probable than the target.
    let above = 0;
    for (const c of counts) if (c > count) above++;
    if (above < 1) top1++;
    if (above < 5) top5++;
  }
  const n = heldTargets.length;
  const loss = lossSum / n;
  return { loss, top1: top1 / n, top5: top5 / n, perplexity: Math.exp(loss) };
}
