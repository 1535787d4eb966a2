/**
 * The head's Dense and BatchNormalization layers for a softmax at every step
 * (`train.targets: all`), where they see batch × window rows (3,200 at the tutorial's sizes)
 * instead of a batch of 32.
 *
 * They compute what tfjs's layers compute, with the same weights in the same order, names,
 * shapes and initialisers, but with gradients that tfjs's WebAssembly backend runs fast at that
 * size. tfjs differentiates a matrix product into transposed products, which that backend
 * computes 10–20 times slower than a transpose followed by a plain product, and its fused
 * batch-normalisation gradient tiles mean, variance and scale out to the input's full shape,
 * which is slower still. At the tutorial's sizes those two took about two thirds of a training
 * step. Here the Dense gradient transposes explicitly, and batch normalisation is written with
 * broadcasting ops, whose gradients are sums.
 *
 * Both save themselves as tfjs's own class (`Dense`, `BatchNormalization`) with the config
 * tfjs would write, so a model holding them loads anywhere without this module.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Gemm } from "./fused/gemm.ts";
import { gemmDense } from "./gemm_product.ts";

/** Arguments of {@link SequenceDense}. */
export interface SequenceDenseArgs {
  units: number;
  /** Seed of the kernel's Glorot-uniform initialiser (as tf.layers.dense is given it). */
  seed: number;
  name: string;
}

/** `x · kernel + bias` over the last axis, with explicit transposes in its gradient. */
function denseOp(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((...args: unknown[]) => {
    const [a, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    // Kept by tfjs until the backward pass (the caller's tidy would free `a` before it).
    save([a, w]);
    return {
      value: tf.add(tf.matMul(a, w), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [input, weights] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [
          tf.matMul(dy as tf.Tensor2D, tf.transpose(weights)),
          tf.matMul(tf.transpose(input), dy as tf.Tensor2D),
          tf.sum(dy, 0),
        ];
      },
    };
  });
  return op(x, kernel, bias) as tf.Tensor2D;
}

/** A Dense layer (linear, with bias) for inputs of many rows: see the module comment. */
export class SequenceDense extends tf.layers.Layer {
  /** The class name written into model.json: plain `Dense`, on purpose. */
  static className = "Dense";
  readonly units: number;
  readonly seed: number;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;
  /**
   * OpenBLAS's sgemm for the product (model/gemm_product.ts), or null for tfjs's matMul: how it
   * runs, not what it computes, so not saved (the Transformer's layers set it).
   */
  gemm: Gemm | null = null;

  constructor(args: SequenceDenseArgs) {
    super({ name: args.name });
    this.units = args.units;
    this.seed = args.seed;
    this.inputSpec = [{ minNDim: 2 }];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1] as number;
    this.kernel = this.addWeight(
      "kernel",
      [inputDim, this.units],
      "float32",
      tf.initializers.glorotUniform({ seed: this.seed }),
    );
    this.bias = this.addWeight("bias", [this.units], "float32", tf.initializers.zeros());
    this.inputSpec = [{ minNDim: 2, axes: { [-1]: inputDim } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const inputDim = x.shape[x.rank - 1]!;
      const rows = tf.reshape(x, [-1, inputDim]) as tf.Tensor2D;
      const kernel = this.kernel!.read() as tf.Tensor2D;
      const bias = this.bias!.read() as tf.Tensor1D;
      const out = this.gemm === null
        ? denseOp(rows, kernel, bias)
        : gemmDense(rows, kernel, bias, this.gemm);
      return tf.reshape(out, [...x.shape.slice(0, -1), this.units]);
    });
  }

  /** The config tf.layers.dense writes for the same layer, key for key. */
  override getConfig(): tf.serialization.ConfigDict {
    return tf.layers.dense({
      name: this.name,
      units: this.units,
      kernelInitializer: tf.initializers.glorotUniform({ seed: this.seed }),
    }).getConfig();
  }
}

/** Arguments of {@link SequenceBatchNorm}. */
export interface SequenceBatchNormArgs {
  name: string;
}

/** tfjs's BatchNormalization defaults, which the tutorial's layers use. */
const MOMENTUM = 0.99;
const EPSILON = 1e-3;

/**
 * Batch normalisation over every axis but the last (batch and time), as tfjs's
 * BatchNormalization with its defaults computes it: in training, the batch's mean and variance
 * (moving averages updated with momentum 0.99, as tfjs does, without a correction for the
 * sample size); otherwise the moving statistics.
 */
export class SequenceBatchNorm extends tf.layers.Layer {
  /** The class name written into model.json: plain `BatchNormalization`, on purpose. */
  static className = "BatchNormalization";
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;
  private movingMean: tf.LayerVariable | null = null;
  private movingVariance: tf.LayerVariable | null = null;

  constructor(args: SequenceBatchNormArgs) {
    super({ name: args.name });
    this.inputSpec = [{ minNDim: 2 }];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const size = [shape[shape.length - 1] as number];
    // tfjs's order, names and initialisers, so weights copy across layer for layer.
    this.gamma = this.addWeight("gamma", size, "float32", tf.initializers.ones());
    this.beta = this.addWeight("beta", size, "float32", tf.initializers.zeros());
    this.movingMean = this.addWeight(
      "moving_mean",
      size,
      "float32",
      tf.initializers.zeros(),
      undefined,
      false,
    );
    this.movingVariance = this.addWeight(
      "moving_variance",
      size,
      "float32",
      tf.initializers.ones(),
      undefined,
      false,
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const gamma = this.gamma!.read();
      const beta = this.beta!.read();
      if (kwargs["training"] !== true) {
        const scale = tf.mul(gamma, tf.rsqrt(tf.add(this.movingVariance!.read(), EPSILON)));
        return tf.add(tf.mul(tf.sub(x, this.movingMean!.read()), scale), beta);
      }
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      const updates: [tf.LayerVariable, tf.Tensor][] = [
        [this.movingMean!, mean],
        [this.movingVariance!, variance],
      ];
      for (const [variable, value] of updates) {
        tf.tidy(() => {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - MOMENTUM)));
        });
      }
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, EPSILON)));
      return tf.add(tf.mul(tf.sub(x, mean), scale), beta);
    });
  }

  /** The config tf.layers.batchNormalization writes for the same layer, key for key. */
  override getConfig(): tf.serialization.ConfigDict {
    return tf.layers.batchNormalization({ name: this.name }).getConfig();
  }
}
