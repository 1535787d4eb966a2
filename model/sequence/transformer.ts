/**
 * A small causal Transformer decoder for the Groove recipe: the alternative to the LSTM of
 * model/sequence/network.ts (`train.network: transformer`), on the same inputs and outputs.
 *
 * At step t of a file (predicting x_t) it reads what the LSTM network reads: the embedding of
 * the previous token and of the tokens one … lookbackBars bars back (one shared table) and the
 * bar-position embedding, made by network.ts's `sequenceInputs` and `batchInputs`. Then
 *
 * features → Dense(width) → dropout → `blocks` × [pre-LayerNorm block: h += dropout(Out(causal
 * multi-head attention(LN(h)))); h += dropout(W₂·relu(W₁·LN(h)))] → LayerNorm → Dense(V)
 * (`logits`) → softmax (`softmax`),
 *
 * with an MLP of 4·width. Positions enter twice, neither through a table of absolute positions:
 * the bar position (an input) and ALiBi's distance penalty in attention (Press et al. 2022), so
 * the step-wise generator (transformer_step.js) keeps each block's keys and values as they were
 * computed and slides them at the window. Attention reaches back `window` steps (itself
 * included): `train.cropLength`, the training crops' length, so in training a crop's steps see
 * all of the crop before them, and nothing is ever computed on a span longer than training saw.
 *
 * Layers are named (transformer_step.js's transformerLayerNames, which its checkpoint's weight
 * names follow) and every initialiser is seeded from `seed`, as network.ts does; the layers
 * tfjs has save as tfjs's own classes, the attention layer as `CausalSelfAttention`
 * (transformer_layers.ts, registered with tfjs, so model/checkpoint.ts loads it).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Gemm } from "../fused/gemm.ts";
import { seedStream } from "../random.ts";
import { SeededDropout } from "../seeded_dropout.ts";
import { SequenceDense } from "../sequence_head.ts";
import { SEQUENCE_LAYERS, SequenceEmbedding, type SequenceModelSettings } from "./network.ts";
import { CausalSelfAttention, SequenceLayerNorm } from "./transformer_layers.ts";
import { transformerLayerNames } from "./transformer_step.js";

/** What shapes the Transformer beside the inputs it shares with the LSTM network. */
export interface TransformerShapeSettings {
  /** Transformer blocks (default 3). */
  blocks: number;
  /** Attention heads per block (default 4); `width` must be a multiple. */
  heads: number;
  /** Model width: the residual stream (default 128); the MLP is 4·width. */
  width: number;
  /** Steps a step attends to, itself included: the training crops' length. */
  window: number;
}

/** Everything {@link buildTransformerModel} reads. */
export type TransformerModelSettings =
  & Omit<SequenceModelSettings, "units" | "inputDropout">
  & TransformerShapeSettings;

/** LayerNorm's epsilon (PyTorch's default). */
const EPSILON = 1e-5;

/**
 * Why these settings cannot make a Transformer, in one sentence naming the config keys, or ""
 * when they can.
 */
export function transformerSettingsError(
  settings: Pick<TransformerShapeSettings, "blocks" | "heads" | "width">,
): string {
  const { blocks, heads, width } = settings;
  for (const [key, value] of [["blocks", blocks], ["heads", heads], ["width", width]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      return `train.${key} must be a positive integer (found ${value})`;
    }
  }
  if (width % heads !== 0) {
    return `train.width ${width} must be a multiple of train.heads ${heads}, so that every head has the same width: change one of them`;
  }
  return "";
}

/**
 * Builds the (uncompiled) model: the inputs of network.ts's buildSequenceModel (`tokens`
 * [batch, T, 1 + lookbackBars] and, with `barPosition`, `bar_position` [batch, T], int32, any
 * T), output [batch, T, vocabSize] probabilities; the layer `logits` gives the values before the
 * softmax (what training uses).
 *
 * @throws {RangeError} for settings {@link transformerSettingsError} refuses, or sizes that are
 * not positive integers.
 */
export function buildTransformerModel(
  settings: TransformerModelSettings,
  options: {
    vocabSize: number;
    stepsPerBar: number;
    /** Runs the products on OpenBLAS (model/gemm_product.ts's blasGemm). */
    gemm?: Gemm | null;
  },
): tf.LayersModel {
  const { vocabSize, stepsPerBar } = options;
  const refused = transformerSettingsError(settings);
  if (refused !== "") throw new RangeError(`Cannot build the transformer: ${refused}`);
  for (
    const [name, value] of [
      ["vocabulary size", vocabSize],
      ["steps per bar", stepsPerBar],
      ["embedding", settings.embedding],
      ["window", settings.window],
    ] as const
  ) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Cannot build the transformer: ${name} must be a positive integer`);
    }
  }
  const next = seedStream(settings.seed);
  const S = SEQUENCE_LAYERS;
  const L = transformerLayerNames(settings.blocks);
  const lookback = 1 + settings.lookbackBars;
  const { width, dropout } = settings;
  const dense = (units: number, name: string, x: tf.SymbolicTensor) => {
    const layer = new SequenceDense({ units, seed: next(), name });
    layer.gemm = options.gemm ?? null;
    return layer.apply(x) as tf.SymbolicTensor;
  };
  const drop = (name: string, x: tf.SymbolicTensor) =>
    new SeededDropout({ rate: dropout, seed: next(), name }).apply(x) as tf.SymbolicTensor;
  const norm = (name: string, x: tf.SymbolicTensor) =>
    new SequenceLayerNorm({ name, epsilon: EPSILON }).apply(x) as tf.SymbolicTensor;
  const add = (name: string, a: tf.SymbolicTensor, b: tf.SymbolicTensor) =>
    tf.layers.add({ name }).apply([a, b]) as tf.SymbolicTensor;
  let model: tf.LayersModel | undefined;
  // Weights are variables and survive the tidy; what it frees are initialisers' intermediates.
  tf.tidy(() => {
    const tokens = tf.input({ shape: [null, lookback], dtype: "int32", name: S.tokens });
    const inputs = [tokens];
    const embedded = new SequenceEmbedding({
      name: L.tokenEmbedding,
      inputDim: vocabSize + 1,
      outputDim: settings.embedding,
      seed: next(),
    }).apply(tokens) as tf.SymbolicTensor;
    let features = tf.layers.reshape({
      name: S.tokenFeatures,
      targetShape: [-1, lookback * settings.embedding],
    }).apply(embedded) as tf.SymbolicTensor;
    const positionSeed = next();
    if (settings.barPosition) {
      const position = tf.input({ shape: [null], dtype: "int32", name: S.barPosition });
      inputs.push(position);
      const p = new SequenceEmbedding({
        name: L.positionEmbedding,
        inputDim: stepsPerBar,
        outputDim: settings.positionEmbedding,
        seed: positionSeed,
      }).apply(position) as tf.SymbolicTensor;
      features = tf.layers.concatenate({ name: S.features, axis: -1 }).apply([
        features,
        p,
      ]) as tf.SymbolicTensor;
    }
    let h = drop(L.inputDropout, dense(width, L.inputProjection, features));
    for (const block of L.blocks) {
      const qkv = dense(3 * width, block.qkv, norm(block.norm1, h));
      const attention = new CausalSelfAttention({
        name: block.attention,
        heads: settings.heads,
        window: settings.window,
      });
      attention.gemm = options.gemm ?? null;
      const heard = attention.apply(qkv) as tf.SymbolicTensor;
      const attended = dense(width, block.attentionOutput, heard);
      h = add(block.attentionResidual, h, drop(block.attentionDropout, attended));
      const hidden = tf.layers.activation({ activation: "relu", name: block.mlpActivation })
        .apply(dense(4 * width, block.mlpHidden, norm(block.norm2, h))) as tf.SymbolicTensor;
      h = add(block.mlpResidual, h, drop(block.mlpDropout, dense(width, block.mlpOutput, hidden)));
    }
    const logits = dense(vocabSize, L.logits, norm(L.finalNorm, h));
    const probabilities = tf.layers.activation({ activation: "softmax", name: S.softmax })
      .apply(logits) as tf.SymbolicTensor;
    model = tf.model({ name: "groove_transformer", inputs, outputs: probabilities });
  });
  return model!;
}
