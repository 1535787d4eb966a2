import assert from "node:assert/strict";
import { ModelError } from "./errors.ts";
import {
  fusedLstmImplementation,
  fusedLstmSupport,
  resolveLstm,
  TFJS_LSTM,
} from "./lstm_implementation.ts";

const SUPPORT = fusedLstmSupport();

Deno.test("resolveLstm() keeps tf.layers.lstm for `tfjs` and, under auto, on the TensorFlow backends", () => {
  assert.equal(resolveLstm("tfjs"), TFJS_LSTM);
  assert.equal(resolveLstm("auto", "tensorflow"), TFJS_LSTM);
  assert.equal(resolveLstm("auto", "tensorflow-gpu"), TFJS_LSTM);
});

Deno.test("resolveLstm('auto') takes the fused layer on OpenBLAS when it opens, with the C loops when they build", () => {
  const auto = resolveLstm("auto");
  if (!SUPPORT.blas) {
    assert.equal(auto, TFJS_LSTM);
    return;
  }
  assert.equal(auto.kind, "fused");
  assert.equal(auto.id, SUPPORT.gates ? "blas+native-gates" : "blas+js-gates");
  // One value per implementation: train's key and the model see the same one.
  assert.equal(resolveLstm("blas", "wasm"), auto);
  assert.equal(resolveLstm("auto", "cpu"), auto);
});

Deno.test({
  name: "resolveLstm('blas') without OpenBLAS says how to get it, as a ModelError",
  ignore: SUPPORT.blas !== null,
  fn: () => {
    assert.throws(() => resolveLstm("blas"), (e: unknown) => {
      assert.ok(e instanceof ModelError);
      assert.match(e.message, /^Cannot use train\.lstm: blas because .*; install libopenblas0/);
      return true;
    });
  },
});

Deno.test("fusedLstmImplementation() names each combination and refuses C loops without OpenBLAS", () => {
  const portable = fusedLstmImplementation({ gemm: "tfjs", gates: "js" });
  assert.equal(portable.id, "tfjs-matmul+js-gates");
  assert.equal(portable.blas, null);
  assert.equal(portable.gates, null);
  assert.equal(fusedLstmImplementation({ gemm: "tfjs", gates: "auto" }), portable);
  assert.throws(
    () => fusedLstmImplementation({ gemm: "tfjs", gates: "native" }),
    /^ModelError: Cannot use the native LSTM gates: the matrix products do not run on OpenBLAS$/,
  );
  if (SUPPORT.blas) {
    const js = fusedLstmImplementation({ gemm: "blas", gates: "js" });
    assert.equal(js.id, "blas+js-gates");
    assert.equal(js.gemm, SUPPORT.blas.sgemm);
  }
});
