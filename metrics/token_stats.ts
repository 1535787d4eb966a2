/**
 * Statistics of a token list (`C4`, `E-3`, chords `0.4.7`; one token per step), the same for a
 * training file's tokens and for a generated sequence, so a run can say how far the generated
 * music is from the data at the level the model actually sees. They target the ways an LSTM
 * sampler typically fails: a small vocabulary in use, one token dominating, a token stuck on
 * repeat, whole bars looped, and a token distribution unlike the data's.
 *
 * Bars: the tutorial places tokens `render.step` quarter notes apart (0.5 by default), so a 4/4
 * bar is `4 / step` tokens, 8 by default; the bar length is a parameter, see {@link tokensPerBar}.
 *
 * @module
 */

/** How often each token occurs (counts, or any non-negative weights: only ratios matter). */
export type TokenCounts = ReadonlyMap<string, number>;

/**
 * Tokens per bar for a render step and a bar length, both in quarter notes.
 *
 * @param step quarter notes between tokens (`render.step`); default 0.5
 * @param beatsPerBar quarter notes per bar; default 4
 * @returns `beatsPerBar / step`, e.g. 8
 * @throws {RangeError} when that is not a positive integer (a bar would split a token)
 */
export function tokensPerBar(step = 0.5, beatsPerBar = 4): number {
  const n = beatsPerBar / step;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `A bar of ${beatsPerBar} quarters is not a whole number of ${step}-quarter steps`,
    );
  }
  return n;
}

/**
 * Counts each token.
 *
 * @param tokens the token list
 * @returns token → occurrences
 */
export function tokenCounts(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/**
 * Number of distinct tokens.
 *
 * @param tokens the token list
 * @returns 0 for an empty list
 */
export function distinctTokens(tokens: readonly string[]): number {
  return new Set(tokens).size;
}

/**
 * Share of the list taken by its most frequent token: 1 means a single token repeated.
 *
 * @param tokens the token list
 * @returns in (0, 1]; NaN for an empty list
 */
export function topTokenShare(tokens: readonly string[]): number {
  if (tokens.length === 0) return NaN;
  let top = 0;
  for (const c of tokenCounts(tokens).values()) top = Math.max(top, c);
  return top / tokens.length;
}

/**
 * Length of the longest run of one token (consecutive equal tokens).
 *
 * @param tokens the token list
 * @returns 0 for an empty list, else at least 1
 */
export function longestRun(tokens: readonly string[]): number {
  let longest = 0;
  let run = 0;
  tokens.forEach((t, i) => {
    run = i > 0 && t === tokens[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  });
  return longest;
}

/**
 * Share of bars that repeat the bar before them token for token. Bars start at the first token;
 * a trailing partial bar is left out, since it cannot equal a full bar. The share is over the
 * bars that have a previous bar (all but the first).
 *
 * @param tokens the token list
 * @param perBar tokens per bar; default 8 (4/4 at the tutorial's half-beat step)
 * @returns in [0, 1]; NaN when there are fewer than two full bars
 * @throws {RangeError} when `perBar` is not a positive integer
 */
export function barRepeatShare(tokens: readonly string[], perBar = 8): number {
  if (!Number.isInteger(perBar) || perBar < 1) {
    throw new RangeError(`Tokens per bar must be a positive integer (found ${perBar})`);
  }
  const nBars = Math.floor(tokens.length / perBar);
  if (nBars < 2) return NaN;
  let repeats = 0;
  for (let b = 1; b < nBars; b++) {
    let same = true;
    for (let k = 0; k < perBar && same; k++) {
      same = tokens[b * perBar + k] === tokens[(b - 1) * perBar + k];
    }
    if (same) repeats++;
  }
  return repeats / (nBars - 1);
}

/**
 * Share of silent steps (the drum grid's `-`: nothing struck); 0 for an encoding without them,
 * NaN for an empty list.
 */
export function silentShare(tokens: readonly string[]): number {
  if (tokens.length === 0) return NaN;
  return tokens.filter((t) => t === "-").length / tokens.length;
}

/**
 * Hits per bar: each token's struck parts (`kick+snare` is two; a silent `-` none; any other
 * token one) over the whole bars; NaN with no whole bar.
 */
export function hitsPerBar(tokens: readonly string[], perBar = 8): number {
  const bars = Math.floor(tokens.length / perBar);
  if (bars < 1) return NaN;
  let hits = 0;
  for (const t of tokens.slice(0, bars * perBar)) if (t !== "-") hits += t.split("+").length;
  return hits / bars;
}

/** Total weight of a distribution, checking the weights are usable. */
function total(counts: TokenCounts): number {
  let sum = 0;
  for (const [token, c] of counts) {
    if (!Number.isFinite(c) || c < 0) {
      throw new RangeError(`Token ${JSON.stringify(token)}: weight must be finite and >= 0`);
    }
    sum += c;
  }
  return sum;
}

/**
 * Jensen–Shannon distance between two token distributions, with base-2 logarithms so that it
 * lies in [0, 1]: 0 for identical distributions, 1 for distributions with no token in common.
 * The distance is the square root of the Jensen–Shannon divergence
 * `JSD(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M)`, `M = ½ (P + Q)` (the root is a metric, the divergence
 * is not), the same as SciPy's `jensenshannon(p, q, base=2)`.
 *
 * @param p counts (or weights) of the first distribution, e.g. a generated piece's
 * @param q counts of the second, e.g. the training data's
 * @returns the distance in [0, 1]; NaN when either distribution is empty (total weight 0)
 * @throws {RangeError} for a negative or non-finite weight
 */
export function jensenShannonDistance(p: TokenCounts, q: TokenCounts): number {
  const pTotal = total(p);
  const qTotal = total(q);
  if (pTotal <= 0 || qTotal <= 0) return NaN;
  let divergence = 0;
  for (const token of new Set([...p.keys(), ...q.keys()])) {
    const pi = (p.get(token) ?? 0) / pTotal;
    const qi = (q.get(token) ?? 0) / qTotal;
    const mi = (pi + qi) / 2;
    // 0 · log 0 = 0: a token absent from one side adds only the other side's term.
    if (pi > 0) divergence += (pi / 2) * Math.log2(pi / mi);
    if (qi > 0) divergence += (qi / 2) * Math.log2(qi / mi);
  }
  // Rounding can push the sum a hair outside [0, 1]; the root of that would be NaN or above 1.
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

/** The token statistics of one token list. */
export interface TokenStatistics {
  /** Number of tokens. */
  n_tokens: number;
  distinct_tokens: number;
  /** Share of the most frequent token; NaN for an empty list. */
  top_token_share: number;
  longest_run: number;
  /** Share of bars equal to the previous bar; NaN with fewer than two full bars. */
  bar_repeat_share: number;
  /** Share of silent steps (drum grid); 0 for tokens without silence. */
  silent_share: number;
  /** Struck parts per whole bar. */
  hits_per_bar: number;
  /** Jensen–Shannon distance (base 2) to the reference; NaN when no reference was given. */
  js_distance: number;
}

/** Options of {@link tokenStatistics}. */
export interface TokenStatisticsOptions {
  /** Tokens per bar; default 8 (see {@link tokensPerBar}). */
  tokensPerBar?: number;
}

/**
 * Every token statistic of a token list, with the distance to a reference distribution when one
 * is given. Pass the training corpus's counts once (`tokenCounts(allTrainingTokens)`) rather than
 * the token list when scoring many pieces.
 *
 * @param tokens the token list (a generated sequence, or one training file's tokens)
 * @param reference the distribution to compare with: a token list or its counts
 * @param opts bar length
 * @returns the statistics
 */
export function tokenStatistics(
  tokens: readonly string[],
  reference?: readonly string[] | TokenCounts,
  opts: TokenStatisticsOptions = {},
): TokenStatistics {
  const ref = reference === undefined
    ? undefined
    : Array.isArray(reference)
    ? tokenCounts(reference as readonly string[])
    : reference as TokenCounts;
  return {
    n_tokens: tokens.length,
    distinct_tokens: distinctTokens(tokens),
    top_token_share: topTokenShare(tokens),
    longest_run: longestRun(tokens),
    bar_repeat_share: barRepeatShare(tokens, opts.tokensPerBar ?? 8),
    silent_share: silentShare(tokens),
    hits_per_bar: hitsPerBar(tokens, opts.tokensPerBar ?? 8),
    js_distance: ref === undefined ? NaN : jensenShannonDistance(tokenCounts(tokens), ref),
  };
}
