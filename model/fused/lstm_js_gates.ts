/**
 * The fused LSTM's per-step loop in JS: per time step the recurrent product (on whatever
 * {@link Gemm} the layer runs) and the gate arithmetic. model/fused/lstm_gates.c computes the same in
 * C, its gate arithmetic about four times faster (a whole training step about 1.4 times,
 * BENCHMARKS.md). These loops stay because they are the fast path wherever that file cannot be
 * compiled (OpenBLAS installed but no C compiler: a step still ~40 times faster than
 * tf.layers.lstm, the only other choice there), they are what the fused layer runs on tfjs's
 * matMul (tests on machines without OpenBLAS), and they are the reference the C loops are
 * tested against.
 *
 * They compute in float64 (JS numbers) and the C loops in float32, so the two agree to about
 * 1e-6, not bit for bit: model/lstm_implementation.ts names them differently in stage keys.
 *
 * @module
 */
import type { Gemm } from "./gemm.ts";
import type { BackwardPass, ForwardPass } from "./lstm_buffers.ts";
import type { LstmProfiler } from "./lstm_profile.ts";

// ---------------------------------------------------------------------------------------------
// Elementwise maths. Math.exp and Math.tanh cost 10–20 ns each in V8, which for two layers of
// 256 units, batch 32 and 100 steps is about 100 ms per forward pass: more than the products.
// A range reduction to 2^n · e^u with a degree-3 polynomial is accurate to ~1e-9 (well below
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

// ---------------------------------------------------------------------------------------------
// One time step. Each is a function of its own so V8 optimises it as a whole (a 100-step loop
// in a long function only gets on-stack replacement, which ran it ~3x slower). They take the
// call's buffers as one object, read into locals once per step: as fast as positional
// arguments (bench/train_step_bench.ts), and the buffers cannot be passed in the wrong order.

const NO_MASK = new Float32Array(0);

/**
 * The gate arithmetic of forward step t for every batch row, in place: pre-activations in `g`
 * (plus bias) become activations; writes c_t, tanh(c_t), mask ⊙ h_t into `p` at t + 1 and h_t
 * into `out`.
 */
function forwardStep(pass: ForwardPass, t: number): void {
  const { g, bias: bs, c, tc, p, out, B, T, U, hard, returnSequences } = pass;
  const mask = pass.mask ?? NO_MASK;
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
function backwardStep(pass: BackwardPass, t: number): void {
  const { g, c, tc, dy, dh, dc, B, T, U, hard, returnSequences } = pass;
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

// ---------------------------------------------------------------------------------------------
// The recurrences.

/**
 * The forward recurrence: `g` holds X·W on entry, the gate activations on return. `gAt` and
 * `pAt` are the workspace's per-step views of `g` and `p`. `gemm` may be a profiler's timed
 * product: the time it reports is subtracted from the gates' share.
 */
export function jsForward(
  pass: ForwardPass,
  gAt: Float32Array[],
  pAt: Float32Array[],
  gemm: Gemm,
  profiler: LstmProfiler | null,
): void {
  const { B, T, U, r } = pass;
  const G4 = 4 * U;
  const t0 = performance.now();
  const gemmBefore = profiler?.gemm ?? 0;
  for (let t = 0; t < T; t++) {
    // The recurrence: G_t += (mask ⊙ h_{t-1}) · R; h_0 = 0, so step 0 has none.
    if (t > 0) gemm(false, false, B, G4, U, 1, pAt[t]!, T * U, r, G4, 1, gAt[t]!, T * G4);
    forwardStep(pass, t);
  }
  if (profiler) profiler.gatesForward += performance.now() - t0 - (profiler.gemm - gemmBefore);
}

/** The backward recurrence: the activations in `g` become dZ for every step. */
export function jsBackward(
  pass: BackwardPass,
  gAt: Float32Array[],
  gemm: Gemm,
  profiler: LstmProfiler | null,
): void {
  const { B, T, U, r, rT, dh, dc, mask } = pass;
  const G4 = 4 * U;
  // Rᵀ once, so the 100 per-step products dZ_t·Rᵀ run untransposed (~25% faster in OpenBLAS).
  for (let i = 0; i < U; i++) {
    for (let k = 0; k < G4; k++) rT[k * U + i] = r[i * G4 + k]!;
  }
  dh.fill(0);
  dc.fill(0);
  const t0 = performance.now();
  const gemmBefore = profiler?.gemm ?? 0;
  for (let t = T - 1; t >= 0; t--) {
    backwardStep(pass, t);
    if (t > 0) {
      // dh_{t-1} = mask ⊙ (dZ_t · Rᵀ)
      gemm(false, false, B, U, G4, 1, gAt[t]!, T * G4, rT, U, 0, dh, U);
      if (mask) { for (let k = 0; k < B * U; k++) dh[k]! *= mask[k]!; }
    }
  }
  if (profiler) profiler.gatesBackward += performance.now() - t0 - (profiler.gemm - gemmBefore);
}
