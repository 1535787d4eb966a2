/**
 * The matrix product the fused LSTM is written against, and its portable implementation on
 * tfjs's matMul. The layer only ever calls a {@link Gemm}; whether that is OpenBLAS
 * (model/fused/blas.ts) or {@link tfjsGemm} is decided once, in model/lstm_implementation.ts.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Row-major single-precision matrix product `C = alpha * op(A) * op(B) + beta * C`, with
 * BLAS's arguments (leading dimensions let a product read one time step out of a [B, T, n]
 * buffer without copying it).
 */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** Copies a strided row-major matrix into a dense one, or views it when it already is dense. */
function dense(a: Float32Array, rows: number, cols: number, ld: number): Float32Array {
  if (ld === cols) return a.subarray(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(a.subarray(i * ld, i * ld + cols), i * cols);
  return out;
}

/**
 * {@link Gemm} on tfjs's matMul (whatever backend is active). The pipeline never runs the fused
 * layer on it (without OpenBLAS it takes tf.layers.lstm, which is faster than one backend matMul
 * per step); it lets the fused layer's maths be tested, and benchmarked, on any machine.
 */
export const tfjsGemm: Gemm = (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  const ar = ta ? k : m, ac = ta ? m : k;
  const br = tb ? n : k, bc = tb ? k : n;
  const res = tf.tidy(() =>
    tf.matMul(
      tf.tensor2d(dense(a, ar, ac, lda), [ar, ac]),
      tf.tensor2d(dense(b, br, bc, ldb), [br, bc]),
      ta,
      tb,
    ).dataSync()
  );
  for (let i = 0; i < m; i++) {
    const ro = i * ldc, rr = i * n;
    if (beta === 0) { for (let j = 0; j < n; j++) c[ro + j] = alpha * res[rr + j]!; }
    else for (let j = 0; j < n; j++) c[ro + j] = alpha * res[rr + j]! + beta * c[ro + j]!;
  }
};
