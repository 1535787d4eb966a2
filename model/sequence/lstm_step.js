// @ts-check
/**
 * The sequence network (model/sequence/network.ts) one step at a time, in plain JavaScript from
 * its weights, carrying the LSTM state: what generation needs (each token one step), with the
 * probabilities of a whole-prefix pass up to rounding. The input projection of each token is
 * precomputed per vocabulary entry (E·W for each input slot), so a step is a sum of rows, one
 * [units × 4·units] product and the softmax layer.
 *
 * The one home of the network's step-wise inference: generate uses it in Deno (network.ts's
 * SequenceStepper and sampleSequences), and the report page's in-browser player runs this very
 * file (report/player.ts copies it into the page as a classic script), so the page draws the
 * pipeline's pieces token for token. Keep it that way: no imports, every export a `function`
 * declaration.
 *
 * A module of another network for the page offers the same three functions: {@link makeStepper},
 * {@link initialState} and {@link step}; continuation.js's continueSequences runs the
 * generation loop on either.
 *
 * @module
 */

/**
 * How the model's inputs are laid out (network.ts's SequenceLayout), and its LSTM's gates.
 *
 * @typedef {object} StepLayout
 * @property {number} vocabSize Classes of the softmax, `<unk>` the last; the begin-of-file input
 *   id is `vocabSize`.
 * @property {number} stepsPerBar Grid steps per bar.
 * @property {number} lookbackBars Bars looked back: the tokens 1 … lookbackBars bars back.
 * @property {boolean} barPosition Whether the model has the bar-position embedding.
 * @property {"sigmoid" | "hardSigmoid"} [recurrentActivation] The LSTM's gates (default sigmoid).
 */

/**
 * The weights by layer name, each layer's in its own order (the checkpoint's manifest order):
 * `token_embedding` [embeddings], `position_embedding` [embeddings] (with a bar position),
 * `lstm` [kernel, recurrent_kernel, bias], `logits` [kernel, bias]; row-major float32.
 *
 * @typedef {Record<string, Float32Array[]>} StepWeights
 */

/**
 * A model ready to step: the layout, and the weights with each input slot's projection
 * precomputed.
 *
 * @typedef {object} Stepper
 * @property {StepLayout} layout
 * @property {number} units
 * @property {boolean} hard Hard-sigmoid gates.
 * @property {Float64Array[]} slots Per token input slot: [vocabSize + 1, 4·units], E·W_slot.
 * @property {Float64Array | null} positions Per bar position: [stepsPerBar, 4·units], P·W_pos.
 * @property {Float32Array} recurrent
 * @property {Float32Array} bias
 * @property {Float32Array} head
 * @property {Float32Array} headBias
 */

/**
 * One sequence's LSTM state.
 *
 * @typedef {object} StepState
 * @property {Float64Array} h
 * @property {Float64Array} c
 */

/**
 * Prepares `weights` for stepping.
 *
 * @param {StepWeights} weights
 * @param {StepLayout} layout
 * @returns {Stepper}
 * @throws {RangeError} when a weight is missing or its size does not fit the layout, or the
 *   gates are neither sigmoid nor hard sigmoid.
 */
export function makeStepper(weights, layout) {
  const gate = layout.recurrentActivation ?? "sigmoid";
  if (gate !== "sigmoid" && gate !== "hardSigmoid") {
    throw new RangeError(`Cannot step an LSTM with recurrent activation ${gate}`);
  }
  /** @param {string} layer @param {number} count @returns {Float32Array[]} */
  const layerWeights = (layer, count) => {
    const found = weights[layer];
    if (found?.length === count) return found;
    throw new RangeError(
      `Cannot step the sequence network: layer ${layer} needs ${count} weights, found ` +
        `${found === undefined ? "none" : found.length}`,
    );
  };
  /** @typedef {Float32Array} F */
  // Each list has its count (checked above), so none of these is undefined.
  const [t, W, R, b, K, hb] = /** @type {[F, F, F, F, F, F]} */ ([
    ...layerWeights("token_embedding", 1),
    ...layerWeights("lstm", 3),
    ...layerWeights("logits", 2),
  ]);
  const G = b.length;
  const U = G / 4;
  const V = layout.vocabSize;
  const E = t.length / (V + 1);
  const width = 1 + layout.lookbackBars;
  const position = layout.barPosition ? layerWeights("position_embedding", 1)[0] : undefined;
  const P = position ? position.length / layout.stepsPerBar : 0;
  const fits = Number.isInteger(U) && U > 0 && Number.isInteger(E) && Number.isInteger(P) &&
    W.length === (width * E + P) * G && R.length === U * G && hb.length === V &&
    K.length === U * V;
  if (!fits) {
    throw new RangeError(
      `Cannot step the sequence network: its weights do not fit a vocabulary of ${V}, ` +
        `${layout.stepsPerBar} steps a bar and ${layout.lookbackBars} bars looked back`,
    );
  }
  /** @param {Float32Array} rows @param {number} dim @param {number} offset */
  const project = (rows, dim, offset) => {
    const count = rows.length / dim;
    const out = new Float64Array(count * G);
    for (let v = 0; v < count; v++) {
      for (let d = 0; d < dim; d++) {
        const x = /** @type {number} */ (rows[v * dim + d]);
        const w = (offset + d) * G;
        for (let j = 0; j < G; j++) {
          out[v * G + j] = /** @type {number} */ (out[v * G + j]) +
            x * /** @type {number} */ (W[w + j]);
        }
      }
    }
    return out;
  };
  return {
    layout,
    units: U,
    hard: gate === "hardSigmoid",
    slots: Array.from({ length: width }, (_, k) => project(t, E, k * E)),
    positions: position ? project(position, P, width * E) : null,
    recurrent: R,
    bias: b,
    head: K,
    headBias: hb,
  };
}

/**
 * A state at zero: the start of a file.
 *
 * @param {Stepper} stepper
 * @returns {StepState}
 */
export function initialState(stepper) {
  return { h: new Float64Array(stepper.units), c: new Float64Array(stepper.units) };
}

/**
 * Step t of `seq` (its inputs read x_{<t} only): advances `state` and, when `probabilities`,
 * returns p(x_t | x_{<t}) over the vocabulary (a fresh array), else null.
 *
 * @param {Stepper} stepper
 * @param {StepState} state
 * @param {ArrayLike<number>} seq
 * @param {number} t
 * @param {boolean} probabilities
 * @returns {Float64Array | null}
 */
export function step(stepper, state, seq, t, probabilities) {
  // The casts say that an index is in range (noUncheckedIndexedAccess); they cost nothing, where a
  // helper function in these loops made a step half as fast again.
  const U = stepper.units;
  const G = 4 * U;
  const { vocabSize, stepsPerBar } = stepper.layout;
  const z = Float64Array.from(stepper.bias);
  for (let k = 0; k < stepper.slots.length; k++) {
    const slot = /** @type {Float64Array} */ (stepper.slots[k]);
    const back = k === 0 ? t - 1 : t - k * stepsPerBar;
    const row = (back >= 0 ? /** @type {number} */ (seq[back]) : vocabSize) * G;
    for (let j = 0; j < G; j++) {
      z[j] = /** @type {number} */ (z[j]) + /** @type {number} */ (slot[row + j]);
    }
  }
  const positions = stepper.positions;
  if (positions) {
    const row = (t % stepsPerBar) * G;
    for (let j = 0; j < G; j++) {
      z[j] = /** @type {number} */ (z[j]) + /** @type {number} */ (positions[row + j]);
    }
  }
  const { h, c } = state;
  const R = stepper.recurrent;
  for (let i = 0; i < U; i++) {
    const hi = /** @type {number} */ (h[i]);
    if (hi === 0) continue;
    const row = i * G;
    for (let j = 0; j < G; j++) {
      z[j] = /** @type {number} */ (z[j]) + hi * /** @type {number} */ (R[row + j]);
    }
  }
  const gate = stepper.hard
    ? (/** @type {number} */ x) => Math.min(1, Math.max(0, 0.2 * x + 0.5))
    : (/** @type {number} */ x) => 1 / (1 + Math.exp(-x));
  for (let j = 0; j < U; j++) {
    const i = gate(/** @type {number} */ (z[j]));
    const f = gate(/** @type {number} */ (z[U + j]));
    const g = Math.tanh(/** @type {number} */ (z[2 * U + j]));
    const o = gate(/** @type {number} */ (z[3 * U + j]));
    const cj = f * /** @type {number} */ (c[j]) + i * g;
    c[j] = cj;
    h[j] = o * Math.tanh(cj);
  }
  if (!probabilities) return null;
  const V = vocabSize;
  const head = stepper.head;
  const logits = Float64Array.from(stepper.headBias);
  for (let i = 0; i < U; i++) {
    const hi = /** @type {number} */ (h[i]);
    const row = i * V;
    for (let v = 0; v < V; v++) {
      logits[v] = /** @type {number} */ (logits[v]) + hi * /** @type {number} */ (head[row + v]);
    }
  }
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += logits[v] = Math.exp(/** @type {number} */ (logits[v]) - max);
  for (let v = 0; v < V; v++) logits[v] = /** @type {number} */ (logits[v]) / sum;
  return logits;
}
