import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildModel, disposeModel } from "./build_model.ts";
import { selectBackend } from "./backend.ts";
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

Deno.test("window mode's passes in flight give model.predict's probabilities bit for bit", async (t) => {
  // model.predict, the reference, is quicker on wasm than on cpu (the loops run in C either way).
  await selectBackend("wasm");
  // 64 units: one thread's loops; 128: the units split over two threads (or two halves in turn).
  // One, two and three layers: each has its own order of steps in a tick.
  for (const [lstmUnits, lstmLayers] of [[64, 2], [128, 2], [64, 1], [64, 3]] as const) {
    await t.step(`${lstmLayers} layer${lstmLayers > 1 ? "s" : ""} of ${lstmUnits} units`, () => {
      const T = 9;
      const model = buildModel({ ...SETTINGS, lstmUnits, lstmLayers }, {
        vocabSize: VOCAB,
        windowLength: T,
        lstm: native,
      });
      const next = nextTokenModel(model, VOCAB, "window");
      const ids = IDS.slice(0, T);
      let p = next.start(ids);
      assert.deepEqual(p, predict(model, ids));
      // Twice the window's length of pushes: every pass in flight begins and ends.
      for (let i = 0; i < 2 * T + 3; i++) {
        const id = (i * 5 + 1) % VOCAB;
        ids.push(id);
        ids.shift();
        p = next.push(id);
        assert.deepEqual(p, predict(model, ids), `token ${i + 1} after the start`);
      }
      // A new start forgets the passes of the last one.
      assert.deepEqual(next.start(IDS.slice(1, T + 1)), predict(model, IDS.slice(1, T + 1)));
      disposeModel(model);
    });
  }
  await selectBackend("cpu");
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
