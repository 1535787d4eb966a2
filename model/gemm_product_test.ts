import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "./backend.ts";
import { type Gemm, tfjsGemm } from "./fused/gemm.ts";
import { gemmDense, gemmProduct } from "./gemm_product.ts";
import { fusedLstmSupport } from "./lstm_implementation.ts";

await selectBackend("wasm");

/** tfjs's matMul as a Gemm runs anywhere; OpenBLAS where this machine has it. */
const GEMMS: [string, Gemm][] = [["tfjs", tfjsGemm]];
const blas = fusedLstmSupport().blas;
if (blas) GEMMS.push(["OpenBLAS", blas.sgemm]);

function close(got: tf.Tensor, want: tf.Tensor, label: string): void {
  assert.deepEqual(got.shape, want.shape, label);
  const g = got.dataSync();
  const w = want.dataSync();
  for (let i = 0; i < w.length; i++) {
    assert.ok(Math.abs(g[i]! - w[i]!) < 1e-4 * (1 + Math.abs(w[i]!)), `${label} [${i}]`);
  }
}

for (const [name, gemm] of GEMMS) {
  Deno.test(`gemmProduct() on ${name}: tfjs's batched matMul and its gradients`, () => {
    tf.tidy(() => {
      const a = tf.randomNormal([3, 4, 5], 0, 1, "float32", 1) as tf.Tensor3D;
      const b = tf.randomNormal([3, 5, 2], 0, 1, "float32", 2) as tf.Tensor3D;
      const w = tf.randomNormal([3, 4, 2], 0, 1, "float32", 3);
      const loss =
        (f: (x: tf.Tensor3D, y: tf.Tensor3D) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(f(x as tf.Tensor3D, y as tf.Tensor3D), w));
      close(gemmProduct(a, b, gemm), tf.matMul(a, b), "value");
      const got = tf.grads(loss((x, y) => gemmProduct(x, y, gemm)))([a, b]);
      const want = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
      close(got[0]!, want[0]!, "d/da");
      close(got[1]!, want[1]!, "d/db");
    });
  });

  Deno.test(`gemmDense() on ${name}: x · kernel + bias and its gradients, the bias's included`, () => {
    tf.tidy(() => {
      const x = tf.randomNormal([6, 4], 0, 1, "float32", 4) as tf.Tensor2D;
      const k = tf.randomNormal([4, 3], 0, 1, "float32", 5) as tf.Tensor2D;
      const b = tf.randomNormal([3], 0, 1, "float32", 6) as tf.Tensor1D;
      const w = tf.randomNormal([6, 3], 0, 1, "float32", 7);
      const plain = (p: tf.Tensor2D, q: tf.Tensor2D, r: tf.Tensor1D) => tf.add(tf.matMul(p, q), r);
      close(gemmDense(x, k, b, gemm), plain(x, k, b), "value");
      const grads = (f: typeof plain) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
          tf.sum(tf.mul(f(p as tf.Tensor2D, q as tf.Tensor2D, r as tf.Tensor1D), w))
        )([x, k, b]);
      const got = grads((p, q, r) => gemmDense(p, q, r, gemm));
      const want = grads(plain);
      ["d/dx", "d/dkernel", "d/dbias"].forEach((label, i) => close(got[i]!, want[i]!, label));
    });
  });
}
