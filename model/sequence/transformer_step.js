// @ts-check
/**
 * The Groove recipe's causal Transformer (model/sequence/transformer.ts) one step at a time, in
 * plain JavaScript from its weights: what generation needs, each token one step, with the
 * probabilities of the tfjs model's forward pass up to float rounding.
 *
 * The maths, at step t of a file (predicting x_t), width w, `heads` heads of w/heads:
 *
 * - features: E(x_{t−1}), E(x_{t−b·stepsPerBar}) for b = 1 … lookbackBars, then P(t mod
 *   stepsPerBar) when `barPosition` (the begin-of-file id `vocabSize` where an index is negative),
 *   as model/sequence/network.ts's `sequenceInputs` lays them out;
 * - h = features · W_in + b_in;
 * - per block: h += Out(Attention(LN₁(h))), then h += W₂·relu(W₁·LN₂(h)) (pre-LayerNorm);
 * - LN_final(h) · W_V + b_V, softmax.
 *
 * Attention is causal with ALiBi (Press et al. 2022, "Train short, test long"): head k adds
 * −slope_k · (t − j) to the score of key j, and sees only the last `window` steps (itself
 * included). No position enters the keys and values, so each block's keys and values are kept in
 * a ring buffer of `window` steps and reused as they are until they leave it: a step costs one
 * pass through the blocks, however long the piece. (Through the blocks, a step's output thus
 * depends on up to blocks·(window − 1) earlier steps, as in Mistral's sliding-window attention;
 * the tfjs model computes exactly that: see transformer_layers.ts.)
 *
 * Plain JavaScript with JSDoc types, for the same reason as model/random.js: the report page's
 * in-browser player can run this very file as a classic script. Keep it that way: no imports,
 * every export a `function` declaration. It offers the three functions of lstm_step.js
 * ({@link makeStepper}, {@link initialState}, {@link step}), so continuation.js's
 * continueSequences and the page run either network's module the same way.
 *
 * @module
 */

/**
 * What shapes the network: the model's input layout and its blocks.
 *
 * @typedef {object} TransformerShape
 * @property {number} vocabSize Classes of the softmax (`<unk>` the last); the begin-of-file input id is vocabSize.
 * @property {number} stepsPerBar Grid steps per bar.
 * @property {number} lookbackBars Bars looked back (tokens 1 … lookbackBars bars back are inputs).
 * @property {boolean} barPosition Whether the bar-position embedding is an input.
 * @property {number} blocks Transformer blocks.
 * @property {number} heads Attention heads per block.
 * @property {number} width Model width (the residual stream), divisible by heads.
 * @property {number} window Steps a step attends to, itself included.
 * @property {number} epsilon LayerNorm's epsilon.
 */

/**
 * The weights by layer name, each layer's in tfjs's order (`kernel`, `bias` for a dense layer,
 * `gamma`, `beta` for a layer norm, `embeddings` for an embedding), row-major as tfjs stores them
 * (a dense kernel is [inputs, units]).
 *
 * @typedef {Record<string, Float32Array[]>} LayerWeights
 */

/**
 * One block's layer names.
 *
 * @typedef {object} BlockLayerNames
 * @property {string} norm1 LayerNorm before attention.
 * @property {string} qkv Dense to queries, keys and values ([w] → [3w], in that order).
 * @property {string} attention The attention layer (no weights).
 * @property {string} attentionOutput Dense from the heads' outputs back to the width.
 * @property {string} attentionDropout
 * @property {string} attentionResidual
 * @property {string} norm2 LayerNorm before the MLP.
 * @property {string} mlpHidden Dense to 4·width.
 * @property {string} mlpActivation
 * @property {string} mlpOutput Dense back to the width.
 * @property {string} mlpDropout
 * @property {string} mlpResidual
 */

/**
 * The layer names the model is built with and this module reads: one home for them (the model's
 * checkpoint names its weights after them).
 *
 * @param {number} blocks
 * @returns {{tokenEmbedding: string, positionEmbedding: string, inputProjection: string,
 *   inputDropout: string, blocks: BlockLayerNames[], finalNorm: string, logits: string}}
 */
export function transformerLayerNames(blocks) {
  return {
    tokenEmbedding: "token_embedding",
    positionEmbedding: "position_embedding",
    inputProjection: "input_projection",
    inputDropout: "input_dropout",
    blocks: Array.from({ length: blocks }, (_, i) => {
      const b = `block${i + 1}_`;
      return {
        norm1: `${b}norm1`,
        qkv: `${b}qkv`,
        attention: `${b}attention`,
        attentionOutput: `${b}attention_output`,
        attentionDropout: `${b}attention_dropout`,
        attentionResidual: `${b}attention_residual`,
        norm2: `${b}norm2`,
        mlpHidden: `${b}mlp_hidden`,
        mlpActivation: `${b}mlp_relu`,
        mlpOutput: `${b}mlp_output`,
        mlpDropout: `${b}mlp_dropout`,
        mlpResidual: `${b}mlp_residual`,
      };
    }),
    finalNorm: "final_norm",
    logits: "logits",
  };
}

/**
 * ALiBi's head slopes (Press et al. 2022, section 3): for a power of two n, the geometric
 * sequence 2^(−8/n), 2^(−16/n), …, 2^(−8); otherwise those of the power of two below n, then
 * every other slope of the next power of two, as the paper's code does.
 *
 * @param {number} heads
 * @returns {number[]}
 */
export function alibiSlopes(heads) {
  const powerOfTwo = (/** @type {number} */ n) =>
    Array.from({ length: n }, (_, i) => 2 ** (-8 * (i + 1) / n));
  const below = 2 ** Math.floor(Math.log2(heads));
  if (below === heads) return powerOfTwo(heads);
  return [
    ...powerOfTwo(below),
    ...alibiSlopes(2 * below).filter((_, i) => i % 2 === 0).slice(0, heads - below),
  ];
}

/**
 * The additive attention bias of `queries` steps over `keys` steps, the queries being the last
 * `queries` of the keys: [heads, queries, keys] row-major. Query i (step keys − queries + i of
 * the keys) and key j at distance d = keys − queries + i − j get −slope·d where 0 ≤ d < window,
 * and −1e9 elsewhere (a later step, or one out of the window), whose exp is 0 in float32.
 *
 * @param {number} heads
 * @param {number} queries
 * @param {number} keys
 * @param {number} window
 * @returns {Float32Array}
 */
export function attentionBias(heads, queries, keys, window) {
  const slopes = alibiSlopes(heads);
  const bias = new Float32Array(heads * queries * keys).fill(-1e9);
  for (let h = 0; h < heads; h++) {
    const slope = /** @type {number} */ (slopes[h]);
    for (let i = 0; i < queries; i++) {
      const at = keys - queries + i;
      const row = (h * queries + i) * keys;
      for (let j = Math.max(0, at - window + 1); j <= at; j++) bias[row + j] = -slope * (at - j);
    }
  }
  return bias;
}

/**
 * A model ready to step: its shape (`layout`, as lstm_step.js's steppers have one), weights and
 * head slopes.
 *
 * @typedef {object} Stepper
 * @property {TransformerShape} layout
 * @property {LayerWeights} weights
 * @property {number[]} slopes
 */

/**
 * Checks `weights` against `shape` (every layer {@link transformerLayerNames} names, of the sizes
 * the shape implies) and returns the model to step.
 *
 * @param {LayerWeights} weights
 * @param {TransformerShape} shape
 * @returns {Stepper}
 * @throws {RangeError} naming the first layer that is missing or of the wrong size.
 */
export function makeStepper(weights, shape) {
  const { vocabSize: V, width: w, heads, blocks, stepsPerBar, lookbackBars } = shape;
  if (!(w % heads === 0 && heads >= 1 && blocks >= 1 && shape.window >= 1)) {
    throw new RangeError(
      `Cannot step a transformer of width ${w}, ${heads} heads, ${blocks} blocks, window ${shape.window}`,
    );
  }
  const names = transformerLayerNames(blocks);
  const e = (weights[names.tokenEmbedding]?.[0]?.length ?? 0) / (V + 1);
  const p = shape.barPosition
    ? (weights[names.positionEmbedding]?.[0]?.length ?? 0) / stepsPerBar
    : 0;
  const features = (1 + lookbackBars) * e + p;
  /** @type {[string, number[]][]} */
  const expected = [
    [names.tokenEmbedding, [(V + 1) * e]],
    [names.inputProjection, [features * w, w]],
    ...names.blocks.flatMap((b) => /** @type {[string, number[]][]} */ ([
      [b.norm1, [w, w]],
      [b.qkv, [w * 3 * w, 3 * w]],
      [b.attentionOutput, [w * w, w]],
      [b.norm2, [w, w]],
      [b.mlpHidden, [w * 4 * w, 4 * w]],
      [b.mlpOutput, [4 * w * w, w]],
    ])),
    [names.finalNorm, [w, w]],
    [names.logits, [w * V, V]],
  ];
  if (shape.barPosition) expected.push([names.positionEmbedding, [stepsPerBar * p]]);
  for (const [name, sizes] of expected) {
    const got = (weights[name] ?? []).map((a) => a.length);
    if (!Number.isInteger(e) || e < 1 || got.join() !== sizes.join()) {
      throw new RangeError(
        `Cannot step the transformer: layer ${name} has weights of sizes [${got}], not [${sizes}]`,
      );
    }
  }
  return { layout: shape, weights, slopes: alibiSlopes(heads) };
}

/**
 * One sequence's keys and values, per block a ring buffer of `window` steps.
 *
 * @typedef {object} StepState
 * @property {number} steps Steps taken: the next step's t.
 * @property {Float32Array[]} keys Per block, [window × width]: step t's keys in row t mod window.
 * @property {Float32Array[]} values Per block, the same for values.
 */

/**
 * A state at the start of a file.
 *
 * @param {Stepper} stepper
 * @returns {StepState}
 */
export function initialState(stepper) {
  const { blocks, window, width } = stepper.layout;
  return {
    steps: 0,
    keys: Array.from({ length: blocks }, () => new Float32Array(window * width)),
    values: Array.from({ length: blocks }, () => new Float32Array(window * width)),
  };
}

/**
 * Step t of `seq` (its inputs read x_{<t} only; t must be `state.steps`): adds the step's keys and
 * values to `state` and, when `probabilities`, returns p(x_t | x_{<t}) over the vocabulary (a
 * fresh array), else null (the last block's attention output and MLP, and the head, are then
 * skipped: a primer's steps need only their keys and values).
 *
 * @param {Stepper} stepper
 * @param {StepState} state
 * @param {ArrayLike<number>} seq
 * @param {number} t
 * @param {boolean} probabilities
 * @returns {Float64Array | null}
 * @throws {RangeError} when t is not the state's next step.
 */
export function step(stepper, state, seq, t, probabilities) {
  if (t !== state.steps) {
    throw new RangeError(
      `Cannot step the transformer to step ${t}: its state is at ${state.steps}`,
    );
  }
  const { layout: shape, weights, slopes } = stepper;
  const { vocabSize, stepsPerBar, lookbackBars, width: w, heads, window, epsilon } = shape;
  const names = transformerLayerNames(shape.blocks);
  const W = (
    /** @type {string} */ name,
    /** @type {number} */ i,
  ) => /** @type {Float32Array} */ (/** @type {Float32Array[]} */ (weights[name])[i]);

  // The input features, as sequenceInputs and the embedding and concatenation layers make them.
  const table = W(names.tokenEmbedding, 0);
  const e = table.length / (vocabSize + 1);
  /** @type {number[]} */
  const ids = [];
  for (let b = 0; b <= lookbackBars; b++) {
    const back = b === 0 ? t - 1 : t - b * stepsPerBar;
    ids.push(back >= 0 ? /** @type {number} */ (seq[back]) : vocabSize);
  }
  const positions = shape.barPosition ? W(names.positionEmbedding, 0) : null;
  const p = positions ? positions.length / stepsPerBar : 0;
  const x = new Float64Array(ids.length * e + p);
  ids.forEach((id, k) => {
    for (let d = 0; d < e; d++) x[k * e + d] = /** @type {number} */ (table[id * e + d]);
  });
  if (positions) {
    const at = t % stepsPerBar;
    for (let d = 0; d < p; d++) {
      x[ids.length * e + d] = /** @type {number} */ (positions[at * p + d]);
    }
  }
  const h = dense(x, W(names.inputProjection, 0), W(names.inputProjection, 1));

  const dh = w / heads;
  const scale = 1 / Math.sqrt(dh);
  const slot = t % window;
  const span = Math.min(t + 1, window);
  const last = names.blocks.length - 1;
  for (const [index, block] of names.blocks.entries()) {
    const qkv = dense(
      layerNorm(h, W(block.norm1, 0), W(block.norm1, 1), epsilon),
      W(block.qkv, 0),
      W(block.qkv, 1),
    );
    const keys = /** @type {Float32Array} */ (state.keys[index]);
    const values = /** @type {Float32Array} */ (state.values[index]);
    for (let j = 0; j < w; j++) {
      keys[slot * w + j] = /** @type {number} */ (qkv[w + j]);
      values[slot * w + j] = /** @type {number} */ (qkv[2 * w + j]);
    }
    if (index === last && !probabilities) break;
    const heard = new Float64Array(w);
    const scores = new Float64Array(span);
    for (let k = 0; k < heads; k++) {
      const slope = /** @type {number} */ (slopes[k]);
      let max = -Infinity;
      for (let d = 0; d < span; d++) {
        // The step d steps back, in its ring-buffer row.
        const row = ((t - d) % window) * w + k * dh;
        let s = 0;
        for (let i = 0; i < dh; i++) {
          s += /** @type {number} */ (qkv[k * dh + i]) * /** @type {number} */ (keys[row + i]);
        }
        scores[d] = s * scale - slope * d;
        max = Math.max(max, /** @type {number} */ (scores[d]));
      }
      let sum = 0;
      for (let d = 0; d < span; d++) {
        sum += scores[d] = Math.exp(/** @type {number} */ (scores[d]) - max);
      }
      for (let d = 0; d < span; d++) {
        const weight = /** @type {number} */ (scores[d]) / sum;
        const row = ((t - d) % window) * w + k * dh;
        for (let i = 0; i < dh; i++) {
          heard[k * dh + i] = /** @type {number} */ (heard[k * dh + i]) +
            weight * /** @type {number} */ (values[row + i]);
        }
      }
    }
    addInto(h, dense(heard, W(block.attentionOutput, 0), W(block.attentionOutput, 1)));
    const hidden = dense(
      layerNorm(h, W(block.norm2, 0), W(block.norm2, 1), epsilon),
      W(block.mlpHidden, 0),
      W(block.mlpHidden, 1),
    );
    for (let j = 0; j < hidden.length; j++) {
      hidden[j] = Math.max(0, /** @type {number} */ (hidden[j]));
    }
    addInto(h, dense(hidden, W(block.mlpOutput, 0), W(block.mlpOutput, 1)));
  }
  state.steps = t + 1;
  if (!probabilities) return null;
  const logits = dense(
    layerNorm(h, W(names.finalNorm, 0), W(names.finalNorm, 1), epsilon),
    W(names.logits, 0),
    W(names.logits, 1),
  );
  let max = -Infinity;
  for (const z of logits) max = Math.max(max, z);
  let sum = 0;
  for (let v = 0; v < logits.length; v++) {
    sum += logits[v] = Math.exp(/** @type {number} */ (logits[v]) - max);
  }
  for (let v = 0; v < logits.length; v++) logits[v] = /** @type {number} */ (logits[v]) / sum;
  return logits;
}

/**
 * x · kernel + bias, kernel [inputs, units] row-major.
 *
 * @param {Float64Array} x
 * @param {Float32Array} kernel
 * @param {Float32Array} bias
 * @returns {Float64Array}
 */
function dense(x, kernel, bias) {
  const units = bias.length;
  const y = Float64Array.from(bias);
  for (let i = 0; i < x.length; i++) {
    const xi = /** @type {number} */ (x[i]);
    if (xi === 0) continue;
    const row = i * units;
    for (let j = 0; j < units; j++) {
      y[j] = /** @type {number} */ (y[j]) + xi * /** @type {number} */ (kernel[row + j]);
    }
  }
  return y;
}

/**
 * LayerNorm over the vector: (x − mean) / √(variance + epsilon) · gamma + beta.
 *
 * @param {Float64Array} x
 * @param {Float32Array} gamma
 * @param {Float32Array} beta
 * @param {number} epsilon
 * @returns {Float64Array}
 */
function layerNorm(x, gamma, beta, epsilon) {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= n;
  const inv = 1 / Math.sqrt(variance + epsilon);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = (/** @type {number} */ (x[i]) - mean) * inv * /** @type {number} */ (gamma[i]) +
      /** @type {number} */ (beta[i]);
  }
  return y;
}

/**
 * h += y.
 *
 * @param {Float64Array} h
 * @param {Float64Array} y
 */
function addInto(h, y) {
  for (let i = 0; i < h.length; i++) {
    h[i] = /** @type {number} */ (h[i]) + /** @type {number} */ (y[i]);
  }
}
