/**
 * The tfjs layers of the causal Transformer (model/sequence/transformer.ts) that tfjs lacks or
 * runs slowly, and the step-wise form of a built or loaded Transformer model.
 *
 * - {@link CausalSelfAttention}: multi-head attention over queries, keys and values that a
 *   Dense layer made, causal, with ALiBi's linear distance penalty (transformer_step.js's
 *   `attentionBias`) and a window: a step attends to the last `window` steps, itself included.
 *   It has no weights; it is registered with tfjs, so model/checkpoint.ts loads it (importing
 *   this module registers it).
 * - {@link SequenceLayerNorm}: layer normalisation written with broadcasting ops, whose
 *   gradients are sums; tfjs's LayerNormalization tiles its statistics to the input's shape,
 *   which the WebAssembly backend differentiates slowly (as model/sequence_head.ts says of
 *   batch normalisation). It saves itself as tfjs's `LayerNormalization`, the same maths.
 * - {@link TransformerStepper}: the model's weights handed to transformer_step.js, the plain-JS
 *   step that generation runs.
 *
 * This module imports no other module of the sequence network but its plain-JS ones (which
 * import nothing), so network.ts and model/checkpoint.ts can import it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Gemm } from "../fused/gemm.ts";
import { gemmProduct } from "../gemm_product.ts";
import { continueSequences } from "../continuation.js";
import * as transformerStep from "./transformer_step.js";

/**
 * `a · b` over the last two axes of rank-3 tensors: on tfjs's batched matMul, with explicit
 * transposes in its gradient, or, given OpenBLAS's `gemm`, one sgemm per matrix.
 */
function product(a: tf.Tensor3D, b: tf.Tensor3D, gemm: Gemm | null): tf.Tensor3D {
  if (gemm !== null) return gemmProduct(a, b, gemm);
  // tfjs differentiates a product into products of transposed operands, which the WebAssembly
  // backend computes many times slower than a transpose followed by a plain product.
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, y, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => {
        const [left, right] = saved as [tf.Tensor3D, tf.Tensor3D];
        return [
          tf.matMul(dz as tf.Tensor3D, tf.transpose(right, [0, 2, 1])),
          tf.matMul(tf.transpose(left, [0, 2, 1]), dz as tf.Tensor3D),
        ];
      },
    };
  });
  return op(a, b) as tf.Tensor3D;
}

/** Arguments of {@link CausalSelfAttention}. */
export interface CausalSelfAttentionArgs {
  name: string;
  /** Heads; the width (a third of the input's last axis) must be a multiple. */
  heads: number;
  /** Steps a step attends to, itself included. */
  window: number;
}

/**
 * Causal multi-head self-attention with ALiBi: input [batch, T, 3·width] (queries, keys,
 * values, each split into `heads` heads of width/heads), output [batch, T, width] (the heads'
 * outputs side by side). Query i attends to keys j with 0 ≤ i − j < window, scored
 * q·k/√(width/heads) − slope·(i − j).
 */
export class CausalSelfAttention extends tf.layers.Layer {
  static className = "CausalSelfAttention";
  readonly heads: number;
  readonly window: number;
  /**
   * OpenBLAS's sgemm for the products (model/gemm_product.ts's blasGemm), or null for tfjs's
   * matMul: how it runs, not what it computes, so not saved; model/checkpoint.ts sets it on a
   * loaded model.
   */
  gemm: Gemm | null = null;

  constructor(args: CausalSelfAttentionArgs) {
    super({ name: args.name });
    this.heads = args.heads;
    this.window = args.window;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const last = shape[shape.length - 1];
    return [...shape.slice(0, -1), typeof last === "number" ? last / 3 : null];
  }

  /**
   * The query blocks of `steps` steps: one block up to the window (training's crops), else
   * blocks of `window` queries, each attending to the keys from window − 1 steps before it.
   */
  #blocks(steps: number): { from: number; to: number; keys: number }[] {
    const size = steps <= this.window ? steps : this.window;
    const blocks = [];
    for (let from = 0; from < steps; from += size) {
      const to = Math.min(steps, from + size);
      blocks.push({ from, to, keys: Math.max(0, from - this.window + 1) });
    }
    return blocks;
  }

  /**
   * Attention scores one sequence of `steps` steps holds at once: heads × the query blocks'
   * queries × keys (what bounds a scoring pass's memory, network.ts's scoreSequences).
   */
  scoresPerSequence(steps: number): number {
    return this.heads *
      this.#blocks(steps).reduce((n, b) => n + (b.to - b.from) * (b.to - b.keys), 0);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
      const [batch, T, three] = x.shape;
      const width = three / 3;
      const H = this.heads;
      const dh = width / H;
      const rows = batch * H;
      // [batch, T, width] → [batch·H, T, dh]; `order` puts T last instead (for the keys).
      const split = (part: number, order: number[]) =>
        tf.reshape(
          tf.transpose(
            tf.reshape(tf.slice(x, [0, 0, part * width], [batch, T, width]), [batch, T, H, dh]),
            order,
          ),
          order[3] === 3 ? [rows, T, dh] : [rows, dh, T],
        ) as tf.Tensor3D;
      const q = split(0, [0, 2, 1, 3]);
      const kT = split(1, [0, 2, 3, 1]);
      const v = split(2, [0, 2, 1, 3]);
      // Longer than the window (a scoring pass), queries go in blocks against the keys in their
      // reach, so the scores held grow with T × window, not T²; the masked rest is exactly 0.
      const biases = new Map<string, tf.Tensor4D>();
      const heard = this.#blocks(T).map(({ from, to, keys }) => {
        const nq = to - from;
        const nk = to - keys;
        const shape = `${nq} ${nk}`;
        let bias = biases.get(shape);
        if (bias === undefined) {
          bias = tf.tensor4d(transformerStep.attentionBias(H, nq, nk, this.window), [1, H, nq, nk]);
          biases.set(shape, bias);
        }
        const qb = nq === T ? q : tf.slice(q, [0, from, 0], [rows, nq, dh]);
        const kb = nk === T ? kT : tf.slice(kT, [0, 0, keys], [rows, dh, nk]);
        const vb = nk === T ? v : tf.slice(v, [0, keys, 0], [rows, nk, dh]);
        const scores = tf.add(
          tf.reshape(tf.mul(product(qb, kb, this.gemm), 1 / Math.sqrt(dh)), [batch, H, nq, nk]),
          bias,
        );
        const weights = tf.reshape(tf.softmax(scores), [rows, nq, nk]) as tf.Tensor3D;
        return product(weights, vb, this.gemm);
      });
      const all = heard.length === 1 ? heard[0]! : tf.concat(heard, 1);
      return tf.reshape(tf.transpose(tf.reshape(all, [batch, H, T, dh]), [0, 2, 1, 3]), [
        batch,
        T,
        width,
      ]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, window: this.window };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({
      name: config["name"] as string,
      heads: config["heads"] as number,
      window: config["window"] as number,
    });
  }
}
tf.serialization.registerClass(CausalSelfAttention);

/** Arguments of {@link SequenceLayerNorm}. */
export interface SequenceLayerNormArgs {
  name: string;
  /** Added to the variance (PyTorch's default 1e-5). */
  epsilon: number;
}

/**
 * LayerNorm over the last axis: (x − mean) / √(variance + epsilon) · gamma + beta, with
 * gamma 1 and beta 0 to start.
 */
export class SequenceLayerNorm extends tf.layers.Layer {
  /** The class name written into model.json: plain `LayerNormalization`, on purpose. */
  static className = "LayerNormalization";
  readonly epsilon: number;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: SequenceLayerNormArgs) {
    super({ name: args.name });
    this.epsilon = args.epsilon;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const size = [shape[shape.length - 1] as number];
    // tfjs's order, names and initialisers.
    this.gamma = this.addWeight("gamma", size, "float32", tf.initializers.ones());
    this.beta = this.addWeight("beta", size, "float32", tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const centred = tf.sub(x, tf.mean(x, -1, true));
      const variance = tf.mean(tf.square(centred), -1, true);
      const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(normed, this.gamma!.read()), this.beta!.read());
    });
  }

  /** The config tf.layers.layerNormalization writes for the same layer, key for key. */
  override getConfig(): tf.serialization.ConfigDict {
    return tf.layers.layerNormalization({ name: this.name, epsilon: this.epsilon }).getConfig();
  }
}

/** The attention layers of a model, in order (none for the LSTM network). */
export function attentionLayers(model: tf.LayersModel): CausalSelfAttention[] {
  return model.layers.filter((l): l is CausalSelfAttention => l instanceof CausalSelfAttention);
}

/**
 * How far back a step's output can reach through the attention layers: the sum of each one's
 * window − 1 (a step depends on none of the steps before that). Null for a model without
 * attention (a recurrent one depends on the whole file).
 */
export function attentionContext(model: tf.LayersModel): number | null {
  const layers = attentionLayers(model);
  return layers.length === 0 ? null : layers.reduce((n, l) => n + l.window - 1, 0);
}

/** The model's input layout: network.ts's SequenceLayout (sequenceLayout reads it). */
export type StepperLayout = Pick<
  transformerStep.TransformerShape,
  "vocabSize" | "stepsPerBar" | "lookbackBars" | "barPosition"
>;

/**
 * A Transformer model (built by model/sequence/transformer.ts or loaded from its checkpoint)
 * one step at a time through transformer_step.js, which reads its weights by layer name: the
 * interface of network.ts's SequenceStepper, so sampling runs either.
 */
export class TransformerStepper {
  readonly layout: StepperLayout;
  readonly #stepper: transformerStep.Stepper;

  /**
   * @param layout The model's input layout (network.ts's sequenceLayout).
   * @throws {RangeError} when the model is not such a Transformer.
   */
  constructor(model: tf.LayersModel, layout: StepperLayout) {
    this.layout = layout;
    const attention = attentionLayers(model);
    const first = attention[0];
    if (first === undefined) {
      throw new RangeError(`Cannot step model ${model.name} as a transformer: it has no attention`);
    }
    const weights: transformerStep.LayerWeights = {};
    let width = 0;
    let epsilon = NaN;
    for (const layer of model.layers) {
      const values = layer.getWeights();
      if (values.length > 0) weights[layer.name] = values.map((w) => w.dataSync() as Float32Array);
      if (layer.getClassName() === "LayerNormalization") {
        epsilon = layer.getConfig()["epsilon"] as number;
        width = values[0]!.shape[0]!;
      }
    }
    this.#stepper = transformerStep.makeStepper(weights, {
      ...layout,
      blocks: attention.length,
      heads: first.heads,
      width,
      window: first.window,
      epsilon,
    });
  }

  /** A state at the start of a file. */
  initialState(): transformerStep.StepState {
    return transformerStep.initialState(this.#stepper);
  }

  /**
   * Step t of `seq` (its inputs read x_{<t} only; steps come in order from 0): advances `state`
   * and, when `probabilities`, returns p(x_t | x_{<t}) (a fresh array), else null.
   */
  step(
    state: transformerStep.StepState,
    seq: Int32Array,
    t: number,
    probabilities: boolean,
  ): Float64Array | null {
    return transformerStep.step(this.#stepper, state, seq, t, probabilities);
  }

  /**
   * Continues each primer by `steps` tokens, each `choose`n from the probabilities after the
   * whole prefix with `<unk>` at 0 (continuation.js's continueSequences).
   */
  continueSequences(
    primers: readonly Int32Array[],
    steps: number,
    choose: (p: Float64Array) => number,
  ): Int32Array[] {
    return continueSequences(transformerStep, this.#stepper, [...primers], steps, choose);
  }
}
