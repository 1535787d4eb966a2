// @ts-check
/**
 * The continuation loop of generation, whatever network steps it: each primer read, then one
 * token of every primer at a time, chosen from the step's probabilities. One home for it, so
 * the pipeline (network.ts's SequenceStepper, transformer_layers.ts's TransformerStepper) and
 * the report page's player draw in the same order from the same stream.
 *
 * A network's step module (lstm_step.js, transformer_step.js) is handed in as the `kernel`: this
 * file imports none, and the page runs it as a classic script (report/player.ts copies it). Keep
 * it that way, for the same reason as model/random.js: no imports, every export a `function`
 * declaration.
 *
 * @module
 */

/**
 * What the loop needs of a step module: lstm_step.js and transformer_step.js both offer it
 * (their `initialState` and `step`, of their own stepper `S` and state `T`).
 *
 * @template S, T
 * @typedef {object} StepKernel
 * @property {(stepper: S) => T} initialState A state at the start of a file.
 * @property {(stepper: S, state: T, seq: ArrayLike<number>, t: number, probabilities: boolean)
 *   => Float64Array | null} step Step t of `seq`: advances `state` and, when `probabilities`,
 *   returns p(x_t | x_{<t}) (a fresh array the loop may change), else null.
 */

/**
 * Continues each primer (ids, possibly empty) by `steps` tokens; returns the continuations
 * (without the primers). Each token is `choose`n from the probabilities after the whole prefix,
 * read from the file's start in a fresh state, with `<unk>` (the last class) set to 0 so it is
 * never emitted. The primers advance together, one step of all of them at a time: with a seeded
 * `choose`, the draws are taken primer after primer within a step, step after step, so the same
 * primers, steps and stream give the same pieces wherever this runs.
 *
 * @template S, T
 * @param {StepKernel<S, T>} kernel The network's step functions.
 * @param {S & {layout: {vocabSize: number}}} stepper Its model ready to step.
 * @param {ArrayLike<number>[]} primers
 * @param {number} steps
 * @param {(p: Float64Array) => number} choose The next token's id from its probabilities.
 * @returns {Int32Array[]}
 */
export function continueSequences(kernel, stepper, primers, steps, choose) {
  const V = stepper.layout.vocabSize;
  const rows = primers.map((p) => {
    const seq = new Int32Array(p.length + steps);
    seq.set(p);
    return seq;
  });
  const states = rows.map(() => kernel.initialState(stepper));
  // Read each primer: the steps before its last position need no probabilities.
  rows.forEach((seq, r) => {
    const state = /** @type {T} */ (states[r]);
    for (let t = 0; t < seq.length - steps; t++) kernel.step(stepper, state, seq, t, false);
  });
  for (let k = 0; k < steps; k++) {
    rows.forEach((seq, r) => {
      const t = seq.length - steps + k;
      const state = /** @type {T} */ (states[r]);
      const p = /** @type {Float64Array} */ (kernel.step(stepper, state, seq, t, true));
      if (V > 1) p[V - 1] = 0;
      seq[t] = choose(p);
    });
  }
  return rows.map((seq) => seq.slice(seq.length - steps));
}
