/**
 * What the report page's player of a stepped network is made from, read from the store's bytes
 * with no TensorFlow.js: the checkpoint's weights by layer name with the shape its step module
 * takes (model/sequence/lstm_step.js for `train.network: sequence`, transformer_step.js for
 * `transformer`), and the primers generate continued as ids.
 *
 * @module
 */
import type { StepLayout, StepWeights } from "../model/sequence/lstm_step.js";
import {
  makeStepper,
  transformerLayerNames,
  type TransformerShape,
} from "../model/sequence/transformer_step.js";
import type { PiecePrimer } from "../formats/tokens.ts";

/** The layer names lstm_step.js reads (model/sequence/network.ts's SEQUENCE_LAYERS). */
const LAYERS = ["token_embedding", "position_embedding", "lstm", "logits"];

/** A topology layer of a checkpoint's model.json, as far as the player reads it. */
interface TopologyLayer {
  class_name?: string;
  name?: string;
  config?: Record<string, unknown>;
}

/** A checkpoint's model.json, as far as the player reads it. */
interface ModelJson {
  modelTopology?: { config?: { layers?: TopologyLayer[] } };
  weightsManifest?: { weights?: { name?: unknown; shape?: unknown; dtype?: unknown }[] }[];
}

/** A checkpoint read: its layers, and its weights by layer name and their shapes by weight. */
interface ReadCheckpoint {
  layers: TopologyLayer[];
  weights: StepWeights;
  shapes: Record<string, number[]>;
}

/**
 * model.json's topology layers and weights.bin's float32 arrays, each layer's in the manifest's
 * order (the layer's own), or why they cannot be read (`cannot` words the reason).
 */
function readCheckpoint(
  modelJson: Uint8Array,
  weightsBin: Uint8Array,
  cannot: (why: string) => { reason: string },
): ReadCheckpoint | { reason: string } {
  let json: ModelJson;
  try {
    json = JSON.parse(new TextDecoder().decode(modelJson));
  } catch (e) {
    return cannot(`model.json is not JSON: ${(e as Error).message}`);
  }
  const specs = (json.weightsManifest ?? []).flatMap((group) => group.weights ?? []);
  const weights: StepWeights = {};
  const shapes: Record<string, number[]> = {};
  let offset = 0;
  for (const spec of specs) {
    const shape = spec.shape;
    if (
      typeof spec.name !== "string" || spec.dtype !== "float32" || !Array.isArray(shape) ||
      !shape.every((n) => Number.isInteger(n) && n >= 0)
    ) {
      return cannot(`weight ${JSON.stringify(spec.name)} is not a float32 array`);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (offset + 4 * count > weightsBin.length) {
      return cannot(`weights.bin ends before weight ${spec.name}`);
    }
    // Copied, so the array is aligned whatever the offset; weights.bin is little-endian, as
    // tfjs writes it on every platform it runs on.
    const values = new Float32Array(weightsBin.slice(offset, offset + 4 * count).buffer);
    offset += 4 * count;
    const layer = spec.name.slice(0, spec.name.indexOf("/"));
    (weights[layer] ??= []).push(values);
    shapes[spec.name] = shape as number[];
  }
  return { layers: json.modelTopology?.config?.layers ?? [], weights, shapes };
}

/**
 * The sequence network's checkpoint: its weights by layer name and its input layout, read from
 * the weight shapes: `token_embedding` is [vocabSize + 1, E], `position_embedding`
 * [stepsPerBar, P] (present with a bar position), `lstm/kernel` [(1 + lookbackBars)·E + P,
 * 4·units], `logits/bias` [vocabSize]. The gates are the LSTM layer's `recurrent_activation` in
 * the topology. `stepsPerBar` is the run's (the lookback needs it even without a bar position),
 * and must be the bar position's where there is one.
 */
export function stepCheckpoint(
  modelJson: Uint8Array,
  weightsBin: Uint8Array,
  stepsPerBar: number,
): { kind: "sequence"; layout: StepLayout; weights: StepWeights } | { reason: string } {
  const cannot = (why: string) => ({
    reason: `No model to play with: the checkpoint is not one of the sequence network (${why}).`,
  });
  const read = readCheckpoint(modelJson, weightsBin, cannot);
  if ("reason" in read) return read;
  const { weights, shapes } = read;
  const missing = LAYERS.filter((l) => l !== "position_embedding" && weights[l] === undefined);
  if (missing.length > 0) return cannot(`it has no layer ${missing.join(", ")}`);
  const table = shapes["token_embedding/embeddings"];
  const position = shapes["position_embedding/embeddings"];
  const kernel = shapes["lstm/kernel"];
  const bias = shapes["logits/bias"];
  if (table?.length !== 2 || kernel?.length !== 2 || bias?.length !== 1) {
    return cannot("its weights are not named as the network names them");
  }
  const [E, P] = [table[1]!, position?.[1] ?? 0];
  const width = (kernel[0]! - P) / E;
  const lstm = read.layers.find((l) => l.name === "lstm")?.config;
  const activation = lstm?.["recurrent_activation"] ?? "sigmoid";
  const layout: StepLayout = {
    vocabSize: bias[0]!,
    stepsPerBar,
    lookbackBars: width - 1,
    barPosition: position !== undefined,
    recurrentActivation: activation === "hard_sigmoid" || activation === "hardSigmoid"
      ? "hardSigmoid"
      : activation === "sigmoid"
      ? "sigmoid"
      : undefined,
  };
  if (layout.recurrentActivation === undefined) {
    return cannot(`its LSTM's gates are ${JSON.stringify(activation)}, not sigmoid`);
  }
  if (!Number.isInteger(width) || width < 1) {
    return cannot("its LSTM's inputs do not fit its embeddings");
  }
  if (position !== undefined && position[0] !== stepsPerBar) {
    return cannot(`its bar positions count ${position[0]}, but a bar has ${stepsPerBar} steps`);
  }
  return { kind: "sequence", layout, weights };
}

/**
 * The Transformer's checkpoint (model/sequence/transformer.ts): its weights by layer name and
 * the shape transformer_step.js takes. The blocks are the topology's `CausalSelfAttention`
 * layers, each with its `heads` and `window` (one value for all), epsilon the LayerNorms';
 * from the weight shapes, `token_embedding` is [vocabSize + 1, E], `position_embedding`
 * [stepsPerBar, P] (present with a bar position), `input_projection/kernel`
 * [(1 + lookbackBars)·E + P, width], `logits/bias` [vocabSize]; transformer_step.js's
 * makeStepper checks every other layer's sizes. `stepsPerBar` is the run's, as for
 * {@link stepCheckpoint}.
 */
export function transformerCheckpoint(
  modelJson: Uint8Array,
  weightsBin: Uint8Array,
  stepsPerBar: number,
): { kind: "transformer"; layout: TransformerShape; weights: StepWeights } | { reason: string } {
  const cannot = (why: string) => ({
    reason: `No model to play with: the checkpoint is not one of the transformer (${why}).`,
  });
  const read = readCheckpoint(modelJson, weightsBin, cannot);
  if ("reason" in read) return read;
  const { layers, shapes } = read;
  const attention = layers.filter((l) => l.class_name === "CausalSelfAttention");
  const names = transformerLayerNames(attention.length);
  // One value among `layers`' configs, or undefined where they differ (or there are none).
  const one = (of: TopologyLayer[], key: string) => {
    const values = new Set(of.map((l) => l.config?.[key]));
    return values.size === 1 ? [...values][0] : undefined;
  };
  const heads = one(attention, "heads");
  const window = one(attention, "window");
  const epsilon = one(layers.filter((l) => l.class_name === "LayerNormalization"), "epsilon");
  if (attention.length === 0) return cannot("it has no attention layer");
  if (attention.some((l, i) => l.name !== names.blocks[i]!.attention)) {
    return cannot("its attention layers are not named as the network names them");
  }
  const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1;
  if (!count(heads) || !count(window) || !(typeof epsilon === "number" && epsilon > 0)) {
    return cannot(
      "its attention layers do not share one count of heads and one window, or its LayerNorms " +
        "one epsilon",
    );
  }
  const table = shapes[`${names.tokenEmbedding}/embeddings`];
  const position = shapes[`${names.positionEmbedding}/embeddings`];
  const kernel = shapes[`${names.inputProjection}/kernel`];
  const bias = shapes[`${names.logits}/bias`];
  if (table?.length !== 2 || kernel?.length !== 2 || bias?.length !== 1) {
    return cannot("its weights are not named as the network names them");
  }
  const [E, P] = [table[1]!, position?.[1] ?? 0];
  const lookback = (kernel[0]! - P) / E;
  if (!Number.isInteger(lookback) || lookback < 1) {
    return cannot("its input projection does not fit its embeddings");
  }
  if (position !== undefined && position[0] !== stepsPerBar) {
    return cannot(`its bar positions count ${position[0]}, but a bar has ${stepsPerBar} steps`);
  }
  const layout: TransformerShape = {
    vocabSize: bias[0]!,
    stepsPerBar,
    lookbackBars: lookback - 1,
    barPosition: position !== undefined,
    blocks: attention.length,
    heads,
    width: kernel[1]!,
    window,
    epsilon,
  };
  try {
    // The step module's own check of every layer's sizes: what the page will run.
    makeStepper(read.weights, layout);
  } catch (e) {
    return cannot((e as Error).message);
  }
  return { kind: "transformer", layout, weights: read.weights };
}

/**
 * The primers generate continued (its primers.json: one per piece, in its order), as ids of
 * `vocab`; a reason instead when a primer holds a token the vocabulary lacks.
 */
export function primerIds(
  primers: readonly PiecePrimer[],
  vocab: readonly string[],
): number[][] | { reason: string } {
  const index = new Map(vocab.map((token, i) => [token, i]));
  const out: number[][] = [];
  for (const primer of primers) {
    const ids = primer.tokens.map((token) => index.get(token) ?? -1);
    const unknown = ids.indexOf(-1);
    if (unknown !== -1) {
      return {
        reason: `No model to play with: the primer from ${primer.file} holds ` +
          `${JSON.stringify(primer.tokens[unknown])}, which vocab.json lacks.`,
      };
    }
    out.push(ids);
  }
  return out;
}
