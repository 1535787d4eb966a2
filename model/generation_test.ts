import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildModel, disposeModel } from "./build_model.ts";
import { nextTokenModel } from "./generation.ts";
import {
  fusedLstmImplementation,
  type LstmImplementation,
  TFJS_LSTM,
} from "./lstm_implementation.ts";

const VOCAB = 23;
const SETTINGS = {
  lstmUnits: 32,
  lstmLayers: 2,
  recurrentDropout: 0.3,
  denseUnits: 16,
  dropout: 0.3,
  seed: 5,
};

/** Two models with the same weights (same seed), for windows of `t` and `t + 1` tokens. */
function models(lstm: LstmImplementation, t: number) {
  const make = (windowLength: number) =>
    buildModel(SETTINGS, { vocabSize: VOCAB, windowLength, lstm });
  return [make(t), make(t + 1)] as const;
}

function predict(model: tf.LayersModel, ids: number[]): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor3d(Float32Array.from(ids, (id) => id / VOCAB), [1, ids.length, 1]);
    return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

const IDS = Array.from({ length: 12 }, (_, i) => (i * 7 + 3) % VOCAB);
const native = fusedLstmImplementation({ gemm: "blas", gates: "native" });

Deno.test("window mode on the C loops gives model.predict's probabilities bit for bit", () => {
  const [model] = models(native, IDS.length);
  const next = nextTokenModel(model, VOCAB, "window");
  assert.equal(next.path, "native");
  assert.deepEqual(next.start(IDS), predict(model, IDS));
  // After a push the window has slid by one.
  const slid = [...IDS.slice(1), 4];
  assert.deepEqual(next.push(4), predict(model, slid));
  disposeModel(model);
});

for (const [name, lstm] of [["the C loops", native], ["tfjs", TFJS_LSTM]] as const) {
  Deno.test(`stateful mode on ${name} carries the state: a step more is a window longer`, () => {
    const [model, longer] = models(lstm, IDS.length);
    const next = nextTokenModel(model, VOCAB, "stateful");
    assert.equal(next.path, lstm === TFJS_LSTM ? "tfjs" : "native");
    // From a zero state over the window, it is the window's prediction...
    assert.ok(maxDiff(next.start(IDS), predict(model, IDS)) < 1e-5);
    // ...and one token later, the prediction over the window and that token.
    assert.ok(maxDiff(next.push(4), predict(longer, [...IDS, 4])) < 1e-5);
    // start() begins again from a zero state.
    assert.ok(maxDiff(next.start(IDS), predict(model, IDS)) < 1e-5);
    disposeModel(model);
    disposeModel(longer);
  });
}
