// @ts-check
/**
 * The humanizer's inference, in plain JavaScript from its weights: which drums a pattern strikes
 * on which step in, a velocity and an offset from the grid for every hit out. A small network
 * (two hidden layers) reads, for each step that holds a hit, the hits of the steps around it
 * (`context` steps either side: a snare between two kicks is played differently from one on the
 * backbeat), the step's position in the bar, the style asked for and the tempo, and gives each
 * drum struck there a distribution over velocities (buckets of 5, as the expressive encoding's)
 * and over offsets (96ths of a quarter, as the encoding's).
 *
 * The one home of the humanizer's forward pass: training (humanizer.ts) checks its tfjs graph
 * against it, the pipeline plays pieces and humanizes files with it, and the report page runs
 * this very file in the browser. Keep it that way: no imports, every export a `function`
 * declaration.
 *
 * @module
 */

/**
 * The humanizer's shape.
 *
 * @typedef {object} HumanizerLayout
 * @property {number} drums Drum classes (9).
 * @property {number} context Steps read on either side of the step played.
 * @property {number} stepsPerBar Steps per bar (the position input's size).
 * @property {number} stepsPerQuarter Steps per quarter note.
 * @property {string[]} styles The styles it was trained on, by index; empty when it is not
 *   conditioned on style.
 * @property {number} hidden Units of each hidden layer.
 * @property {number} velocityClasses Velocity buckets (class k plays the middle of k·5+1 … k·5+5).
 * @property {number} offsetMin The earliest offset, in 96ths of a quarter (class 0).
 * @property {number} offsetClasses Offsets, from offsetMin up by one.
 */

/**
 * A humanizer: its layout and weights, row-major: w1 [features × hidden], b1, w2 [hidden ×
 * hidden], b2, w3 [hidden × drums·(velocityClasses + offsetClasses)], b3.
 *
 * @typedef {object} HumanizerModel
 * @property {HumanizerLayout} layout
 * @property {Float32Array[]} weights
 */

/**
 * How hits are played: `median` takes each distribution's median (the closest to the real
 * performance in absolute error: humanizing a pattern), `sample` draws from it at `temperature`
 * with `rng` (a performance as varied as the data's: playing generated pieces).
 *
 * @typedef {{ mode: "median" } | { mode: "sample"; temperature: number; rng: () => number }} Playing
 */

/**
 * Inputs per step: the hits of 2·context + 1 steps, the position in the bar, the style, tempo.
 *
 * @param {HumanizerLayout} layout
 * @returns {number}
 */
export function featureCount(layout) {
  return (2 * layout.context + 1) * layout.drums + layout.stepsPerBar + layout.styles.length + 1;
}

/**
 * Outputs per step: each drum's velocity and offset classes.
 *
 * @param {HumanizerLayout} layout
 * @returns {number}
 */
export function outputCount(layout) {
  return layout.drums * (layout.velocityClasses + layout.offsetClasses);
}

/**
 * The weights' shapes, in {@link HumanizerModel}'s order: w1, b1, w2, b2, w3, b3.
 *
 * @param {HumanizerLayout} layout
 * @returns {number[][]}
 */
export function weightShapes(layout) {
  const f = featureCount(layout), h = layout.hidden, y = outputCount(layout);
  return [[f, h], [h], [h, h], [h], [h, y], [y]];
}

/**
 * Writes step `t`'s inputs into `out` (length {@link featureCount}, zeroed here).
 *
 * @param {HumanizerLayout} layout
 * @param {ArrayLike<number>} masks Per step, a bit per drum class struck (bit d: class d).
 * @param {number} t The step.
 * @param {number} style Index in layout.styles, or -1 for none.
 * @param {number} bpm Quarter notes per minute.
 * @param {Float32Array} out
 */
export function stepFeatures(layout, masks, t, style, bpm, out) {
  out.fill(0);
  const { drums, context, stepsPerBar } = layout;
  let at = 0;
  for (let s = t - context; s <= t + context; s++, at += drums) {
    const mask = s >= 0 && s < masks.length ? masks[s] ?? 0 : 0;
    for (let d = 0; d < drums; d++) if ((mask >> d) & 1) out[at + d] = 1;
  }
  out[at + (t % stepsPerBar)] = 1;
  at += stepsPerBar;
  if (style >= 0 && style < layout.styles.length) out[at + style] = 1;
  at += layout.styles.length;
  // Offsets in 96ths of a quarter shrink in time as the tempo rises: the network sees how fast.
  out[at] = Math.log2(bpm / 120);
}

/**
 * The network's outputs (logits) for one step's inputs.
 *
 * @param {HumanizerModel} model
 * @param {Float32Array} x Inputs ({@link stepFeatures}).
 * @param {Float64Array} h1 Scratch, layout.hidden long.
 * @param {Float64Array} h2 Scratch, layout.hidden long.
 * @param {Float64Array} out Logits, {@link outputCount} long.
 */
export function forward(model, x, h1, h2, out) {
  const [w1, b1, w2, b2, w3, b3] = model.weights;
  dense(x, /** @type {Float32Array} */ (w1), /** @type {Float32Array} */ (b1), h1, true);
  dense(h1, /** @type {Float32Array} */ (w2), /** @type {Float32Array} */ (b2), h2, true);
  dense(h2, /** @type {Float32Array} */ (w3), /** @type {Float32Array} */ (b3), out, false);
}

/**
 * y = x·W + b, then ReLU if asked; inputs that are 0 (most of a step's hits) are skipped.
 *
 * @param {ArrayLike<number>} x
 * @param {Float32Array} w [x.length × y.length]
 * @param {Float32Array} b
 * @param {Float64Array} y
 * @param {boolean} relu
 */
function dense(x, w, b, y, relu) {
  const n = y.length;
  for (let j = 0; j < n; j++) y[j] = b[j] ?? 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] ?? 0;
    if (xi === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) y[j] = (y[j] ?? 0) + xi * (w[row + j] ?? 0);
  }
  if (relu) { for (let j = 0; j < n; j++) if ((y[j] ?? 0) < 0) y[j] = 0; }
}

/**
 * The velocity velocity class `k` plays: the middle of its bucket of 5 (the expressive
 * encoding's), 127 for the last.
 *
 * @param {number} k
 * @returns {number}
 */
export function velocityOfClass(k) {
  const low = k * 5 + 1;
  const high = Math.min(127, low + 4);
  return Math.floor((low + high + 1) / 2);
}

/**
 * The class of a velocity 1–127.
 *
 * @param {number} velocity
 * @returns {number}
 */
export function classOfVelocity(velocity) {
  return Math.floor((velocity - 1) / 5);
}

/**
 * One class chosen from logits[from … from + n): the median of their softmax, or a draw.
 *
 * @param {Float64Array} logits
 * @param {number} from
 * @param {number} n
 * @param {Playing} playing
 * @returns {number}
 */
export function chooseClass(logits, from, n, playing) {
  const t = playing.mode === "sample" ? Math.max(playing.temperature, 1e-6) : 1;
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, (logits[from + k] ?? 0) / t);
  const p = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += p[k] = Math.exp((logits[from + k] ?? 0) / t - max);
  const target = playing.mode === "sample" ? playing.rng() * sum : sum / 2;
  let acc = 0;
  for (let k = 0; k < n; k++) {
    acc += p[k] ?? 0;
    if (acc >= target) return k;
  }
  return n - 1;
}

/**
 * Plays hits: for each hit (its step and drum class), a velocity and an offset. Hits are read as
 * a grid (one per drum per step); their own velocities and offsets are not read.
 *
 * @param {HumanizerModel} model
 * @param {number} steps How many steps the pattern spans.
 * @param {{ step: number; drumClass: number }[]} hits
 * @param {number} style Index in model.layout.styles, or -1.
 * @param {number} bpm
 * @param {Playing} playing
 * @returns {{ step: number; drumClass: number; velocity: number; offset: number }[]} The hits in
 *   their order, played.
 */
export function playHits(model, steps, hits, style, bpm, playing) {
  const { layout } = model;
  const masks = new Uint16Array(steps);
  for (const h of hits) masks[h.step] = (masks[h.step] ?? 0) | (1 << h.drumClass);
  const x = new Float32Array(featureCount(layout));
  const h1 = new Float64Array(layout.hidden);
  const h2 = new Float64Array(layout.hidden);
  const out = new Float64Array(outputCount(layout));
  const per = layout.velocityClasses + layout.offsetClasses;
  let done = -1;
  return hits.map((h) => {
    if (h.step !== done) {
      stepFeatures(layout, masks, h.step, style, bpm, x);
      forward(model, x, h1, h2, out);
      done = h.step;
    }
    const at = h.drumClass * per;
    const v = chooseClass(out, at, layout.velocityClasses, playing);
    const o = chooseClass(out, at + layout.velocityClasses, layout.offsetClasses, playing);
    return {
      step: h.step,
      drumClass: h.drumClass,
      velocity: velocityOfClass(v),
      offset: layout.offsetMin + o,
    };
  });
}
