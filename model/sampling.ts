/**
 * Choosing the next token from the model's probabilities: the tutorial's argmax, or a seeded draw
 * reshaped by a temperature and cut to the `topK` most likely tokens and to the smallest set whose
 * probability reaches `topP` (nucleus sampling). Cutting the unlikely tail keeps a sampler from
 * wandering into tokens the model barely believes in, while still varying the piece.
 *
 * With no cut (topK 0, topP 1) the draw is exactly the plain temperature draw, so existing runs
 * keep their tokens.
 *
 * @module
 */

/** How the next token is chosen. */
export interface Sampling {
  /** 0: argmax (the tutorial's); above 0: draw from p^(1/temperature). */
  temperature: number;
  /** Draw only among the `topK` most likely tokens; 0 for no limit. */
  topK: number;
  /** Draw only among the most likely tokens whose probabilities sum to `topP`; 1 for no limit. */
  topP: number;
}

/** Index of the largest value (the first on ties, as numpy.argmax). */
export function argMax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

/** The next token's index under `sampling`, drawing with `rng` when it samples. */
export function chooseNext(p: ArrayLike<number>, sampling: Sampling, rng: () => number): number {
  if (sampling.temperature === 0) return argMax(p);
  const weights = Array.from(p, (v) => Math.pow(Math.max(v, 0), 1 / sampling.temperature));
  cut(weights, sampling.topK, sampling.topP);
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0) || !Number.isFinite(total)) return argMax(p);
  let r = rng() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/** Zeroes the weights outside the top `k` and outside the nucleus of mass `p` (in place). */
function cut(weights: number[], k: number, p: number): void {
  if (k <= 0 && p >= 1) return;
  // Most likely first; equal weights by index, so the cut is the same on every machine.
  const order = weights.map((_, i) => i).sort((a, b) => weights[b]! - weights[a]! || a - b);
  const total = weights.reduce((a, b) => a + b, 0);
  let kept = 0;
  let mass = 0;
  for (const i of order) {
    const inTopK = k <= 0 || kept < k;
    const inNucleus = p >= 1 || mass < p * total;
    if (inTopK && inNucleus) {
      kept++;
      mass += weights[i]!;
    } else weights[i] = 0;
  }
}
