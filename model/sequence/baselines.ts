/**
 * Honest baselines for a held-out loss on the drum grid (or any token sequences): what a model
 * gets from token frequencies, from the step in the bar, from the last few tokens, and from
 * repeating the bar before. A network's loss means something only beside these.
 *
 * Pure functions over integer sequences: one `Int32Array` per file, ids in `[0, vocabSize)`,
 * `vocabSize` counting the unknown-token class (the caller gives a held-out token the training
 * vocabulary lacks that id). Step `t` is at bar position `t mod stepsPerBar`, counted from the
 * file's start. A score covers every step of every sequence, the first included.
 *
 * - `unigram`: the training tokens' frequencies, add-α smoothed.
 * - `stepUnigram`: the frequencies at each bar position, interpolated with the unigram.
 * - `ngram`: interpolated modified Kneser-Ney (Chen & Goodman: three discounts per order, from
 *   the count-of-counts) over orders 1..N, down to uniform. The context is padded with one
 *   begin-of-file symbol, so a file's first step is scored too; an n-gram that begins with it
 *   keeps its raw count at every order (nothing precedes it), as KenLM does.
 * - `copyBar`: `λ·[x_t = x_{t−stepsPerBar}] + (1−λ)·stepUnigram(x_t)`; the first bar is the step
 *   unigram alone.
 *
 * α (a grid), the step unigram's weight and λ (EM) and N are chosen on the validation sequences,
 * never on those scored; each fit takes an explicit value instead where one is given.
 *
 * @module
 */

/** Mean negative log-likelihood (nats) per step, top-1 and top-5 accuracy, over `steps` steps. */
export interface Score {
  loss: number;
  /** Ranked as evaluate.ts ranks: by the tokens strictly more probable than the true one. */
  top1: number;
  top5: number;
  steps: number;
}

export type Sequences = readonly Int32Array[];

export interface UnigramModel {
  kind: "unigram";
  vocabSize: number;
  alpha: number;
  /** p(token). */
  probabilities: Float64Array;
}

export interface StepUnigramModel {
  kind: "stepUnigram";
  vocabSize: number;
  stepsPerBar: number;
  /** w in (1 − w)·frequency at the bar position + w·unigram. */
  weight: number;
  unigram: UnigramModel;
  /** p(token | bar position), stepsPerBar rows of vocabSize. */
  probabilities: Float64Array;
}

export interface CopyBarModel {
  kind: "copyBar";
  vocabSize: number;
  stepsPerBar: number;
  /** λ, the weight of the token one bar back. */
  weight: number;
  step: StepUnigramModel;
}

/** The modified-KN discounts of one order, for counts 1, 2 and 3 or more. */
export type Discounts = readonly [number, number, number];

export interface NgramModel {
  kind: "ngram";
  vocabSize: number;
  /** N: the longest n-gram (a context of N − 1 tokens). */
  order: number;
  /** The discounts of orders 1..N (index n − 1). */
  discounts: Discounts[];
  /** The validation loss of each order tried (empty when the order was given). */
  validationLoss: Record<number, number>;
  counts: NgramCounts;
}

export type BaselineModel = UnigramModel | StepUnigramModel | NgramModel | CopyBarModel;
export type BaselineName = "unigram" | "stepUnigram" | "ngram" | "copyBar";
export interface Baselines {
  unigram: UnigramModel;
  stepUnigram: StepUnigramModel;
  ngram: NgramModel;
  copyBar: CopyBarModel;
}

const ALPHAS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50];
const ORDERS = [2, 3, 4, 5, 6, 7, 8];
/** EM keeps a mixing weight inside [ε, 1 − ε], so that no step gets probability 0. */
const EPS = 1e-6;

/** The steps of `sequences`, after checking every id is in [0, vocabSize). */
function checkSequences(sequences: Sequences, vocabSize: number, what: string): number {
  if (!Number.isInteger(vocabSize) || vocabSize < 1) {
    throw new RangeError(`vocabSize must be a positive integer, not ${vocabSize}`);
  }
  let steps = 0;
  for (const [i, seq] of sequences.entries()) {
    for (const id of seq) {
      if (!(id >= 0 && id < vocabSize)) {
        throw new RangeError(`${what} sequence ${i}: token id ${id} is outside [0, ${vocabSize})`);
      }
    }
    steps += seq.length;
  }
  return steps;
}

function onValidation(steps: number, what: string): void {
  if (steps === 0) {
    throw new RangeError(`${what} is chosen on validation, but the validation sequences are empty`);
  }
}

/** The w in [ε, 1 − ε] maximising Σ log(w·a_i + (1 − w)·b_i): EM, on a concave likelihood. */
function emWeight(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0.5;
  for (let iter = 0; iter < 1000; iter++) {
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const pa = w * a[i]!, mix = pa + (1 - w) * b[i]!;
      if (mix > 0) sum += pa / mix;
    }
    const next = Math.min(1 - EPS, Math.max(EPS, sum / a.length));
    if (Math.abs(next - w) < 1e-10) return next;
    w = next;
  }
  return w;
}

// --- unigram, and by step in the bar ---------------------------------------------------------

function tokenCounts(sequences: Sequences, vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const seq of sequences) for (const id of seq) counts[id]!++;
  return counts;
}

function addAlpha(counts: Float64Array, alpha: number): Float64Array {
  const total = counts.reduce((a, c) => a + c, 0) + alpha * counts.length;
  return counts.map((c) => (c + alpha) / total);
}

/** Token frequencies of `train`, add-α smoothed; α the best of a grid on `validation`. */
export function fitUnigram(
  train: Sequences,
  validation: Sequences,
  vocabSize: number,
  options: { alpha?: number } = {},
): UnigramModel {
  checkSequences(train, vocabSize, "training");
  const counts = tokenCounts(train, vocabSize);
  let alpha = options.alpha;
  if (alpha === undefined) {
    onValidation(checkSequences(validation, vocabSize, "validation"), "the unigram's α");
    const held = tokenCounts(validation, vocabSize);
    let best = Infinity;
    for (const a of ALPHAS) {
      const p = addAlpha(counts, a);
      const nll = held.reduce((sum, h, w) => h > 0 ? sum - h * Math.log(p[w]!) : sum, 0);
      if (nll < best) [best, alpha] = [nll, a];
    }
  }
  if (!(alpha! > 0)) throw new RangeError(`the unigram's α must be positive, not ${alpha}`);
  return { kind: "unigram", vocabSize, alpha: alpha!, probabilities: addAlpha(counts, alpha!) };
}

/**
 * Token frequencies at each bar position of `train`, interpolated with the unigram:
 * (1 − w)·f_position + w·unigram, w chosen on `validation` by EM (a position training never
 * reached is the unigram alone).
 */
export function fitStepUnigram(
  train: Sequences,
  validation: Sequences,
  vocabSize: number,
  stepsPerBar: number,
  options: { weight?: number; unigram?: UnigramModel } = {},
): StepUnigramModel {
  if (!Number.isInteger(stepsPerBar) || stepsPerBar < 1) {
    throw new RangeError(`stepsPerBar must be a positive integer, not ${stepsPerBar}`);
  }
  checkSequences(train, vocabSize, "training");
  const unigram = options.unigram ?? fitUnigram(train, validation, vocabSize);
  const u = unigram.probabilities;
  // Frequencies by position, a position never reached being the unigram.
  const freq = new Float64Array(stepsPerBar * vocabSize);
  for (const seq of train) {
    for (let t = 0; t < seq.length; t++) freq[(t % stepsPerBar) * vocabSize + seq[t]!]!++;
  }
  for (let s = 0; s < stepsPerBar; s++) {
    const row = freq.subarray(s * vocabSize, (s + 1) * vocabSize);
    const total = row.reduce((a, c) => a + c, 0);
    row.set(total > 0 ? row.map((c) => c / total) : u);
  }
  let weight = options.weight;
  if (weight === undefined) {
    onValidation(checkSequences(validation, vocabSize, "validation"), "the step unigram's weight");
    const a: number[] = [], b: number[] = [];
    for (const seq of validation) {
      for (let t = 0; t < seq.length; t++) {
        a.push(u[seq[t]!]!);
        b.push(freq[(t % stepsPerBar) * vocabSize + seq[t]!]!);
      }
    }
    weight = emWeight(a, b);
  }
  if (!(weight > 0 && weight <= 1)) {
    throw new RangeError(`the step unigram's weight must be in (0, 1], not ${weight}`);
  }
  const probabilities = freq.map((f, i) => (1 - weight) * f + weight * u[i % vocabSize]!);
  return { kind: "stepUnigram", vocabSize, stepsPerBar, weight, unigram, probabilities };
}

/**
 * λ·[x_t = x_{t−stepsPerBar}] + (1 − λ)·stepUnigram(x_t) (the step unigram alone in the first
 * bar), λ chosen on `validation` by EM over the steps that have a bar before them.
 */
export function fitCopyBar(
  train: Sequences,
  validation: Sequences,
  vocabSize: number,
  stepsPerBar: number,
  options: { weight?: number; step?: StepUnigramModel } = {},
): CopyBarModel {
  const step = options.step ?? fitStepUnigram(train, validation, vocabSize, stepsPerBar);
  if (step.stepsPerBar !== stepsPerBar || step.vocabSize !== vocabSize) {
    throw new RangeError("the step unigram was fitted for another bar length or vocabulary");
  }
  let weight = options.weight;
  if (weight === undefined) {
    checkSequences(validation, vocabSize, "validation");
    const copy: number[] = [], base: number[] = [];
    for (const seq of validation) {
      for (let t = stepsPerBar; t < seq.length; t++) {
        copy.push(seq[t] === seq[t - stepsPerBar] ? 1 : 0);
        base.push(step.probabilities[(t % stepsPerBar) * vocabSize + seq[t]!]!);
      }
    }
    onValidation(copy.length, "the copy-bar weight (steps after a first bar)");
    weight = emWeight(copy, base);
  }
  if (!(weight >= 0 && weight < 1)) {
    throw new RangeError(`the copy-bar weight must be in [0, 1), not ${weight}`);
  }
  return { kind: "copyBar", vocabSize, stepsPerBar, weight, step };
}

// --- interpolated modified Kneser-Ney --------------------------------------------------------

/** Next-token counts by context node: node k's are entries start[k] .. start[k + 1] − 1. */
interface Table {
  start: Int32Array;
  tokens: Int32Array;
  counts: Float64Array;
  /** Per node: the sum of its counts, and how many are 1, 2, and 3 or more. */
  total: Float64Array;
  n1: Int32Array;
  n2: Int32Array;
  n3: Int32Array;
}

/**
 * The counts of orders 1..maxOrder, on a trie of contexts grown leftwards: node 0 is the empty
 * context; the child of node c by symbol a is the context a then c. Symbol `vocabSize` is
 * begin-of-file, which nothing extends.
 */
export interface NgramCounts {
  vocabSize: number;
  maxOrder: number;
  /** node · (vocabSize + 1) + symbol → child node. */
  children: Map<number, number>;
  /** Per node: 1 where the context begins with begin-of-file. */
  bof: Uint8Array;
  /** Raw counts of the tokens after each context. */
  raw: Table;
  /** Continuation counts (how many distinct symbols precede context + token). */
  continuation: Table;
  /**
   * Per context length (index n − 1 for order n), count-of-counts 1..4: of all raw counts, of
   * those of begin-of-file contexts, of continuation counts.
   */
  cocRaw: number[][];
  cocRawBof: number[][];
  cocContinuation: number[][];
}

function table(nodes: number, node: number[], token: number[], count: number[]): Table {
  const start = new Int32Array(nodes + 1);
  for (const k of node) start[k + 1]!++;
  for (let k = 0; k < nodes; k++) start[k + 1]! += start[k]!;
  const fill = start.slice(0, nodes);
  const tokens = new Int32Array(node.length), counts = new Float64Array(node.length);
  const total = new Float64Array(nodes);
  const n1 = new Int32Array(nodes), n2 = new Int32Array(nodes), n3 = new Int32Array(nodes);
  for (let e = 0; e < node.length; e++) {
    const k = node[e]!, c = count[e]!, at = fill[k]!++;
    tokens[at] = token[e]!;
    counts[at] = c;
    total[k]! += c;
    (c === 1 ? n1 : c === 2 ? n2 : n3)[k]!++;
  }
  return { start, tokens, counts, total, n1, n2, n3 };
}

/** Raw and continuation counts of orders 1..maxOrder over `train`. */
export function countNgrams(train: Sequences, vocabSize: number, maxOrder: number): NgramCounts {
  checkSequences(train, vocabSize, "training");
  if (!Number.isInteger(maxOrder) || maxOrder < 1) {
    throw new RangeError(`the n-gram order must be a positive integer, not ${maxOrder}`);
  }
  const V = vocabSize, BOF = vocabSize;
  const children = new Map<number, number>();
  const parent = [-1], length = [0], bof = [0];
  const entry = new Map<number, number>(); // node · V + token → raw entry
  const rNode: number[] = [], rToken: number[] = [], rCount: number[] = [];
  for (const seq of train) {
    for (let t = 0; t < seq.length; t++) {
      const w = seq[t]!;
      for (let k = 0, node = 0;; k++) {
        // Count w after node's context of k symbols, then extend the context leftwards.
        const e = entry.get(node * V + w);
        if (e !== undefined) rCount[e]!++;
        else {
          entry.set(node * V + w, rNode.length);
          rNode.push(node), rToken.push(w), rCount.push(1);
        }
        if (k + 1 >= maxOrder || k > t) break; // the longest context, or begin-of-file reached
        const sym = k < t ? seq[t - 1 - k]! : BOF;
        let child = children.get(node * (V + 1) + sym);
        if (child === undefined) {
          child = parent.length;
          children.set(node * (V + 1) + sym, child);
          parent.push(node), length.push(k + 1), bof.push(sym === BOF ? 1 : 0);
        }
        node = child;
      }
    }
  }
  // Each distinct raw (a + context, token) gives (context, token) one more left neighbour.
  const cont = new Map<number, number>();
  const cNode: number[] = [], cToken: number[] = [], cCount: number[] = [];
  for (let e = 0; e < rNode.length; e++) {
    if (rNode[e] === 0) continue;
    const node = parent[rNode[e]!]!, key = node * V + rToken[e]!;
    const c = cont.get(key);
    if (c !== undefined) cCount[c]!++;
    else {
      cont.set(key, cNode.length);
      cNode.push(node), cToken.push(rToken[e]!), cCount.push(1);
    }
  }
  const coc = () => Array.from({ length: maxOrder }, () => [0, 0, 0, 0]);
  const cocRaw = coc(), cocRawBof = coc(), cocContinuation = coc();
  for (let e = 0; e < rNode.length; e++) {
    const c = rCount[e]!, k = rNode[e]!;
    if (c <= 4) cocRaw[length[k]!]![c - 1]!++;
    if (c <= 4 && bof[k]) cocRawBof[length[k]!]![c - 1]!++;
  }
  for (let e = 0; e < cNode.length; e++) {
    if (cCount[e]! <= 4) cocContinuation[length[cNode[e]!]!]![cCount[e]! - 1]!++;
  }
  return {
    vocabSize,
    maxOrder,
    children,
    bof: Uint8Array.from(bof),
    raw: table(parent.length, rNode, rToken, rCount),
    continuation: table(parent.length, cNode, cToken, cCount),
    cocRaw,
    cocRawBof,
    cocContinuation,
  };
}

/** Chen & Goodman's discounts for counts 1, 2, 3+ from the count-of-counts n1..n4. */
export function modifiedKnDiscounts(coc: readonly number[]): Discounts {
  const [n1 = 0, n2 = 0, n3 = 0, n4 = 0] = coc;
  const y = n1 / (n1 + 2 * n2);
  const d = [1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3];
  if (d.every(Number.isFinite)) {
    return [
      Math.min(1, Math.max(0, d[0]!)),
      Math.min(2, Math.max(0, d[1]!)),
      Math.min(3, Math.max(0, d[2]!)),
    ];
  }
  // Too few counts to tell the three apart (a tiny corpus): one discount, Y (or ½).
  const one = y > 0 ? y : 0.5;
  return [one, one, one];
}

function ngramModel(
  counts: NgramCounts,
  order: number,
  discount: number | undefined,
  validationLoss: Record<number, number>,
): NgramModel {
  if (!Number.isInteger(order) || order < 1 || order > counts.maxOrder) {
    throw new RangeError(`the n-gram order must be in 1..${counts.maxOrder}, not ${order}`);
  }
  if (discount !== undefined && !(discount >= 0 && discount <= 1)) {
    throw new RangeError(`the Kneser-Ney discount must be in [0, 1], not ${discount}`);
  }
  // Order n's discounts come from the counts it uses: raw at N; below N, continuation counts and
  // the raw counts of begin-of-file contexts.
  const discounts = Array.from({ length: order }, (_, i): Discounts => {
    if (discount !== undefined) return [discount, discount, discount];
    if (i === order - 1) return modifiedKnDiscounts(counts.cocRaw[i]!);
    return modifiedKnDiscounts(
      counts.cocContinuation[i]!.map((c, j) => c + counts.cocRawBof[i]![j]!),
    );
  });
  return { kind: "ngram", vocabSize: counts.vocabSize, order, discounts, validationLoss, counts };
}

/**
 * Interpolated modified Kneser-Ney over orders 1..N (the context padded with begin-of-file), N
 * `options.order`, or the one of `options.orders` (default 2..8) with the lowest validation
 * loss. `options.discount`: one absolute discount for every order and count (plain interpolated
 * Kneser-Ney) instead of the three estimated per order.
 */
export function fitNgram(
  train: Sequences,
  validation: Sequences,
  vocabSize: number,
  options: { order?: number; orders?: readonly number[]; discount?: number } = {},
): NgramModel {
  if (options.order !== undefined) {
    return ngramModel(
      countNgrams(train, vocabSize, options.order),
      options.order,
      options.discount,
      {},
    );
  }
  const orders = options.orders ?? ORDERS;
  if (orders.length === 0) throw new RangeError("no n-gram orders to try");
  onValidation(checkSequences(validation, vocabSize, "validation"), "the n-gram order");
  const counts = countNgrams(train, vocabSize, Math.max(...orders));
  const losses: Record<number, number> = {};
  let best: NgramModel | undefined;
  for (const n of orders) {
    const model = ngramModel(counts, n, options.discount, losses);
    losses[n] = score(model, validation).loss;
    if (best === undefined || losses[n]! < losses[best.order]!) best = model;
  }
  return best!;
}

/** Fills `out` with p(· | the tokens before step t); `nodes` is scratch of `order` ints. */
function ngramDistribution(
  model: NgramModel,
  seq: Int32Array,
  t: number,
  out: Float64Array,
  nodes: Int32Array,
): void {
  const { vocabSize: V, order, discounts, counts } = model;
  // The contexts of 0, 1, … symbols before t that training saw, up to order − 1.
  let levels = 1;
  nodes[0] = 0;
  for (let k = 0; levels < order && k <= t; k++) {
    const child = counts.children.get(nodes[k]! * (V + 1) + (k < t ? seq[t - 1 - k]! : V));
    if (child === undefined) break;
    nodes[levels++] = child;
  }
  // p_n = Σ max(c − D(c), 0)/total + γ·p_{n−1}, from the longest context down to uniform.
  out.fill(0);
  let weight = 1;
  for (let n = levels; n >= 1; n--) {
    const node = nodes[n - 1]!;
    const tab = n === order || counts.bof[node] ? counts.raw : counts.continuation;
    const [d1, d2, d3] = discounts[n - 1]!;
    const scale = weight / tab.total[node]!;
    for (let e = tab.start[node]!; e < tab.start[node + 1]!; e++) {
      const c = tab.counts[e]!;
      out[tab.tokens[e]!]! += scale * Math.max(0, c - (c === 1 ? d1 : c === 2 ? d2 : d3));
    }
    weight = scale * (d1 * tab.n1[node]! + d2 * tab.n2[node]! + d3 * tab.n3[node]!);
  }
  for (let w = 0; w < V; w++) out[w]! += weight / V;
}

// --- scoring ---------------------------------------------------------------------------------

/** A function filling the distribution at step t of one sequence. */
function predictor(model: BaselineModel, seq: Int32Array): (t: number, out: Float64Array) => void {
  const V = model.vocabSize;
  switch (model.kind) {
    case "unigram":
      return (_t, out) => out.set(model.probabilities);
    case "stepUnigram":
      return (t, out) => {
        const s = t % model.stepsPerBar;
        out.set(model.probabilities.subarray(s * V, (s + 1) * V));
      };
    case "copyBar": {
      const { step, stepsPerBar, weight } = model;
      return (t, out) => {
        const s = t % stepsPerBar;
        const row = step.probabilities.subarray(s * V, (s + 1) * V);
        if (t < stepsPerBar) return out.set(row);
        for (let w = 0; w < V; w++) out[w] = (1 - weight) * row[w]!;
        out[seq[t - stepsPerBar]!]! += weight;
      };
    }
    case "ngram": {
      const nodes = new Int32Array(model.order);
      return (t, out) => ngramDistribution(model, seq, t, out, nodes);
    }
  }
}

/** p(· | what comes before step t of `sequence`): a distribution over the vocabulary. */
export function distribution(model: BaselineModel, sequence: Int32Array, t: number): Float64Array {
  if (!Number.isInteger(t) || t < 0 || t >= sequence.length) {
    throw new RangeError(`step ${t} is outside the sequence (${sequence.length} steps)`);
  }
  checkSequences([sequence], model.vocabSize, "the");
  const out = new Float64Array(model.vocabSize);
  predictor(model, sequence)(t, out);
  return out;
}

/**
 * Mean negative log-likelihood (nats) per step over every step of every sequence, top-1 and
 * top-5 accuracy (the tokens strictly more probable than the true one counted, as evaluate.ts
 * ranks: a tie counts for the true token).
 */
export function score(model: BaselineModel, sequences: Sequences): Score {
  const steps = checkSequences(sequences, model.vocabSize, "scored");
  const out = new Float64Array(model.vocabSize);
  let nll = 0, top1 = 0, top5 = 0;
  for (const seq of sequences) {
    const predict = predictor(model, seq);
    for (let t = 0; t < seq.length; t++) {
      predict(t, out);
      const p = out[seq[t]!]!;
      nll -= Math.log(p);
      let above = 0;
      for (let w = 0; w < out.length && above < 5; w++) if (out[w]! > p) above++;
      if (above < 1) top1++;
      if (above < 5) top5++;
    }
  }
  return { loss: nll / steps, top1: top1 / steps, top5: top5 / steps, steps };
}

// --- all four --------------------------------------------------------------------------------

/** The four baselines fitted on `train`, their hyperparameters chosen on `validation`. */
export function fitBaselines(
  train: Sequences,
  validation: Sequences,
  vocabSize: number,
  stepsPerBar: number,
): Baselines {
  const unigram = fitUnigram(train, validation, vocabSize);
  const stepUnigram = fitStepUnigram(train, validation, vocabSize, stepsPerBar, { unigram });
  const ngram = fitNgram(train, validation, vocabSize);
  const copyBar = fitCopyBar(train, validation, vocabSize, stepsPerBar, { step: stepUnigram });
  return { unigram, stepUnigram, ngram, copyBar };
}

/** Each baseline's score on `sequences`. */
export function scoreBaselines(
  models: Baselines,
  sequences: Sequences,
): Record<BaselineName, Score> {
  return {
    unigram: score(models.unigram, sequences),
    stepUnigram: score(models.stepUnigram, sequences),
    ngram: score(models.ngram, sequences),
    copyBar: score(models.copyBar, sequences),
  };
}
