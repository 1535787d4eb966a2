/**
 * A fused LSTM layer: the same weights and arithmetic as tf.layers.lstm, computed in a few large
 * matrix products and tight loops instead of tfjs's dozen small ops per time step. tfjs's LSTM
 * spends most of a training step in per-step kernel launches and transposed BatchMatMuls; here
 * the input projection of all time steps is one product, each step adds one product for the
 * recurrence, and the backward pass accumulates the weight gradients of all steps in one product.
 * Products run on OpenBLAS when it loads (model/blas.ts) and on tfjs's matMul otherwise, so the
 * layer always works; only its speed depends on the machine. With BLAS, the per-step loop
 * (recurrent product and gate arithmetic) runs in C (native/lstm_gates.c, model/lstm_native.ts)
 * when a C compiler could build it, else in the JS loops below.
 *
 * Layout and semantics follow tf.layers.lstm (Keras): gate order i, f, c, o; `kernel`
 * [inputDim, 4u], `recurrent_kernel` [u, 4u], `bias` [4u]; weights named `<layer>/kernel` and so
 * on, in that order, so weights copy across and checkpoints keep their names. Recurrent dropout
 * draws ONE mask per batch of sequences for the recurrent state h (as tfjs does), applied only in
 * training, from the layer's seed and a call counter, so a run is repeatable.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Gemm, loadBlas } from "./blas.ts";
import { loadNativeLstm, type NativeLstm, nativeLstmFailure } from "./lstm_native.ts";
import { seededRandom } from "../core/random.ts";

/** The gate activation: Keras's `sigmoid`, or tfjs's default `hardSigmoid`. */
export type GateActivation = "sigmoid" | "hardSigmoid";

/** Which matrix product the layer runs on: `auto` takes BLAS when it loads. */
export type FusedGemmChoice = "auto" | "blas" | "tfjs";

/**
 * Where the recurrent loop (per-step product and gate arithmetic) runs: `native` is
 * native/lstm_gates.c on OpenBLAS, `js` the loops in this file; `auto` takes native when it
 * builds and loads and the products run on BLAS.
 */
export type FusedGatesChoice = "auto" | "native" | "js";

/** Options of {@link fusedLstm}, the differentiable op under the layer. */
export interface FusedLstmOptions {
  returnSequences: boolean;
  gateActivation: GateActivation;
  /** Recurrent dropout mask [batch, units] (already scaled by 1/(1-rate)), or null for none. */
  mask: Float32Array | null;
  gemm: Gemm;
  /**
   * Runs the recurrent loop in C (per-step products on the BLAS it was bound to, gates
   * vectorised) instead of the JS loops below; `gemm` still makes the big products.
   */
  native?: NativeLstm | null;
  /** Reuses scratch buffers across calls of one layer; optional. */
  pool?: WorkspacePool;
}

// ---------------------------------------------------------------------------------------------
// Elementwise maths. Math.exp and Math.tanh cost 10–20 ns each in V8, which for two layers of
// 256 units, batch 32 and 100 steps is about 100 ms per forward pass: more than the products.
// A range reduction to 2^n · e^u with a degree-7 polynomial is accurate to ~1e-8 (well below
// float32's resolution) and several times faster.

const LOG2E_64 = 64 * 1.4426950408889634;
const LN2_64 = 0.6931471805599453 / 64;
/** 2^(i - 128) for the integer part and 2^(k/64) for the fraction's top six bits. */
const EXP_HI = new Float64Array(256);
for (let i = 0; i < 256; i++) EXP_HI[i] = 2 ** (i - 128);
const EXP_LO = new Float64Array(64);
for (let k = 0; k < 64; k++) EXP_LO[k] = 2 ** (k / 64);

/**
 * e^x for |x| ≤ 80 (clamped beyond), relative error below 1e-9: x·log2(e) is split into an
 * integer, a sixty-fourth and a remainder |u| ≤ ln2/128, whose e^u needs only a cubic.
 */
export function expFast(x: number): number {
  // t > 0 throughout the clamped range, so `| 0` rounds to the nearest 1/64 without Math.floor.
  let t = x * LOG2E_64 + 8192.5;
  if (t < 768) t = 768;
  else if (t > 15616) t = 15616;
  const n = t | 0;
  const u = (t - 0.5 - n) * LN2_64;
  const p = 1 + u * (1 + u * (0.5 + u * (1 / 6)));
  return p * EXP_HI[n >> 6]! * EXP_LO[n & 63]!;
}

/** tanh via e^(2x); absolute error about 1e-8 near 0, which is all float32 keeps anyway. */
export function tanhFast(x: number): number {
  return 1 - 2 / (1 + expFast(2 * x));
}

// ---------------------------------------------------------------------------------------------
// Scratch buffers. A training step allocates ~20 MB of gate and state buffers per layer; reusing
// them avoids zero-filling that memory every call. A forward pass takes a workspace and its
// backward pass hands it back; a forward pass without backward (inference) just drops it.

interface Workspace {
  key: string;
  /** Gate pre-activations, then activations, then (in backward) gate gradients: [B·T, 4u]. */
  g: Float32Array;
  /** Cell states c_t: [B, T, u]. */
  c: Float32Array;
  /** tanh(c_t): [B, T, u]. */
  tc: Float32Array;
  /** Masked previous state mask ⊙ h_{t-1}, zero at t = 0: [B, T, u]. */
  p: Float32Array;
  /** Views of `p` and `g` starting at time step t of batch row 0, made once per workspace. */
  pAt: Float32Array[];
  gAt: Float32Array[];
  /** Running recurrent gradients dh and dc: [B, u]. */
  dh: Float32Array;
  dc: Float32Array;
  /** Ones [B·T], for the bias gradient as a product. */
  ones: Float32Array;
  /** The recurrent kernel transposed, [4u, u]. */
  rT: Float32Array;
}

/** A small free list of workspaces for one layer. */
export class WorkspacePool {
  #free: Workspace[] = [];

  take(b: number, t: number, u: number): Workspace {
    const key = `${b}x${t}x${u}`;
    const i = this.#free.findIndex((w) => w.key === key);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    const g = new Float32Array(b * t * 4 * u);
    const p = new Float32Array(b * t * u);
    const pAt: Float32Array[] = [];
    const gAt: Float32Array[] = [];
    for (let s = 0; s < t; s++) {
      pAt.push(p.subarray(s * u));
      gAt.push(g.subarray(s * 4 * u));
    }
    return {
      key,
      g,
      c: new Float32Array(b * t * u),
      tc: new Float32Array(b * t * u),
      p,
      pAt,
      gAt,
      dh: new Float32Array(b * u),
      dc: new Float32Array(b * u),
      ones: new Float32Array(b * t).fill(1),
      rT: new Float32Array(4 * u * u),
    };
  }

  give(w: Workspace): void {
    if (this.#free.length < 2) this.#free.push(w);
  }
}

// ---------------------------------------------------------------------------------------------
// Profiling, for bench/train_step_bench.ts: where a fused step spends its time.

/** Milliseconds spent in each part of the fused layers since the last reset. */
export interface FusedLstmProfile {
  /** Copying tensors in and out of tfjs (dataSync, tensor creation). */
  transfer: number;
  /** Matrix products (BLAS or the tfjs fallback). */
  gemm: number;
  /** Gate arithmetic of the forward pass. */
  gatesForward: number;
  /** Gate arithmetic of the backward pass (and the dropout mask on dh). */
  gatesBackward: number;
}

let profile: FusedLstmProfile | null = null;

/** Starts (or restarts) collecting a {@link FusedLstmProfile}; `false` stops. */
export function profileFusedLstm(on: boolean): void {
  profile = on ? { transfer: 0, gemm: 0, gatesForward: 0, gatesBackward: 0 } : null;
}

/** The profile collected since {@link profileFusedLstm}(true), or null when off. */
export function fusedLstmProfile(): FusedLstmProfile | null {
  return profile && { ...profile };
}

function timed(gemm: Gemm): Gemm {
  return (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    const t0 = performance.now();
    gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (profile) profile.gemm += performance.now() - t0;
  };
}

const NO_MASK = new Float32Array(0);

/**
 * The gate arithmetic of forward step t for every batch row, in place: pre-activations in `g`
 * (plus bias) become activations; writes c_t, tanh(c_t), mask ⊙ h_t into `p` at t + 1 and h_t
 * into `out`. A function of its own so V8 optimises it as a whole (a 100-step loop in a long
 * function only gets on-stack replacement, which ran it ~3x slower).
 */
function forwardStep(
  g: Float32Array,
  bs: Float32Array,
  c: Float32Array,
  tc: Float32Array,
  p: Float32Array,
  out: Float32Array,
  mask: Float32Array,
  B: number,
  T: number,
  U: number,
  t: number,
  hard: boolean,
  returnSequences: boolean,
): void {
  const G4 = 4 * U;
  const masked = mask.length > 0;
  const last = t === T - 1;
  for (let b = 0; b < B; b++) {
    const gr = (b * T + t) * G4;
    const sr = (b * T + t) * U;
    const mr = b * U;
    for (let j = 0; j < U; j++) {
      const zi = g[gr + j]! + bs[j]!;
      const zf = g[gr + U + j]! + bs[U + j]!;
      const zc = g[gr + 2 * U + j]! + bs[2 * U + j]!;
      const zo = g[gr + 3 * U + j]! + bs[3 * U + j]!;
      let ig: number, fg: number, gg: number, og: number;
      if (hard) {
        ig = Math.min(1, Math.max(0, 0.2 * zi + 0.5));
        fg = Math.min(1, Math.max(0, 0.2 * zf + 0.5));
        og = Math.min(1, Math.max(0, 0.2 * zo + 0.5));
        gg = 1 - 2 / (1 + expFast(2 * zc));
      } else {
        // Four reciprocals from one division: divisions, not exponentials, bound this loop.
        // Each denominator is at most 1 + e^80, so their product stays far below 1e308.
        const di = 1 + expFast(-zi), df = 1 + expFast(-zf);
        const dg = 1 + expFast(2 * zc), dO = 1 + expFast(-zo);
        const dif = di * df, dgo = dg * dO;
        const inv = 1 / (dif * dgo);
        ig = inv * df * dgo;
        fg = inv * di * dgo;
        gg = 1 - 2 * inv * dif * dO;
        og = inv * dif * dg;
      }
      const cp = t > 0 ? c[sr - U + j]! : 0;
      const ct = fg * cp + ig * gg;
      const tct = 1 - 2 / (1 + expFast(2 * ct));
      const h = og * tct;
      g[gr + j] = ig;
      g[gr + U + j] = fg;
      g[gr + 2 * U + j] = gg;
      g[gr + 3 * U + j] = og;
      c[sr + j] = ct;
      tc[sr + j] = tct;
      if (!last) p[sr + U + j] = masked ? h * mask[mr + j]! : h;
      if (returnSequences) out[sr + j] = h;
      else if (last) out[mr + j] = h;
    }
  }
}

/**
 * The gate arithmetic of backward step t, in place: activations in `g` become gradients of the
 * pre-activations (dZ); `dh` (recurrent part, from step t + 1) and `dc` carry the state.
 */
function backwardStep(
  g: Float32Array,
  c: Float32Array,
  tc: Float32Array,
  dy: Float32Array,
  dh: Float32Array,
  dc: Float32Array,
  B: number,
  T: number,
  U: number,
  t: number,
  hard: boolean,
  returnSequences: boolean,
): void {
  const G4 = 4 * U;
  for (let b = 0; b < B; b++) {
    const gr = (b * T + t) * G4;
    const sr = (b * T + t) * U;
    const mr = b * U;
    const yr = returnSequences ? sr : (t === T - 1 ? mr : -1);
    for (let j = 0; j < U; j++) {
      const dht = dh[mr + j]! + (yr >= 0 ? dy[yr + j]! : 0);
      const ig = g[gr + j]!;
      const fg = g[gr + U + j]!;
      const gg = g[gr + 2 * U + j]!;
      const og = g[gr + 3 * U + j]!;
      const tct = tc[sr + j]!;
      const dct = dc[mr + j]! + dht * og * (1 - tct * tct);
      const cp = t > 0 ? c[sr - U + j]! : 0;
      dc[mr + j] = dct * fg;
      const dzc = dct * ig * (1 - gg * gg);
      let dzi: number, dzf: number, dzo: number;
      if (hard) {
        dzi = ig > 0 && ig < 1 ? 0.2 * dct * gg : 0;
        dzf = fg > 0 && fg < 1 ? 0.2 * dct * cp : 0;
        dzo = og > 0 && og < 1 ? 0.2 * dht * tct : 0;
      } else {
        dzi = dct * gg * ig * (1 - ig);
        dzf = dct * cp * fg * (1 - fg);
        dzo = dht * tct * og * (1 - og);
      }
      g[gr + j] = dzi;
      g[gr + U + j] = dzf;
      g[gr + 2 * U + j] = dzc;
      g[gr + 3 * U + j] = dzo;
    }
  }
}

/** The backward recurrence in JS: activations in `g` become dZ for every step. */
function backwardLoop(
  g: Float32Array,
  c: Float32Array,
  tc: Float32Array,
  dy: Float32Array,
  dh: Float32Array,
  dc: Float32Array,
  rT: Float32Array,
  rs: Float32Array,
  mask: Float32Array | null,
  gAt: Float32Array[],
  gemm: Gemm,
  B: number,
  T: number,
  U: number,
  hard: boolean,
  returnSequences: boolean,
): void {
  const G4 = 4 * U;
  // Rᵀ once, so the 100 per-step products dZ_t·Rᵀ run untransposed (~25% faster in OpenBLAS).
  for (let i = 0; i < U; i++) {
    for (let k = 0; k < G4; k++) rT[k * U + i] = rs[i * G4 + k]!;
  }
  dh.fill(0);
  dc.fill(0);
  const t1 = performance.now();
  const gemmBefore = profile?.gemm ?? 0;
  for (let t = T - 1; t >= 0; t--) {
    backwardStep(g, c, tc, dy, dh, dc, B, T, U, t, hard, returnSequences);
    if (t > 0) {
      // dh_{t-1} = mask ⊙ (dZ_t · Rᵀ)
      gemm(false, false, B, U, G4, 1, gAt[t]!, T * G4, rT, U, 0, dh, U);
      if (mask) { for (let k = 0; k < B * U; k++) dh[k]! *= mask[k]!; }
    }
  }
  if (profile) profile.gatesBackward += performance.now() - t1 - (profile.gemm - gemmBefore);
}

// ---------------------------------------------------------------------------------------------
// The op.

/**
 * The LSTM over a whole batch of sequences as one differentiable tfjs op with its own gradient.
 * `x` is [batch, time, inputDim]; returns [batch, time, units] or [batch, units].
 */
export function fusedLstm(
  x: tf.Tensor,
  kernel: tf.Tensor,
  recurrentKernel: tf.Tensor,
  bias: tf.Tensor,
  opts: FusedLstmOptions,
): tf.Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const [xt, wt, rt, bt] = args as tf.Tensor[];
    return fusedForward(xt!, wt!, rt!, bt!, opts);
  });
  return op(x, kernel, recurrentKernel, bias);
}

function fusedForward(
  x: tf.Tensor,
  w: tf.Tensor,
  r: tf.Tensor,
  bias: tf.Tensor,
  opts: FusedLstmOptions,
): { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor[] } {
  const [B, T, D] = x.shape as [number, number, number];
  const U = r.shape[0] as number;
  const G4 = 4 * U;
  const { mask, returnSequences } = opts;
  const gemm = profile ? timed(opts.gemm) : opts.gemm;
  let t0 = performance.now();
  const hard = opts.gateActivation === "hardSigmoid";
  if (mask && mask.length !== B * U) {
    throw new RangeError(
      `Cannot apply a recurrent dropout mask of ${mask.length} values: expected ${B * U}`,
    );
  }
  const xs = x.dataSync() as Float32Array;
  const ws = w.dataSync() as Float32Array;
  const rs = r.dataSync() as Float32Array;
  const bs = bias.dataSync() as Float32Array;
  const pool = opts.pool ?? new WorkspacePool();
  const work = pool.take(B, T, U);
  const { g, c, tc, p, pAt, gAt } = work;
  const out = new Float32Array(returnSequences ? B * T * U : B * U);
  if (profile) profile.transfer += performance.now() - t0;

  // Input projections of every time step in one product: G = X · W.
  gemm(false, false, B * T, G4, D, 1, xs, D, ws, G4, 0, g, G4);
  const native = opts.native ?? null;
  const shape = { B, T, U, hard, returnSequences };
  if (native) {
    const took = native.forward({ ...shape, r: rs, bias: bs, g, c, tc, p, out, mask });
    if (profile) {
      profile.gemm += took.gemm;
      profile.gatesForward += took.gates;
    }
  } else {
    t0 = performance.now();
    const gemmBefore = profile?.gemm ?? 0;
    for (let t = 0; t < T; t++) {
      const gt = gAt[t]!;
      // The recurrence: G_t += (mask ⊙ h_{t-1}) · R; h_0 = 0, so step 0 has none.
      if (t > 0) gemm(false, false, B, G4, U, 1, pAt[t]!, T * U, rs, G4, 1, gt, T * G4);
      forwardStep(g, bs, c, tc, p, out, mask ?? NO_MASK, B, T, U, t, hard, returnSequences);
    }
    if (profile) profile.gatesForward += performance.now() - t0 - (profile.gemm - gemmBefore);
  }
  // p at step 0 holds h_0 = 0: the loop above only ever writes steps ≥ 1, so it stays zero.
  t0 = performance.now();
  const value = returnSequences ? tf.tensor3d(out, [B, T, U]) : tf.tensor2d(out, [B, U]);
  if (profile) profile.transfer += performance.now() - t0;

  const gradFunc = (dyT: tf.Tensor): tf.Tensor[] => {
    let t1 = performance.now();
    const dy = dyT.dataSync() as Float32Array;
    if (profile) profile.transfer += performance.now() - t1;
    const { dh, dc, rT } = work;
    if (native) {
      const took = native.backward({ ...shape, r: rs, rT, g, c, tc, dy, dh, dc, mask });
      if (profile) {
        profile.gemm += took.gemm;
        profile.gatesBackward += took.gates;
      }
    } else {
      backwardLoop(g, c, tc, dy, dh, dc, rT, rs, mask, gAt, gemm, B, T, U, hard, returnSequences);
    }
    // Weight gradients of all steps at once: dR = Pᵀ·dZ, dW = Xᵀ·dZ, db = 1ᵀ·dZ; dX = dZ·Wᵀ.
    const dr = new Float32Array(U * G4);
    gemm(true, false, U, G4, B * T, 1, p, U, g, G4, 0, dr, G4);
    const dw = new Float32Array(D * G4);
    gemm(true, false, D, G4, B * T, 1, xs, D, g, G4, 0, dw, G4);
    const db = new Float32Array(G4);
    gemm(false, false, 1, G4, B * T, 1, work.ones, B * T, g, G4, 0, db, G4);
    const dx = new Float32Array(B * T * D);
    gemm(false, true, B * T, D, G4, 1, g, G4, ws, G4, 0, dx, D);
    pool.give(work);
    t1 = performance.now();
    const grads = [
      tf.tensor3d(dx, [B, T, D]),
      tf.tensor2d(dw, [D, G4]),
      tf.tensor2d(dr, [U, G4]),
      tf.tensor1d(db),
    ];
    if (profile) profile.transfer += performance.now() - t1;
    return grads;
  };
  return { value, gradFunc };
}

// ---------------------------------------------------------------------------------------------
// The matrix product without BLAS.

/** Copies a strided row-major matrix into a dense one, or views it when it already is dense. */
function dense(a: Float32Array, rows: number, cols: number, ld: number): Float32Array {
  if (ld === cols) return a.subarray(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(a.subarray(i * ld, i * ld + cols), i * cols);
  return out;
}

/**
 * {@link Gemm} on tfjs's matMul (whatever backend is active): the fallback when OpenBLAS is not
 * there. Same fused structure, so its speed is that of one backend matMul per step.
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

/** The product a layer will use for `choice`; `blas` throws when OpenBLAS is missing. */
export function gemmFor(choice: FusedGemmChoice): Gemm {
  if (choice === "tfjs") return tfjsGemm;
  const blas = loadBlas();
  if (blas) return blas.sgemm;
  if (choice === "blas") throw new Error("Cannot use the BLAS LSTM kernel: OpenBLAS did not load");
  return tfjsGemm;
}

/**
 * The native loops a layer will use for `choice` with product `gemm`, or null for the JS loops.
 * Native needs the products on OpenBLAS (the C code calls it); `native` throws without it.
 */
export function nativeFor(choice: FusedGatesChoice, gemm: Gemm): NativeLstm | null {
  if (choice === "js") return null;
  const blas = loadBlas();
  const native = blas && gemm === blas.sgemm ? loadNativeLstm(blas) : null;
  if (!native && choice === "native") {
    const why = blas && gemm === blas.sgemm
      ? nativeLstmFailure()
      : "the matrix products do not run on OpenBLAS";
    throw new Error(`Cannot use the native LSTM gates: ${why}`);
  }
  return native;
}

// ---------------------------------------------------------------------------------------------
// Recurrent dropout masks.

/**
 * The recurrent dropout mask for one call: each of batch·units entries is 0 with probability
 * `rate`, else 1/(1-rate) (inverted dropout, as tfjs scales). Deterministic in (seed, counter).
 */
export function recurrentMask(
  batch: number,
  units: number,
  rate: number,
  seed: number,
  counter: number,
): Float32Array {
  // Mix the counter into the seed (splitmix-style) so consecutive calls are unrelated.
  let s = (seed ^ Math.imul(counter + 1, 0x9e3779b9)) >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  const rng = seededRandom((s ^ (s >>> 16)) >>> 0);
  const keep = 1 / (1 - rate);
  const m = new Float32Array(batch * units);
  for (let i = 0; i < m.length; i++) m[i] = rng() < rate ? 0 : keep;
  return m;
}

// ---------------------------------------------------------------------------------------------
// The layer.

/** Constructor arguments of {@link FusedLstm}; everything but `units` has tfjs's default. */
export interface FusedLstmArgs {
  units: number;
  returnSequences?: boolean;
  recurrentDropout?: number;
  /** Seeds the initialisers (kernel: seed, recurrent kernel: seed + 1) and the dropout masks. */
  seed?: number;
  /** tf.layers.lstm's default is hardSigmoid; Keras and PyTorch use sigmoid. */
  recurrentActivation?: GateActivation;
  /** Adds 1 to the forget gate's initial bias (Keras's default; tfjs's default is false). */
  unitForgetBias?: boolean;
  /** `tfjs` forces the fallback product (tests, comparisons); `auto` takes BLAS when it loads. */
  gemm?: FusedGemmChoice;
  /** `js` forces the JS loops (tests, comparisons); `auto` takes native/lstm_gates.c. */
  gates?: FusedGatesChoice;
  inputShape?: number[];
  batchInputShape?: number[];
  name?: string;
  trainable?: boolean;
  dtype?: tf.DataType;
}

/**
 * The fused LSTM as a tfjs Layers layer. It saves itself as tfjs's `LSTM` (see getConfig), and
 * stays registered as `FusedLstm` so that checkpoints written under that name still load.
 */
export class FusedLstm extends tf.layers.Layer {
  static className = "FusedLstm";
  readonly units: number;
  readonly returnSequences: boolean;
  readonly recurrentDropout: number;
  readonly seed: number;
  readonly recurrentActivation: GateActivation;
  readonly unitForgetBias: boolean;
  readonly gemmChoice: FusedGemmChoice;
  readonly gatesChoice: FusedGatesChoice;
  #gemm: Gemm | null = null;
  #gates: FusedGatesChoice;
  /** The native loops, null for JS; undefined until first needed. */
  #native: NativeLstm | null | undefined = undefined;
  #pool = new WorkspacePool();
  /** Training calls so far: the second half of each dropout mask's seed. */
  #calls = 0;
  /** A mask that replaces the random one in every call (tests only). */
  #fixedMask: Float32Array | null = null;
  private kernel: tf.LayerVariable | null = null;
  private recurrentKernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: FusedLstmArgs) {
    super(args);
    this.units = args.units;
    this.returnSequences = args.returnSequences ?? false;
    this.recurrentDropout = Math.min(1, Math.max(0, args.recurrentDropout ?? 0));
    this.seed = args.seed ?? 0;
    this.recurrentActivation = args.recurrentActivation ?? "hardSigmoid";
    this.unitForgetBias = args.unitForgetBias ?? false;
    this.gemmChoice = args.gemm ?? "auto";
    this.gatesChoice = args.gates ?? "auto";
    this.#gates = this.gatesChoice;
    this.inputSpec = [{ ndim: 3 }];
  }

  /** The product this layer runs on: "blas" or "tfjs". */
  get gemmName(): "blas" | "tfjs" {
    return this.gemm() === tfjsGemm ? "tfjs" : "blas";
  }

  private gemm(): Gemm {
    return this.#gemm ??= gemmFor(this.gemmChoice);
  }

  /** Switches the matrix product (benchmarks compare BLAS with the tfjs fallback). */
  setGemm(choice: FusedGemmChoice): void {
    this.#gemm = gemmFor(choice);
    this.#native = undefined;
  }

  /** Where the recurrent loop runs: "native" (C on OpenBLAS) or "js". */
  get gatesName(): "native" | "js" {
    return this.native() ? "native" : "js";
  }

  private native(): NativeLstm | null {
    if (this.#native === undefined) this.#native = nativeFor(this.#gates, this.gemm());
    return this.#native;
  }

  /** Switches the recurrent loop between C and JS (benchmarks and tests compare them). */
  setGates(choice: FusedGatesChoice): void {
    this.#gates = choice;
    this.#native = nativeFor(choice, this.gemm());
  }

  /**
   * Replaces the recurrent dropout mask of every following call by `mask` ([batch·units],
   * already scaled), or restores random masks with `null`. For equivalence tests.
   */
  setFixedRecurrentMask(mask: Float32Array | null): void {
    this.#fixedMask = mask;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1] as number;
    const u = this.units;
    this.kernel = this.addWeight(
      "kernel",
      [inputDim, 4 * u],
      "float32",
      tf.initializers.glorotUniform({ seed: this.seed }),
    );
    this.recurrentKernel = this.addWeight(
      "recurrent_kernel",
      [u, 4 * u],
      "float32",
      tf.initializers.orthogonal({ seed: this.seed + 1 }),
    );
    this.bias = this.addWeight("bias", [4 * u], "float32", tf.initializers.zeros());
    if (this.unitForgetBias) {
      // tfjs does not export its Initializer base class, so set the forget quarter here.
      const v = new Float32Array(4 * u).fill(1, u, 2 * u);
      const t = tf.tensor1d(v);
      this.bias.write(t);
      t.dispose();
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return this.returnSequences ? [s[0]!, s[1]!, this.units] : [s[0]!, this.units];
  }

  /**
   * Restarts the recurrent-dropout masks for `epoch`: each epoch's masks depend only on (seed,
   * epoch, step), so a training run resumed at an epoch draws what an uninterrupted one would.
   */
  startEpoch(epoch: number): void {
    this.#calls = epoch * 0x100000;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    // The kernels read raw float32 memory; anything else would be misread (or overrun).
    if (x.dtype !== "float32") {
      throw new TypeError(`Cannot run FusedLstm on ${x.dtype} input: it takes float32 tensors`);
    }
    if (kwargs["initialState"] !== undefined || kwargs["mask"] != null) {
      throw new TypeError(
        "Cannot run FusedLstm with an initial state or a mask: use tf.layers.lstm",
      );
    }
    const training = kwargs["training"] === true;
    const batch = x.shape[0]!;
    let mask = this.#fixedMask;
    if (!mask && training && this.recurrentDropout > 0 && this.recurrentDropout < 1) {
      mask = recurrentMask(batch, this.units, this.recurrentDropout, this.seed, this.#calls++);
    }
    return fusedLstm(
      x,
      this.kernel!.read(),
      this.recurrentKernel!.read(),
      this.bias!.read(),
      {
        returnSequences: this.returnSequences,
        gateActivation: this.recurrentActivation,
        mask,
        gemm: this.gemm(),
        native: this.native(),
        pool: this.#pool,
      },
    );
  }

  /**
   * Saved as tfjs's own `LSTM` (same weights, names and maths), so a checkpoint loads with
   * plain `tf.loadLayersModel` anywhere, without this module. model/checkpoint.ts swaps the
   * fused layer back in when this project loads one.
   */
  override getClassName(): string {
    return "LSTM";
  }

  /** The config tf.layers.lstm writes for the same layer, key for key. */
  override getConfig(): tf.serialization.ConfigDict {
    // A throwaway tfjs LSTM with this layer's settings writes it; an explicit name means it
    // takes nothing from tfjs's name counters, so saving never shifts other layers' names.
    const base = super.getConfig();
    const twin = tf.layers.lstm({
      name: this.name,
      trainable: this.trainable,
      batchInputShape: base["batchInputShape"] as tf.Shape | undefined,
      dtype: this.dtype,
      units: this.units,
      returnSequences: this.returnSequences,
      recurrentDropout: this.recurrentDropout,
      recurrentActivation: this.recurrentActivation,
      unitForgetBias: this.unitForgetBias,
      kernelInitializer: tf.initializers.glorotUniform({ seed: this.seed }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: this.seed + 1 }),
    });
    return twin.getConfig();
  }

  /**
   * Builds the layer from a saved config: an `LSTM` config (what {@link getConfig} writes,
   * swapped in by model/checkpoint.ts) or the `FusedLstm` config of checkpoints written before
   * the layer saved itself as `LSTM`.
   *
   * @throws {TypeError} for an LSTM config the fused layer cannot compute (another activation,
   * no bias, state, reversed or stateful sequences, input dropout).
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const why = fusedIncompatibility(config);
    if (why) throw new TypeError(`Cannot load LSTM layer ${config["name"]} as FusedLstm: ${why}`);
    const init = config["kernelInitializer"] as { config?: { seed?: unknown } } | undefined;
    const seed = config["seed"] ?? init?.config?.seed ?? 0;
    const args: FusedLstmArgs = {
      name: config["name"] as string | undefined,
      trainable: config["trainable"] as boolean | undefined,
      batchInputShape: config["batchInputShape"] as number[] | undefined,
      dtype: config["dtype"] as tf.DataType | undefined,
      units: config["units"] as number,
      returnSequences: config["returnSequences"] as boolean | undefined,
      recurrentDropout: config["recurrentDropout"] as number | undefined,
      recurrentActivation: config["recurrentActivation"] as GateActivation | undefined,
      unitForgetBias: config["unitForgetBias"] as boolean | undefined,
      seed: typeof seed === "number" ? seed : 0,
      gemm: config["gemm"] === "tfjs" ? "tfjs" : "auto",
    };
    return new cls(args);
  }
}

/**
 * Why a layer config (tfjs's camelCase form) cannot run as {@link FusedLstm}, or "" when it
 * can. The fused layer computes tanh cells with bias, sigmoid or hard-sigmoid gates and
 * recurrent dropout, forwards, without state or input dropout.
 */
export function fusedIncompatibility(config: tf.serialization.ConfigDict): string {
  const activation = config["activation"] ?? "tanh";
  if (activation !== "tanh") return `activation ${activation} (only tanh)`;
  const gate = config["recurrentActivation"] ?? "hardSigmoid";
  if (gate !== "sigmoid" && gate !== "hardSigmoid") return `recurrent activation ${gate}`;
  if (config["useBias"] === false) return "no bias";
  for (const flag of ["returnState", "goBackwards", "stateful"]) {
    if (config[flag] === true) return `${flag} is set`;
  }
  const dropout = config["dropout"];
  if (typeof dropout === "number" && dropout > 0) return `input dropout ${dropout}`;
  if (typeof config["units"] !== "number") return "no units";
  return "";
}
tf.serialization.registerClass(FusedLstm);
