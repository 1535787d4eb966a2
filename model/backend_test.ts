import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "./backend.ts";
import { ModelError } from "./errors.ts";

Deno.test("selectBackend('auto') skips the uninstalled native packages and picks wasm or cpu", async () => {
  const { backend, reason } = await selectBackend("auto");
  assert.ok(backend === "wasm" || backend === "cpu", backend);
  assert.equal(tf.getBackend(), backend);
  assert.match(
    reason,
    /^auto: @tensorflow\/tfjs-node-gpu is not installed; @tensorflow\/tfjs-node is not installed; /,
  );
});

Deno.test("selectBackend('tensorflow') explains in one sentence that tfjs-node cannot load", async () => {
  await assert.rejects(() => selectBackend("tensorflow"), (error: unknown) => {
    assert.ok(error instanceof ModelError);
    assert.equal(
      error.message,
      "train.backend: tensorflow needs @tensorflow/tfjs-node, but @tensorflow/tfjs-node is not installed; use auto, wasm or cpu",
    );
    return true;
  });
});

Deno.test("selectBackend('tensorflow-gpu') names the gpu package in its error", async () => {
  await assert.rejects(() => selectBackend("tensorflow-gpu"), /needs @tensorflow\/tfjs-node-gpu/);
});

Deno.test("selectBackend('wasm') and selectBackend('cpu') switch tfjs to that backend", async () => {
  for (const choice of ["wasm", "cpu"] as const) {
    assert.deepEqual(await selectBackend(choice), {
      backend: choice,
      reason: `train.backend is ${choice}`,
    });
    assert.equal(tf.getBackend(), choice);
    const sum = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    assert.deepEqual(Array.from(sum.dataSync()), [4, 6]);
    sum.dispose();
  }
});
