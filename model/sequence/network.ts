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
import { blasGemm } from "../gemm_product.ts";
import { continueSequences } from "../continuation.js";
import * as lstmStep from "./lstm_step.js";
import { attentionLayers, TransformerStepper } from "./transformer_layers.ts";

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
      const head = new SequenceDense({ units: vocabSize, seed: logitsSeed, name: L.logits });
      // Its [batch·steps × units] · [units × vocab] product on OpenBLAS where the LSTM has it:
      // a sixth of a training step less on the recipe's batches (BENCHMARKS.md).
      head.gemm = blasGemm(lstm);
      const logits = head.apply(dropped) as tf.SymbolicTensor;
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
  /** A model with attention: steps scored per pass of a file's chunk; default 2,048. */
  chunkSteps?: number;
}

/**
 * Most attention scores one pass of a model with attention holds per layer (rows × each row's,
 * transformer_layers.ts's scoresPerSequence): 2^24 floats, 64 MiB.
 */
const ATTENTION_SCORES_PER_PASS = 2 ** 24;

/** Steps [from, end) of a file that one pass reads, of which [start, end) are scored. */
interface Segment {
  file: Int32Array;
  from: number;
  start: number;
  end: number;
}

/** The floor on probabilities before the logarithm, as model/evaluate.ts (Keras's epsilon). */
const EPSILON = 1e-7;

/**
 * Scores `model` on every step of every file, read from its start (inference: dropout off). The
 * LSTM network reads each file whole, its state at zero. A model with attention (the
 * Transformer of transformer.ts) reads a file in chunks of `chunkSteps` scored steps, each pass
 * also reading the steps before its chunk that the chunk's outputs depend on (the sum of the
 * attention layers' windows − 1): the same probabilities as one pass over the whole file, in
 * memory bounded by the chunk, where attention's scores would grow with the square of the file's
 * length. Passes go through in groups of similar length, padded at the end (padding never
 * changes a real step's output, and is not scored).
 */
export async function scoreSequences(
  model: tf.LayersModel,
  sequences: readonly Int32Array[],
  options: ScoreOptions = {},
): Promise<SequenceScore> {
  const layout = sequenceLayout(model, options.stepsPerBar);
  const budget = options.stepsPerPass ?? 65_536;
  const V = layout.vocabSize;
  const attention = attentionLayers(model);
  const context = attention.reduce((n, l) => n + l.window - 1, 0);
  const scores = (steps: number) =>
    Math.max(0, ...attention.map((l) => l.scoresPerSequence(steps)));
  const chunk = options.chunkSteps ?? 2048;
  const segments: Segment[] = [];
  for (const file of sequences) {
    if (attention.length === 0) {
      if (file.length > 0) segments.push({ file, from: 0, start: 0, end: file.length });
      continue;
    }
    for (let start = 0; start < file.length; start += chunk) {
      const end = Math.min(file.length, start + chunk);
      segments.push({ file, from: Math.max(0, start - context), start, end });
    }
  }
  const read = (s: Segment) => s.end - s.from;
  // Stable: segments of one length keep the files' order.
  segments.sort((a, b) => read(a) - read(b));
  let nll = 0, top1 = 0, top5 = 0, steps = 0;
  for (let at = 0; at < segments.length;) {
    // Longest last: a group is as many passes as fit the budgets at the group's longest.
    let end = at + 1;
    while (end < segments.length) {
      const rows = end - at + 1;
      const T = read(segments[end]!);
      if (rows * T > budget || rows * scores(T) > ATTENTION_SCORES_PER_PASS) break;
      end++;
    }
    const group = segments.slice(at, end);
    at = end;
    const batch = batchInputs(
      group.map((s) => sequenceInputs(s.file, s.from, read(s), layout)),
      layout,
    );
    let p: Float32Array;
    try {
      const out = model.predict(batch.inputs, { batchSize: batch.rows }) as tf.Tensor;
      p = await out.data() as Float32Array;
      out.dispose();
    } finally {
      tf.dispose(batch.inputs);
    }
    group.forEach(({ file, from, start, end }, r) => {
      for (let t = start; t < end; t++) {
        const at = r * batch.steps + t - from;
        const row = p.subarray(at * V, (at + 1) * V);
        const target = file[t]!;
        const q = row[target]!;
        nll -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, q)));
        let above = 0;
        for (let k = 0; k < V; k++) if (row[k]! > q) above++;
        if (above < 1) top1++;
        if (above < 5) top5++;
      }
      steps += end - start;
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
 * prefix. A Transformer (transformer.ts) steps through its TransformerStepper instead, which
 * carries each block's keys and values the same way.
 */
export function sampleSequences(
  model: tf.LayersModel,
  primers: readonly Int32Array[],
  steps: number,
  options: SampleOptions,
): Int32Array[] {
  const stepper = attentionLayers(model).length > 0
    ? new TransformerStepper(model, sequenceLayout(model, options.stepsPerBar))
    : new SequenceStepper(model, options.stepsPerBar);
  const rng = seededRandom(options.seed);
  const sampling = { temperature: options.temperature, topK: 0, topP: 1 };
  return stepper.continueSequences(primers, steps, (p) => chooseNext(p, sampling, rng));
}

/** One sequence's LSTM state in a {@link SequenceStepper}. */
export type StepperState = lstmStep.StepState;

/**
 * The model one step at a time, in plain JS from its weights, carrying the LSTM state: what
 * generation needs (each token one step), with the probabilities of a whole-prefix pass up to
 * rounding. The maths is model/sequence/lstm_step.js, which the report page's player runs too;
 * this reads the weights out of a tfjs model for it. Works on any model
 * {@link buildSequenceModel} makes or a checkpoint of one loads, whatever its LSTM layer.
 */
export class SequenceStepper {
  readonly layout: SequenceLayout;
  readonly units: number;
  readonly #stepper: lstmStep.Stepper;

  constructor(model: tf.LayersModel, stepsPerBar?: number) {
    this.layout = sequenceLayout(model, stepsPerBar);
    const L = SEQUENCE_LAYERS;
    const layers: string[] = [L.tokenEmbedding, L.lstm, L.logits];
    if (this.layout.barPosition) layers.push(L.positionEmbedding);
    const weights: lstmStep.StepWeights = Object.fromEntries(layers.map((name) => [
      name,
      model.getLayer(name).getWeights().map((w) => w.dataSync() as Float32Array),
    ]));
    const recurrentActivation = model.getLayer(L.lstm).getConfig()["recurrentActivation"];
    this.#stepper = lstmStep.makeStepper(weights, {
      ...this.layout,
      recurrentActivation: recurrentActivation as lstmStep.StepLayout["recurrentActivation"],
    });
    this.units = this.#stepper.units;
  }

  /** A state at zero: the start of a file. */
  initialState(): StepperState {
    return lstmStep.initialState(this.#stepper);
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
    return lstmStep.step(this.#stepper, state, seq, t, probabilities);
  }

  /**
   * Continues each primer by `steps` tokens, each `choose`n from the probabilities after the
   * whole prefix with `<unk>` at 0 (continuation.js's continueSequences: the primers advance
   * together, one step of all of them at a time).
   */
  continueSequences(
    primers: readonly Int32Array[],
    steps: number,
    choose: (p: Float64Array) => number,
  ): Int32Array[] {
    return continueSequences(lstmStep, this.#stepper, [...primers], steps, choose);
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
