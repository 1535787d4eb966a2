import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { FusedLstm } from "./fused_lstm.ts";
import { fusedLstm, type GateActivation } from "./fused_lstm_op.ts";
import {
  type FusedLstmImplementation,
  fusedLstmImplementation,
  fusedLstmSupport,
} from "../lstm_implementation.ts";
import { expFast } from "./lstm_js_gates.ts";
import { LstmProfiler } from "./lstm_profile.ts";
import { recurrentMask } from "../seeded_dropout.ts";

const SUPPORT = fusedLstmSupport();
if (!SUPPORT.gates) {
  console.warn(`fused_lstm_test: native gate tests skipped: ${SUPPORT.gatesFailure}`);
}
/** The implementations this machine has: BLAS with the C or the JS loops, tfjs's matMul. */
const NATIVE = SUPPORT.gates ? fusedLstmImplementation({ gemm: "blas", gates: "native" }) : null;
const BLAS_JS = SUPPORT.blas ? fusedLstmImplementation({ gemm: "blas", gates: "js" }) : null;
const TFJS_JS = fusedLstmImplementation({ gemm: "tfjs", gates: "js" });
/** The fastest one here, for tests about the layer rather than its arithmetic. */
const FASTEST = NATIVE ?? BLAS_JS ?? TFJS_JS;
const B = 3, T = 6, D = 4, U = 5;

/** ‖a − b‖ / ‖b‖: the relative error the equivalence tests bound by 1e-4. */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  const x = a.dataSync(), y = b.dataSync();
  let num = 0, den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i]! - y[i]!) ** 2;
    den += y[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function assertClose(a: tf.Tensor, b: tf.Tensor, what: string): void {
  const e = relErr(a, b);
  assert.ok(e < 1e-4, `${what}: relative error ${e.toExponential(2)} ≥ 1e-4`);
}

/** The LSTM written with plain tf ops, step by step: the reference tf.grads differentiates. */
function referenceLstm(
  x: tf.Tensor,
  w: tf.Tensor,
  r: tf.Tensor,
  b: tf.Tensor,
  returnSequences: boolean,
  act: GateActivation,
  mask: Float32Array | null,
): tf.Tensor {
  const [bs, ts, ds] = x.shape as number[];
  const u = r.shape[0]!;
  const gate = (v: tf.Tensor) =>
    act === "sigmoid" ? tf.sigmoid(v) : tf.clipByValue(tf.add(tf.mul(v, 0.2), 0.5), 0, 1);
  const m = mask ? tf.tensor2d(mask, [bs!, u]) : null;
  let h: tf.Tensor = tf.zeros([bs!, u]);
  let c: tf.Tensor = tf.zeros([bs!, u]);
  const outs: tf.Tensor[] = [];
  for (let t = 0; t < ts!; t++) {
    const xt = tf.reshape(tf.slice(x, [0, t, 0], [bs!, 1, ds!]), [bs!, ds!]);
    const hm = m ? tf.mul(h, m) : h;
    const z = tf.add(tf.add(tf.matMul(xt, w), tf.matMul(hm, r)), b);
    const [zi, zf, zc, zo] = tf.split(z, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    c = tf.add(tf.mul(gate(zf), c), tf.mul(gate(zi), tf.tanh(zc)));
    h = tf.mul(gate(zo), tf.tanh(c));
    outs.push(h);
  }
  return returnSequences ? tf.stack(outs, 1) : h;
}

/** Random inputs, weights and a fixed output weighting (so dy is not all ones). */
function problem(seed: number, returnSequences: boolean) {
  const x = tf.randomNormal([B, T, D], 0, 1, "float32", seed);
  const w = tf.randomNormal([D, 4 * U], 0, 0.5, "float32", seed + 1);
  const r = tf.randomNormal([U, 4 * U], 0, 0.5, "float32", seed + 2);
  const b = tf.randomNormal([4 * U], 0, 0.5, "float32", seed + 3);
  const dy = tf.randomNormal(returnSequences ? [B, T, U] : [B, U], 0, 1, "float32", seed + 4);
  return { x, w, r, b, dy };
}

/** The paths under test: products on BLAS with the C or the JS loops, or on tfjs. */
const paths: { name: string; implementation: FusedLstmImplementation | null }[] = [
  { name: "BLAS with native gates", implementation: NATIVE },
  { name: "BLAS with JS gates", implementation: BLAS_JS },
  { name: "tfjs fallback", implementation: TFJS_JS },
];

for (const { name, implementation } of paths) {
  for (const returnSequences of [true, false]) {
    for (const act of ["sigmoid", "hardSigmoid"] as const) {
      for (const withMask of [false, true]) {
        Deno.test({
          name: `fusedLstm() on ${name} matches the tf-ops LSTM in outputs and all gradients ` +
            `(returnSequences ${returnSequences}, ${act}, ${withMask ? "fixed mask" : "no mask"})`,
          ignore: !implementation,
          fn: () => {
            tf.tidy(() => {
              const { x, w, r, b, dy } = problem(7 + (returnSequences ? 10 : 0), returnSequences);
              const mask = withMask ? recurrentMask(B, U, 0.3, 5, 0) : null;
              const loss = (f: typeof referenceLstm) => (...a: tf.Tensor[]) =>
                tf.sum(tf.mul(f(a[0]!, a[1]!, a[2]!, a[3]!, returnSequences, act, mask), dy));
              const fused: typeof referenceLstm = (x, w, r, b) =>
                fusedLstm(x, w, r, b, {
                  returnSequences,
                  gateActivation: act,
                  mask,
                  implementation: implementation!,
                });
              assertClose(
                fused(x, w, r, b, returnSequences, act, mask),
                referenceLstm(x, w, r, b, returnSequences, act, mask),
                "output",
              );
              const got = tf.grads(loss(fused))([x, w, r, b]);
              const want = tf.grads(loss(referenceLstm))([x, w, r, b]);
              ["dx", "dkernel", "drecurrent", "dbias"].forEach((n, i) =>
                assertClose(got[i]!, want[i]!, n)
              );
            });
          },
        });
      }
    }
  }
}

Deno.test({
  name: "fusedLstm() with native gates matches the JS gates where the C loops run vectorised " +
    "(37 units: full vectors and a tail)",
  ignore: !NATIVE,
  fn: () => {
    tf.tidy(() => {
      const [b, t, d, u] = [4, 9, 3, 37];
      const x = tf.randomNormal([b, t, d], 0, 1, "float32", 41);
      const w = tf.randomNormal([d, 4 * u], 0, 0.3, "float32", 42);
      const r = tf.randomNormal([u, 4 * u], 0, 0.3, "float32", 43);
      const bias = tf.randomNormal([4 * u], 0, 0.3, "float32", 44);
      const dy = tf.randomNormal([b, t, u], 0, 1, "float32", 45);
      const mask = recurrentMask(b, u, 0.3, 2, 0);
      for (const act of ["sigmoid", "hardSigmoid"] as const) {
        const run = (implementation: FusedLstmImplementation) => {
          const f = (...a: tf.Tensor[]) =>
            tf.sum(tf.mul(
              fusedLstm(a[0]!, a[1]!, a[2]!, a[3]!, {
                returnSequences: true,
                gateActivation: act,
                mask,
                implementation,
              }),
              dy,
            ));
          return tf.grads(f)([x, w, r, bias]);
        };
        const got = run(NATIVE!), want = run(BLAS_JS!);
        ["dx", "dkernel", "drecurrent", "dbias"].forEach((n, i) =>
          assertClose(got[i]!, want[i]!, `${act} ${n}`)
        );
      }
    });
  },
});

/** Gradients of sum(layer(x) · dy) w.r.t. x and the layer's trainable weights. */
function layerGrads(layer: tf.layers.Layer, x: tf.Tensor, dy: tf.Tensor) {
  const xv = tf.variable(x);
  const vars = [xv, ...layer.trainableWeights.map((v) => v.read() as tf.Variable)];
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(layer.apply(xv) as tf.Tensor, dy)) as tf.Scalar,
    vars,
  );
  const out = [value, ...vars.map((v) => grads[v.name]!)];
  xv.dispose();
  return out;
}

for (const { name, implementation } of paths) {
  for (const returnSequences of [true, false]) {
    Deno.test({
      name: `FusedLstm on ${name} agrees with tf.layers.lstm given the same weights ` +
        `(returnSequences ${returnSequences})`,
      ignore: !implementation,
      fn: () => {
        const { x, w, r, b, dy } = problem(31, returnSequences);
        const ref = tf.layers.lstm({ units: U, returnSequences, recurrentActivation: "sigmoid" });
        const fused = new FusedLstm({
          units: U,
          returnSequences,
          recurrentActivation: "sigmoid",
          implementation: implementation!,
        });
        tf.dispose([ref.apply(x) as tf.Tensor, fused.apply(x) as tf.Tensor]); // builds them
        ref.setWeights([w, r, b]);
        fused.setWeights([w, r, b]);
        assert.deepEqual(
          fused.weights.map((v) => [v.name.split("/").pop()!.replace(/_\d+$/, ""), v.shape]),
          ref.weights.map((v) => [v.name.split("/").pop()!.replace(/_\d+$/, ""), v.shape]),
        );
        const want = layerGrads(ref, x, dy);
        const got = layerGrads(fused, x, dy);
        ["loss", "dx", "dkernel", "drecurrent", "dbias"].forEach((n, i) =>
          assertClose(got[i]!, want[i]!, n)
        );
        assertClose(
          fused.apply(x) as tf.Tensor,
          ref.apply(x) as tf.Tensor,
          "output",
        );
        tf.dispose([x, w, r, b, dy, ...want, ...got]);
      },
    });
  }
}

Deno.test("FusedLstm applies recurrent dropout only in training, repeatably per seed", () => {
  const x = tf.randomNormal([B, T, D], 0, 1, "float32", 3);
  const make = () => {
    const l = new FusedLstm({
      units: U,
      returnSequences: true,
      recurrentDropout: 0.5,
      seed: 9,
      implementation: FASTEST,
    });
    l.build([B, T, D]);
    return l;
  };
  const a = make(), b = make();
  const inferA = a.apply(x) as tf.Tensor;
  const inferA2 = a.apply(x) as tf.Tensor;
  assert.deepEqual(inferA.dataSync(), inferA2.dataSync());
  const trainA = a.apply(x, { training: true }) as tf.Tensor;
  const trainB = b.apply(x, { training: true }) as tf.Tensor;
  assert.notDeepEqual(trainA.dataSync(), inferA.dataSync());
  assert.deepEqual(trainA.dataSync(), trainB.dataSync());
  const trainA2 = a.apply(x, { training: true }) as tf.Tensor;
  assert.notDeepEqual(trainA2.dataSync(), trainA.dataSync());
});

Deno.test("recurrentMask() zeroes about `rate` of the entries and scales the rest", () => {
  const m = recurrentMask(64, 256, 0.3, 1, 0);
  const zeros = m.filter((v) => v === 0).length / m.length;
  assert.ok(Math.abs(zeros - 0.3) < 0.02, `dropped ${zeros}`);
  assert.ok(m.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
  assert.deepEqual(m, recurrentMask(64, 256, 0.3, 1, 0));
  assert.notDeepEqual(m, recurrentMask(64, 256, 0.3, 1, 1));
});

Deno.test("expFast(), and tanh through it as the JS gates compute it, are accurate to float32 precision", () => {
  for (let x = -30; x <= 30; x += 0.0137) {
    const e = Math.exp(x);
    assert.ok(Math.abs(expFast(x) - e) <= 1e-7 * e, `exp(${x})`);
    const tanh = 1 - 2 / (1 + expFast(2 * x)); // the cell gate's and the cell output's tanh
    assert.ok(Math.abs(tanh - Math.tanh(x)) <= 1e-7, `tanh(${x})`);
  }
});

Deno.test("a model with FusedLstm saves as tfjs's LSTM and plain tfjs loads it with the same predictions", async () => {
  const build = () => {
    const m = tf.sequential();
    m.add(
      new FusedLstm({
        units: 8,
        returnSequences: true,
        recurrentDropout: 0.3,
        recurrentActivation: "sigmoid",
        unitForgetBias: true,
        seed: 4,
        inputShape: [T, 1],
        name: "lstm_1",
        implementation: FASTEST,
      }),
    );
    m.add(new FusedLstm({ units: 8, seed: 6, name: "lstm_2", implementation: FASTEST }));
    m.add(tf.layers.dense({ units: 3, activation: "softmax", name: "dense" }));
    return m;
  };
  const model = build();
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    saved = artifacts;
    return Promise.resolve({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    });
  }));
  assert.ok(saved?.weightSpecs && saved.weightData);
  const topology = JSON.stringify(saved.modelTopology);
  assert.ok(!topology.includes("FusedLstm"), topology);
  assert.deepEqual(saved.weightSpecs.slice(0, 3).map((s) => s.name), [
    "lstm_1/kernel",
    "lstm_1/recurrent_kernel",
    "lstm_1/bias",
  ]);
  // The same model built from tf.layers.lstm writes the same topology, key for key.
  const twin = tf.sequential();
  twin.add(tf.layers.lstm({
    units: 8,
    returnSequences: true,
    recurrentDropout: 0.3,
    recurrentActivation: "sigmoid",
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: 5 }),
    inputShape: [T, 1],
    name: "lstm_1",
  }));
  const lstm1 = (saved.modelTopology as { config: { layers: unknown[] } }).config.layers[0];
  assert.deepEqual(
    lstm1,
    (twin.toJSON(null, false) as { config: { layers: unknown[] } })
      .config.layers[0],
  );
  const loaded = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: saved.modelTopology,
      weightSpecs: saved.weightSpecs,
      weightData: saved.weightData,
    }),
  );
  const layer = loaded.layers[0]!;
  assert.ok(!(layer instanceof FusedLstm));
  assert.equal(layer.getClassName(), "LSTM");
  const config = layer.getConfig();
  assert.equal(config["recurrentDropout"], 0.3);
  assert.equal(config["recurrentActivation"], "sigmoid");
  const x = tf.randomNormal([2, T, 1], 0, 1, "float32", 11);
  const a = model.predict(x) as tf.Tensor, b = loaded.predict(x) as tf.Tensor;
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
  assert.ok(diff < 1e-5, `predictions differ by ${diff}`);
  // The forget-gate quarter of the first bias starts at one (unitForgetBias).
  const bias = model.layers[0]!.getWeights()[2]!.dataSync();
  assert.deepEqual(Array.from(bias.slice(8, 16)), new Array(8).fill(1));
  assert.deepEqual(Array.from(bias.slice(0, 8)), new Array(8).fill(0));
  tf.dispose([x, a, b]);
  twin.dispose();
});

Deno.test("FusedLstm.fromConfig() reads tfjs LSTM configs, leaving the implementation to the caller", () => {
  const lstm = tf.layers.lstm({
    units: 6,
    returnSequences: true,
    recurrentDropout: 0.2,
    recurrentActivation: "sigmoid",
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }),
    name: "lstm_x",
  });
  const fromLstm = FusedLstm.fromConfig(FusedLstm, lstm.getConfig()) as FusedLstm;
  assert.deepEqual(
    [fromLstm.name, fromLstm.units, fromLstm.returnSequences, fromLstm.recurrentDropout],
    ["lstm_x", 6, true, 0.2],
  );
  assert.deepEqual([fromLstm.recurrentActivation, fromLstm.unitForgetBias, fromLstm.seed], [
    "sigmoid",
    true,
    12,
  ]);
  assert.equal(fromLstm.implementation, null);
  assert.throws(
    () => fromLstm.apply(tf.zeros([1, 2, 3])),
    /Cannot run FusedLstm layer lstm_x: it was given no implementation/,
  );
  assert.throws(
    () => FusedLstm.fromConfig(FusedLstm, { ...lstm.getConfig(), activation: "relu" }),
    /Cannot load LSTM layer lstm_x as FusedLstm: activation relu/,
  );
});

Deno.test("a profiler handed to FusedLstm sees its products, gates and copies", () => {
  const profiler = new LstmProfiler();
  const layer = new FusedLstm({ units: 64, returnSequences: true, implementation: FASTEST });
  layer.profiler = profiler;
  // Big enough that every part takes a measurable time.
  const x = tf.randomNormal([16, 40, 8], 0, 1, "float32", 5);
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const p = profiler.snapshot();
  assert.ok(p.gemm > 0 && p.transfer > 0 && p.gatesForward > 0, JSON.stringify(p));
  profiler.reset();
  assert.deepEqual(profiler.snapshot(), {
    transfer: 0,
    gemm: 0,
    gatesForward: 0,
    gatesBackward: 0,
  });
  tf.dispose([x, y]);
});

Deno.test({
  name:
    "the native loops split over two threads give the bits of one thread, and the tf-ops LSTM's values",
  ignore: !NATIVE,
  fn: () => {
    const gates = NATIVE!.gates!;
    const before = gates.threads;
    const units = 40; // split at 16: unequal halves
    try {
      for (const batch of [3, 1]) {
        for (const returnSequences of [true, false]) {
          const run = (threads: number) =>
            tf.tidy(() => {
              gates.setThreads(threads, 32);
              const x = tf.randomNormal([batch, T, D], 0, 1, "float32", 3);
              const w = tf.randomNormal([D, 4 * units], 0, 0.5, "float32", 4);
              const r = tf.randomNormal([units, 4 * units], 0, 0.5, "float32", 5);
              const b = tf.randomNormal([4 * units], 0, 0.5, "float32", 6);
              const shape = returnSequences ? [batch, T, units] : [batch, units];
              const dy = tf.randomNormal(shape, 0, 1, "float32", 7);
              const mask = recurrentMask(batch, units, 0.3, 5, 0);
              const f = (x: tf.Tensor, w: tf.Tensor, r: tf.Tensor, b: tf.Tensor) =>
                fusedLstm(x, w, r, b, {
                  returnSequences,
                  gateActivation: "sigmoid",
                  mask,
                  implementation: NATIVE!,
                });
              const y = f(x, w, r, b);
              const grads = tf.grads((x, w, r, b) => tf.sum(tf.mul(f(x!, w!, r!, b!), dy)))([
                x,
                w,
                r,
                b,
              ]);
              const reference = referenceLstm(x, w, r, b, returnSequences, "sigmoid", mask);
              assertClose(y, reference, "output");
              return [y, ...grads].map((t) => Array.from(t.dataSync()));
            });
          assert.deepEqual(run(2), run(1), `batch ${batch}, returnSequences ${returnSequences}`);
        }
      }
    } finally {
      gates.setThreads(before, 128);
    }
  },
});
