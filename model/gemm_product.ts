/**
 * Differentiable matrix products of tfjs tensors on a {@link Gemm} (OpenBLAS's sgemm, from
 * model/lstm_implementation.ts): what the Transformer's dense layers and attention
 * (model/sequence/transformer.ts) run on where OpenBLAS loads.
 *
 * The WebAssembly backend computes a [4096 × 128] · [128 × 512] product (a Transformer MLP's, at
 * the recipe's batch of 32 crops of 128 steps) about 5–10 times slower than OpenBLAS on one core,
 * and a batch of small products (attention's 128 products of 128 × 32 by 32 × 128) over ten times
 * slower; here each product is one sgemm, transposes in the gradient included, with the copies in
 * and out of tfjs's memory, which cost a small share of the time.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Gemm } from "./fused/gemm.ts";
import type { LstmImplementation } from "./lstm_implementation.ts";

/**
 * OpenBLAS's sgemm where the LSTM implementation loaded it (`train.lstm` auto or blas), else null:
 * what the sequence networks' dense layers and attention run their products on.
 */
export function blasGemm(lstm: LstmImplementation | undefined): Gemm | null {
  return lstm?.kind === "fused" && lstm.blas !== null ? lstm.gemm : null;
}

/** op(x[i]) · op(y[i]) for every i of two [n, rows, cols] tensors, op a transpose where asked. */
function each(x: tf.Tensor3D, y: tf.Tensor3D, tx: boolean, ty: boolean, gemm: Gemm): tf.Tensor3D {
  const [n, xr, xc] = x.shape;
  const [, yr, yc] = y.shape;
  const m = tx ? xc : xr;
  const k = tx ? xr : xc;
  const cols = ty ? yr : yc;
  const xs = x.dataSync() as Float32Array;
  const ys = y.dataSync() as Float32Array;
  const out = new Float32Array(n * m * cols);
  for (let i = 0; i < n; i++) {
    gemm(
      tx,
      ty,
      m,
      cols,
      k,
      1,
      xs.subarray(i * xr * xc, (i + 1) * xr * xc),
      xc,
      ys.subarray(i * yr * yc, (i + 1) * yr * yc),
      yc,
      0,
      out.subarray(i * m * cols, (i + 1) * m * cols),
      cols,
    );
  }
  return tf.tensor3d(out, [n, m, cols]);
}

/** a[i] · b[i] for every i of [n, r, k] and [n, k, c] tensors, on `gemm`, with its gradient. */
export function gemmProduct(a: tf.Tensor3D, b: tf.Tensor3D, gemm: Gemm): tf.Tensor3D {
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, y, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    // Kept by tfjs until the backward pass (the caller's tidy would free them before it).
    save([x, y]);
    return {
      value: each(x, y, false, false, gemm),
      gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => {
        const [left, right] = saved as [tf.Tensor3D, tf.Tensor3D];
        const g = dz as tf.Tensor3D;
        return [each(g, right, false, true, gemm), each(left, g, true, false, gemm)];
      },
    };
  });
  return op(a, b) as tf.Tensor3D;
}

/**
 * x · kernel + bias for x [rows, in], kernel [in, out], bias [out], on `gemm`, with its gradient:
 * the bias's too (a product with a row of ones), which the WebAssembly backend's sum over rows
 * would otherwise take longer than the products.
 */
export function gemmDense(
  x: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  gemm: Gemm,
): tf.Tensor2D {
  const as3 = (t: tf.Tensor2D) => tf.reshape(t, [1, ...t.shape]) as tf.Tensor3D;
  const op = tf.customGrad((...args: unknown[]) => {
    const [a, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([a, w]);
    const [rows] = a.shape;
    const units = w.shape[1];
    return {
      value: tf.add(tf.reshape(each(as3(a), as3(w), false, false, gemm), [rows, units]), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [input, weights] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = as3(dy as tf.Tensor2D);
        const ones = tf.ones([1, 1, rows]) as tf.Tensor3D;
        return [
          tf.reshape(each(g, as3(weights), false, true, gemm), input.shape),
          tf.reshape(each(as3(input), g, true, false, gemm), weights.shape),
          tf.reshape(each(ones, g, false, false, gemm), [units]),
        ];
      },
    };
  });
  return op(x, kernel, bias) as tf.Tensor2D;
}
