/**
 * The network of the Groove recipe: a token-per-step sequence model on the drum grid with
 * Magenta drums_rnn's lookback encoding and learnt embeddings.
 *
 * At step t of a file (predicting x_t) the LSTM sees the concatenation of
 *
 * - E(x_{t−1}), the learnt embedding of the previous token (x_{−1} is the begin-of-file id V);
 * - E(x_{t−b·stepsPerBar}) for each lookback bar b = 1 … `lookbackBars` (the same table E; the
 *   begin-of-file id where the index is negative);
 * - P(t mod stepsPerBar), a learnt bar-position embedding, when `barPosition` is on;
 *
 * then one LSTM of `units` → dropout → Dense(V) → softmax, giving [batch, T, V]. E has V + 1 rows
 * (the V classes, `<unk>` being the last, and the input-only begin-of-file id).
 *
 * The model takes two int32 inputs: `tokens` [batch, T, 1 + lookbackBars] (column 0 the previous
 * token, column b the token b bars back) and, with `barPosition`, `bar_position` [batch, T]
 * ({@link sequenceInputs} makes both for a crop of a file; the lookback reads the whole file).
 *
 * Every layer is named and every initialiser seeded, so the checkpoint's bytes depend only on the
 * settings (model/build_model.ts explains why). The custom layers save themselves as tfjs's own
 * classes (`Embedding`, `Dense`, `Dropout`, and `LSTM` for the fused layer), so a checkpoint
 * (model/checkpoint.ts) loads with plain `tf.loadLayersModel`; `loadCheckpoint(files, { lstm })`
 * with a fused implementation brings the fused LSTM back.
 *
 * @module
 */
import { withoutOrthogonalWarning } from "../build_model.ts";
import * as tf from "@tensorflow/tfjs";
import { FusedLstm } from "../fused/fused_lstm.ts";
import type { LstmImplementation } from "../lstm_implementation.ts";
import { seededRandom, seedStream } from "../random.ts";
import { chooseNext } from "../sampling.ts";
import { SeededDropout } from "../seeded_dropout.ts";
import { SequenceDense } from "../sequence_head.ts";

/** What shapes the network. */
export interface SequenceModelSettings {
  /** Size of the token embedding E (default 64). */
  embedding: number;
  /** Adds the bar-position embedding P(t mod stepsPerBar) of size {@link positionEmbedding}. */
  barPosition: boolean;
  /** Size of the bar-position embedding (default 16). */
  positionEmbedding: number;
  /** Bars looked back (default 2): E(x_{t−b·stepsPerBar}) for b = 1 … lookbackBars. */
  lookbackBars: number;
  /** LSTM units (default 128). */
  units: number;
  /** Dropout between the LSTM and the softmax layer (default 0.3). */
  dropout: number;
  /**
   * Dropout on the LSTM's input features (the concatenated embeddings); 0 or absent (the
   * default) leaves the layer out.
   */
  inputDropout?: number;
  /** Seed of the initial weights and of the dropout masks. */
  seed: number;
}

/** The defaults of the recipe. */
export const DEFAULT_SEQUENCE_MODEL: Readonly<SequenceModelSettings> = Object.freeze({
  embedding: 64,
  barPosition: true,
  positionEmbedding: 16,
  lookbackBars: 2,
  units: 128,
  dropout: 0.3,
  seed: 1,
});

/** What {@link buildSequenceModel} needs besides the settings. */
export interface SequenceModelOptions {
  /** Classes of the softmax, `<unk>` (the last id) included. */
  vocabSize: number;
  /** Grid steps per bar (16 on the drum grid at sixteenths in 4/4). */
  stepsPerBar: number;
  /** What computes the LSTM (model/lstm_implementation.ts). */
  lstm: LstmImplementation;
}

/** How a model's inputs are laid out: what {@link sequenceInputs} needs. */
export interface SequenceLayout {
  /** Classes of the softmax; the begin-of-file input id is `vocabSize`. */
  vocabSize: number;
  stepsPerBar: number;
  lookbackBars: number;
  /** Whether the model has the `bar_position` input. */
  barPosition: boolean;
}

/** Layer and input names (fixed: they are the checkpoint's weight names). */
export const SEQUENCE_LAYERS = Object.freeze({
  tokens: "tokens",
  barPosition: "bar_position",
  tokenEmbedding: "token_embedding",
  tokenFeatures: "token_features",
  positionEmbedding: "position_embedding",
  features: "features",
  inputDropout: "input_dropout",
  lstm: "lstm",
  dropout: "dropout",
  logits: "logits",
  softmax: "softmax",
});

/**
 * Builds the (uncompiled) model: inputs `tokens` [batch, T, 1 + lookbackBars] and, with
 * `barPosition`, `bar_position` [batch, T], both int32, any T; output [batch, T, vocabSize]
 * probabilities. The layer named `logits` gives the pre-softmax values (what training uses).
 */
export function buildSequenceModel(
  settings: SequenceModelSettings,
  options: SequenceModelOptions,
): tf.LayersModel {
  const { vocabSize, stepsPerBar, lstm } = options;
  for (
    const [name, value] of [
      ["vocabulary size", vocabSize],
      ["steps per bar", stepsPerBar],
      ["embedding", settings.embedding],
      ["units", settings.units],
    ] as const
  ) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Cannot build sequence model: ${name} must be a positive integer`);
    }
  }
  if (!Number.isInteger(settings.lookbackBars) || settings.lookbackBars < 0) {
    throw new RangeError("Cannot build sequence model: lookbackBars must be an integer ≥ 0");
  }
  const next = seedStream(settings.seed);
  const L = SEQUENCE_LAYERS;
  const width = 1 + settings.lookbackBars;
  let model: tf.LayersModel | undefined;
  // Weights are variables and survive the tidy; what it frees are initialisers' intermediates.
  withoutOrthogonalWarning(() =>
    tf.tidy(() => {
      const tokens = tf.input({ shape: [null, width], dtype: "int32", name: L.tokens });
      const inputs = [tokens];
      const tokenEmbedding = new SequenceEmbedding({
        name: L.tokenEmbedding,
        inputDim: vocabSize + 1,
        outputDim: settings.embedding,
        seed: next(),
      });
      const embedded = tokenEmbedding.apply(tokens) as tf.SymbolicTensor;
      let features = tf.layers.reshape({
        name: L.tokenFeatures,
        targetShape: [-1, width * settings.embedding],
      }).apply(embedded) as tf.SymbolicTensor;
      const positionSeed = next();
      if (settings.barPosition) {
        const position = tf.input({ shape: [null], dtype: "int32", name: L.barPosition });
        inputs.push(position);
        const positionEmbedding = new SequenceEmbedding({
          name: L.positionEmbedding,
          inputDim: stepsPerBar,
          outputDim: settings.positionEmbedding,
          seed: positionSeed,
        });
        const p = positionEmbedding.apply(position) as tf.SymbolicTensor;
        features = tf.layers.concatenate({ name: L.features, axis: -1 }).apply([
          features,
          p,
        ]) as tf.SymbolicTensor;
      }
      const lstmSeed = next();
      const dropoutSeed = next();
      const logitsSeed = next();
      // Drawn last, so that the other layers' seeds do not depend on it.
      const inputDropoutSeed = next();
      if ((settings.inputDropout ?? 0) > 0) {
        features = new SeededDropout({
          rate: settings.inputDropout!,
          seed: inputDropoutSeed,
          name: L.inputDropout,
        }).apply(features) as tf.SymbolicTensor;
      }
      const recurrent = lstmLayer(lstm, settings.units, lstmSeed, L.lstm);
      const h = recurrent.apply(features) as tf.SymbolicTensor;
      const dropped = new SeededDropout({
        rate: settings.dropout,
        seed: dropoutSeed,
        name: L.dropout,
      })
        .apply(h) as tf.SymbolicTensor;
      const logits = new SequenceDense({ units: vocabSize, seed: logitsSeed, name: L.logits })
        .apply(dropped) as tf.SymbolicTensor;
      const probabilities = tf.layers.activation({ activation: "softmax", name: L.softmax })
        .apply(logits) as tf.SymbolicTensor;
      model = tf.model({ name: "groove_sequence", inputs, outputs: probabilities });
    })
  );
  return model!;
}

/**
 * The LSTM, returning its sequence, with Keras's sigmoid gates and forget bias of one, glorot
 * and orthogonal initialisers from `seed` (as model/build_model.ts builds it).
 */
function lstmLayer(
  lstm: LstmImplementation,
  units: number,
  seed: number,
  name: string,
): tf.layers.Layer {
  if (lstm.kind === "fused") {
    return new FusedLstm({
      units,
      name,
      seed,
      returnSequences: true,
      implementation: lstm,
      recurrentActivation: "sigmoid",
      unitForgetBias: true,
    });
  }
  return tf.layers.lstm({
    units,
    name,
    returnSequences: true,
    recurrentActivation: "sigmoid",
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 1 }),
  });
}

/**
 * The same model's logits (the `logits` layer's output, before the softmax), sharing its
 * weights: what training differentiates (log-softmax of logits is exact where log of a float32
 * softmax is not).
 */
export function logitsModel(model: tf.LayersModel): tf.LayersModel {
  const logits = model.getLayer(SEQUENCE_LAYERS.logits).output as tf.SymbolicTensor;
  return tf.model({ name: `${model.name}_logits`, inputs: model.inputs, outputs: logits });
}

/**
 * A model's input layout, read from its layers (a built or a loaded model). `stepsPerBar` is
 * read from the bar-position embedding; a model without one needs it given.
 *
 * @throws {RangeError} when the model is not one {@link buildSequenceModel} makes, or
 * stepsPerBar is neither in the model nor given.
 */
export function sequenceLayout(model: tf.LayersModel, stepsPerBar?: number): SequenceLayout {
  const tokens = model.inputs.find((t) => t.name.startsWith(SEQUENCE_LAYERS.tokens));
  const width = tokens?.shape[2];
  const outputShape = model.outputs[0]?.shape;
  const vocabSize = outputShape?.[outputShape.length - 1];
  if (model.inputs.length < 1 || typeof width !== "number" || typeof vocabSize !== "number") {
    throw new RangeError(`Cannot read the input layout of model ${model.name}`);
  }
  const barPosition = model.inputs.length > 1;
  let steps = stepsPerBar;
  if (barPosition) {
    const config = model.getLayer(SEQUENCE_LAYERS.positionEmbedding).getConfig();
    const inModel = config["inputDim"] as number;
    if (steps !== undefined && steps !== inModel) {
      throw new RangeError(
        `Cannot use stepsPerBar ${steps}: the model's bar positions count ${inModel}`,
      );
    }
    steps = inModel;
  }
  if (steps === undefined) {
    throw new RangeError("Cannot read stepsPerBar from a model without bar positions: give it");
  }
  return { vocabSize, stepsPerBar: steps, lookbackBars: width - 1, barPosition };
}

/** One crop's model inputs, row-major. */
export interface SequenceInputs {
  /** [length × (1 + lookbackBars)]: previous token, then the token 1, 2, … bars back. */
  tokens: Int32Array;
  /** [length]: t mod stepsPerBar (all zeros when the layout has no bar position). */
  positions: Int32Array;
  length: number;
  /** 1 + lookbackBars. */
  width: number;
}

/**
 * The inputs for steps [start, start + length) of the file `seq` (length clipped to the file).
 * Step t names x_{t−1} and x_{t−b·stepsPerBar}, read from the whole file, and the begin-of-file
 * id (`vocabSize`) where the index is negative; its position is t mod stepsPerBar, t counted
 * from the file's start.
 */
export function sequenceInputs(
  seq: Int32Array,
  start: number,
  length: number,
  layout: Pick<SequenceLayout, "vocabSize" | "stepsPerBar" | "lookbackBars">,
): SequenceInputs {
  const n = Math.max(0, Math.min(length, seq.length - start));
  const width = 1 + layout.lookbackBars;
  const bos = layout.vocabSize;
  const tokens = new Int32Array(n * width);
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = start + i;
    const row = i * width;
    tokens[row] = t >= 1 ? seq[t - 1]! : bos;
    for (let b = 1; b < width; b++) {
      const back = t - b * layout.stepsPerBar;
      tokens[row + b] = back >= 0 ? seq[back]! : bos;
    }
    positions[i] = t % layout.stepsPerBar;
  }
  return { tokens, positions, length: n, width };
}

/** A batch of crops, padded at the end to one length, as the model's input tensors. */
export interface SequenceBatch {
  inputs: tf.Tensor[];
  /** [rows, T]: 1 at real steps, 0 at padding. */
  mask: Float32Array;
  rows: number;
  /** The padded length. */
  steps: number;
}

/**
 * Packs crops into the model's inputs ([rows, T, width] tokens, [rows, T] positions when
 * `barPosition`), padded at the end to the longest (padding: begin-of-file ids, position 0;
 * an LSTM reads forwards, so padding never changes the real steps' outputs).
 */
export function batchInputs(crops: SequenceInputs[], layout: SequenceLayout): SequenceBatch {
  const rows = crops.length;
  const steps = crops.reduce((m, c) => Math.max(m, c.length), 0);
  const width = 1 + layout.lookbackBars;
  const tokens = new Int32Array(rows * steps * width).fill(layout.vocabSize);
  const positions = new Int32Array(rows * steps);
  const mask = new Float32Array(rows * steps);
  crops.forEach((c, r) => {
    tokens.set(c.tokens, r * steps * width);
    positions.set(c.positions, r * steps);
    mask.fill(1, r * steps, r * steps + c.length);
  });
  const inputs: tf.Tensor[] = [tf.tensor3d(tokens, [rows, steps, width], "int32")];
  if (layout.barPosition) inputs.push(tf.tensor2d(positions, [rows, steps], "int32"));
  return { inputs, mask, rows, steps };
}

/** How a model does on whole files: every step of every file. */
export interface SequenceScore {
  /** Mean negative log-likelihood per step, natural log (probabilities floored at 1e-7). */
  loss: number;
  /** Share of steps whose token is the most probable. */
  top1: number;
  /** Share of steps whose token is among the five most probable. */
  top5: number;
  /** exp(loss). */
  perplexity: number;
  /** Steps scored: the files' total length. */
  steps: number;
}

/** Options of {@link scoreSequences}. */
export interface ScoreOptions {
  /** Needed only for a model without bar positions (see {@link sequenceLayout}). */
  stepsPerBar?: number;
  /** Most padded steps (files × longest) per forward pass; default 65,536. */
  stepsPerPass?: number;
}

/** The floor on probabilities before the logarithm, as model/evaluate.ts (Keras's epsilon). */
const EPSILON = 1e-7;

/**
 * Scores `model` on every step of every file, each read whole from its start with the LSTM state
 * at zero (inference: dropout off). Files go through in groups of similar length, padded at the
 * end (padding never changes a real step's output, and is not scored).
 */
export async function scoreSequences(
  model: tf.LayersModel,
  sequences: readonly Int32Array[],
  options: ScoreOptions = {},
): Promise<SequenceScore> {
  const layout = sequenceLayout(model, options.stepsPerBar);
  const budget = options.stepsPerPass ?? 65_536;
  const V = layout.vocabSize;
  const order = sequences.map((_, i) => i).filter((i) => sequences[i]!.length > 0)
    .sort((a, b) => sequences[a]!.length - sequences[b]!.length || a - b);
  let nll = 0, top1 = 0, top5 = 0, steps = 0;
  for (let at = 0; at < order.length;) {
    // Longest last: a group is as many files as fit the budget at the group's longest.
    let end = at + 1;
    while (
      end < order.length && (end - at + 1) * sequences[order[end]!]!.length <= budget
    ) end++;
    const files = order.slice(at, end).map((i) => sequences[i]!);
    at = end;
    const batch = batchInputs(files.map((f) => sequenceInputs(f, 0, f.length, layout)), layout);
    let p: Float32Array;
    try {
      const out = model.predict(batch.inputs, { batchSize: batch.rows }) as tf.Tensor;
      p = await out.data() as Float32Array;
      out.dispose();
    } finally {
      tf.dispose(batch.inputs);
    }
    files.forEach((file, r) => {
      for (let t = 0; t < file.length; t++) {
        const row = p.subarray((r * batch.steps + t) * V, (r * batch.steps + t + 1) * V);
        const target = file[t]!;
        const q = row[target]!;
        nll -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, q)));
        let above = 0;
        for (let k = 0; k < V; k++) if (row[k]! > q) above++;
        if (above < 1) top1++;
        if (above < 5) top5++;
      }
      steps += file.length;
    });
  }
  const loss = steps > 0 ? nll / steps : NaN;
  return {
    loss,
    top1: steps > 0 ? top1 / steps : NaN,
    top5: steps > 0 ? top5 / steps : NaN,
    perplexity: Math.exp(loss),
    steps,
  };
}

/** Options of {@link sampleSequences}. */
export interface SampleOptions {
  /** 0: the most probable token; above 0: draw from p^(1/temperature). */
  temperature: number;
  /** Seed of the one stream all draws come from (step after step, primer after primer). */
  seed: number;
  /** Needed only for a model without bar positions (see {@link sequenceLayout}). */
  stepsPerBar?: number;
}

/**
 * Continues each primer (ids, possibly empty) by `steps` tokens; returns the continuations
 * (without the primers). Each token is drawn from the model's probabilities after the whole
 * prefix, read from the file's start with the LSTM state at zero (as scoring reads a file), with
 * `<unk>` (the last class) removed and the rest renormalised, so it is never emitted. The primers
 * advance together, one step of all of them at a time, through a {@link SequenceStepper}: the
 * LSTM state is carried from step to step, so each token costs one step, not a pass over the
 * prefix.
 */
export function sampleSequences(
  model: tf.LayersModel,
  primers: readonly Int32Array[],
  steps: number,
  options: SampleOptions,
): Int32Array[] {
  const stepper = new SequenceStepper(model, options.stepsPerBar);
  const V = stepper.layout.vocabSize;
  const unk = V - 1;
  const rng = seededRandom(options.seed);
  const sampling = { temperature: options.temperature, topK: 0, topP: 1 };
  const rows = primers.map((p) => {
    const seq = new Int32Array(p.length + steps);
    seq.set(p);
    return seq;
  });
  const states = rows.map(() => stepper.initialState());
  // Read each primer: the steps before its last position need no probabilities.
  rows.forEach((seq, r) => {
    for (let t = 0; t < primers[r]!.length; t++) stepper.step(states[r]!, seq, t, false);
  });
  for (let k = 0; k < steps; k++) {
    rows.forEach((seq, r) => {
      const t = primers[r]!.length + k;
      const p = stepper.step(states[r]!, seq, t, true)!;
      if (V > 1) p[unk] = 0;
      seq[t] = chooseNext(p, sampling, rng);
    });
  }
  return rows.map((seq, r) => seq.slice(primers[r]!.length));
}

/** One sequence's LSTM state in a {@link SequenceStepper}. */
export interface StepperState {
  h: Float64Array;
  c: Float64Array;
}

/**
 * The model one step at a time, in plain JS from its weights, carrying the LSTM state: what
 * generation needs (each token one step), with the probabilities of a whole-prefix pass up to
 * rounding. The input projection of each token is precomputed per vocabulary entry (E·W for each
 * input slot), so a step is a sum of rows, one [units × 4·units] product and the softmax layer.
 * Works on any model {@link buildSequenceModel} makes or a checkpoint of one loads, whatever its
 * LSTM layer.
 */
export class SequenceStepper {
  readonly layout: SequenceLayout;
  readonly units: number;
  readonly #hard: boolean;
  /** Per token input slot: [vocab + 1, 4·units], E·W_slot; then per bar position, P·W_pos. */
  readonly #slots: Float64Array[];
  readonly #positions: Float64Array | null;
  readonly #recurrent: Float32Array;
  readonly #bias: Float32Array;
  readonly #head: Float32Array;
  readonly #headBias: Float32Array;

  constructor(model: tf.LayersModel, stepsPerBar?: number) {
    this.layout = sequenceLayout(model, stepsPerBar);
    const L = SEQUENCE_LAYERS;
    const values = (name: string) =>
      model.getLayer(name).getWeights().map((w) => w.dataSync() as Float32Array);
    const [table] = values(L.tokenEmbedding);
    const lstm = model.getLayer(L.lstm);
    const config = lstm.getConfig();
    const gate = config["recurrentActivation"];
    if (gate !== "sigmoid" && gate !== "hardSigmoid") {
      throw new RangeError(`Cannot step an LSTM with recurrent activation ${gate}`);
    }
    this.#hard = gate === "hardSigmoid";
    const [kernel, recurrent, bias] = values(L.lstm);
    const [head, headBias] = values(L.logits);
    const U = config["units"] as number;
    this.units = U;
    const G = 4 * U;
    const E = table!.length / (this.layout.vocabSize + 1);
    const width = 1 + this.layout.lookbackBars;
    const project = (rows: Float32Array, dim: number, offset: number): Float64Array => {
      const count = rows.length / dim;
      const out = new Float64Array(count * G);
      for (let v = 0; v < count; v++) {
        for (let d = 0; d < dim; d++) {
          const x = rows[v * dim + d]!;
          const w = (offset + d) * G;
          for (let j = 0; j < G; j++) out[v * G + j]! += x * kernel![w + j]!;
        }
      }
      return out;
    };
    this.#slots = Array.from({ length: width }, (_, k) => project(table!, E, k * E));
    if (this.layout.barPosition) {
      const [positions] = values(L.positionEmbedding);
      const P = positions!.length / this.layout.stepsPerBar;
      this.#positions = project(positions!, P, width * E);
    } else this.#positions = null;
    this.#recurrent = recurrent!;
    this.#bias = bias!;
    this.#head = head!;
    this.#headBias = headBias!;
  }

  /** A state at zero: the start of a file. */
  initialState(): StepperState {
    return { h: new Float64Array(this.units), c: new Float64Array(this.units) };
  }

  /**
   * Step t of `seq` (its inputs read x_{<t} only): advances `state` and, when `probabilities`,
   * returns p(x_t | x_{<t}) over the vocabulary (a fresh array), else null.
   */
  step(
    state: StepperState,
    seq: Int32Array,
    t: number,
    probabilities: boolean,
  ): Float64Array | null {
    const U = this.units;
    const G = 4 * U;
    const { vocabSize, stepsPerBar } = this.layout;
    const z = new Float64Array(G);
    for (let j = 0; j < G; j++) z[j] = this.#bias[j]!;
    this.#slots.forEach((slot, k) => {
      const back = k === 0 ? t - 1 : t - k * stepsPerBar;
      const id = back >= 0 ? seq[back]! : vocabSize;
      const row = id * G;
      for (let j = 0; j < G; j++) z[j]! += slot[row + j]!;
    });
    if (this.#positions) {
      const row = (t % stepsPerBar) * G;
      for (let j = 0; j < G; j++) z[j]! += this.#positions[row + j]!;
    }
    const { h, c } = state;
    const R = this.#recurrent;
    for (let i = 0; i < U; i++) {
      const hi = h[i]!;
      if (hi === 0) continue;
      const row = i * G;
      for (let j = 0; j < G; j++) z[j]! += hi * R[row + j]!;
    }
    const gate = this.#hard
      ? (x: number) => Math.min(1, Math.max(0, 0.2 * x + 0.5))
      : (x: number) => 1 / (1 + Math.exp(-x));
    for (let j = 0; j < U; j++) {
      const i = gate(z[j]!);
      const f = gate(z[U + j]!);
      const g = Math.tanh(z[2 * U + j]!);
      const o = gate(z[3 * U + j]!);
      c[j] = f * c[j]! + i * g;
      h[j] = o * Math.tanh(c[j]!);
    }
    if (!probabilities) return null;
    const V = vocabSize;
    const logits = new Float64Array(V);
    for (let v = 0; v < V; v++) logits[v] = this.#headBias[v]!;
    for (let i = 0; i < U; i++) {
      const hi = h[i]!;
      const row = i * V;
      for (let v = 0; v < V; v++) logits[v]! += hi * this.#head[row + v]!;
    }
    let max = -Infinity;
    for (const x of logits) max = Math.max(max, x);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += logits[v] = Math.exp(logits[v]! - max);
    for (let v = 0; v < V; v++) logits[v]! /= sum;
    return logits;
  }
}

/** Arguments of {@link SequenceEmbedding}. */
export interface SequenceEmbeddingArgs {
  name: string;
  inputDim: number;
  outputDim: number;
  /** Seed of the N(0, 1) initialiser (PyTorch's nn.Embedding's). */
  seed: number;
}

/**
 * An Embedding layer whose gradient runs on every backend: tfjs differentiates a gather into
 * UnsortedSegmentSum, which the WebAssembly backend lacks; here the rows are summed in JS (a few
 * thousand ids of 64 values a batch). Forward it is tfjs's Embedding (a gather, output
 * [...input, outputDim]), and it saves itself as `Embedding` with the config tf.layers.embedding
 * writes, so a checkpoint loads without this class (inference only needs the gather).
 */
export class SequenceEmbedding extends tf.layers.Layer {
  /** The class name written into model.json: plain `Embedding`, on purpose. */
  static className = "Embedding";
  readonly inputDim: number;
  readonly outputDim: number;
  readonly seed: number;
  private embeddings: tf.LayerVariable | null = null;

  constructor(args: SequenceEmbeddingArgs) {
    super({ name: args.name });
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.seed = args.seed;
  }

  #initializer() {
    return tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: this.seed });
  }

  override build(): void {
    this.embeddings = this.addWeight(
      "embeddings",
      [this.inputDim, this.outputDim],
      "float32",
      this.#initializer(),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape, this.outputDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const ids = (x.dtype === "int32" ? x : tf.cast(x, "int32")).dataSync() as Int32Array;
    for (const id of ids) {
      if (!(id >= 0 && id < this.inputDim)) {
        throw new RangeError(
          `Cannot embed id ${id} in layer ${this.name}: ids run from 0 to ${this.inputDim - 1}`,
        );
      }
    }
    const { inputDim, outputDim } = this;
    const outShape = [...x.shape, outputDim];
    const op = tf.customGrad((...args: unknown[]) => {
      const table = args[0] as tf.Tensor2D;
      // The rows copied in JS: tfjs's gather on the WebAssembly backend is tens of times slower.
      const rows = table.dataSync() as Float32Array;
      const out = new Float32Array(ids.length * outputDim);
      for (let i = 0; i < ids.length; i++) {
        out.set(rows.subarray(ids[i]! * outputDim, (ids[i]! + 1) * outputDim), i * outputDim);
      }
      return {
        value: tf.tensor(out, outShape),
        gradFunc: (dy: tf.Tensor) => {
          const g = dy.dataSync() as Float32Array;
          const sum = new Float32Array(inputDim * outputDim);
          for (let i = 0; i < ids.length; i++) {
            const to = ids[i]! * outputDim;
            const from = i * outputDim;
            for (let j = 0; j < outputDim; j++) sum[to + j]! += g[from + j]!;
          }
          return [tf.tensor2d(sum, [inputDim, outputDim])];
        },
      };
    });
    return op(this.embeddings!.read()) as tf.Tensor;
  }

  /** The config tf.layers.embedding writes for the same layer, key for key. */
  override getConfig(): tf.serialization.ConfigDict {
    return tf.layers.embedding({
      name: this.name,
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: this.#initializer(),
    }).getConfig();
  }
}
