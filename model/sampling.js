// @ts-check
/**
 * Choosing the next token from the model's probabilities: the tutorial's argmax, or a seeded draw
 * reshaped by a temperature and cut to the `topK` most likely tokens and to the smallest set whose
 * probability reaches `topP` (nucleus sampling). Cutting the unlikely tail keeps a sampler from
 * wandering into tokens the model barely believes in, while still varying the piece.
 *
 * With no cut (topK 0, topP 1) the draw is exactly the plain temperature draw, so existing runs
 * keep their tokens.
 *
 * Plain JavaScript with JSDoc types, so that the report page's in-browser player chooses with the
 * very same code (report/player.ts copies this file into the page, as it does model/random.js).
 * Keep it that way: no imports, every export a `function` declaration. Import it from
 * model/sampling.ts, its typed entry point.
 *
 * @module
 */

/**
 * How the next token is chosen.
 *
 * @typedef {object} Sampling
 * @property {number} temperature 0: argmax (the tutorial's); above 0: draw from p^(1/temperature).
 * @property {number} topK Draw only among the `topK` most likely tokens; 0 for no limit.
 * @property {number} topP Draw only among the most likely tokens whose probabilities sum to
 *   `topP`; 1 for no limit.
 */

/**
 * Index of the largest value (the first on ties, as numpy.argmax).
 *
 * @param {ArrayLike<number>} p
 * @returns {number}
 */
export function argMax(p) {
  let best = 0;
  for (let i = 1; i < p.length; i++) {
    if (/** @type {number} */ (p[i]) > /** @type {number} */ (p[best])) best = i;
  }
  return best;
}

/**
 * The next token's index under `sampling`, drawing once from `rng` when it samples (and not at
 * all at temperature 0, or where every weight underflows to zero: then the argmax).
 *
 * @param {ArrayLike<number>} p
 * @param {Sampling} sampling
 * @param {() => number} rng
 * @returns {number}
 */
export function chooseNext(p, sampling, rng) {
  if (sampling.temperature === 0) return argMax(p);
  const weights = Array.from(p, (v) => Math.pow(Math.max(v, 0), 1 / sampling.temperature));
  cutTail(weights, sampling.topK, sampling.topP);
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0) || !Number.isFinite(total)) return argMax(p);
  let r = rng() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= /** @type {number} */ (weights[i]);
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/**
 * Zeroes the weights outside the top `k` and outside the nucleus of mass `p` (in place).
 *
 * @param {number[]} weights
 * @param {number} k
 * @param {number} p
 * @returns {void}
 */
function cutTail(weights, k, p) {
  if (k <= 0 && p >= 1) return;
  // Most likely first; equal weights by index, so the cut is the same on every machine.
  const w = (/** @type {number} */ i) => /** @type {number} */ (weights[i]);
  const order = weights.map((_, i) => i).sort((a, b) => w(b) - w(a) || a - b);
  const total = weights.reduce((a, b) => a + b, 0);
  let kept = 0;
  let mass = 0;
  for (const i of order) {
    const inTopK = k <= 0 || kept < k;
    const inNucleus = p >= 1 || mass < p * total;
    if (inTopK && inNucleus) {
      kept++;
      mass += w(i);
    } else weights[i] = 0;
  }
}
