/**
 * The fused LSTM as one differentiable tfjs op: the same arithmetic as tf.layers.lstm, computed
 * in a few large matrix products and tight loops instead of tfjs's dozen small ops per time
 * step. tfjs's LSTM spends most of a training step in per-step kernel launches and transposed
 * BatchMatMuls; here the input projection of all time steps is one product, each step adds one
 * product for the recurrence, and the backward pass accumulates the weight gradients of all
 * steps in one product.
 *
 * This module moves data between tfjs and typed arrays and makes the big products; the
 * per-step loop runs in C or in JS as the {@link FusedLstmImplementation} says.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type BackwardPass,
  type ForwardPass,
  type Workspace,
  WorkspacePool,
} from "./lstm_buffers.ts";
import type { Gemm } from "./gemm.ts";
import type { FusedLstmImplementation } from "../lstm_implementation.ts";
import { jsBackward, jsForward } from "./lstm_js_gates.ts";
import type { LstmProfiler } from "./lstm_profile.ts";

/** The gate activation: Keras's `sigmoid`, or tfjs's default `hardSigmoid`. */
export type GateActivation = "sigmoid" | "hardSigmoid";

/** Options of {@link fusedLstm}. */
export interface FusedLstmOptions {
  returnSequences: boolean;
  gateActivation: GateActivation;
  /** Recurrent dropout mask [batch, units] (already scaled by 1/(1-rate)), or null for none. */
  mask: Float32Array | null;
  /** Where the products and the per-step loop run. */
  implementation: FusedLstmImplementation;
  /** Reuses scratch buffers across calls of one layer; optional. */
  pool?: WorkspacePool;
  /** Collects where the time goes; optional. */
  profiler?: LstmProfiler | null;
}

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

/** One call of the op: its sizes, inputs as typed arrays and workspace, kept for its gradient. */
interface FusedCall {
  B: number;
  T: number;
  D: number;
  U: number;
  hard: boolean;
  returnSequences: boolean;
  mask: Float32Array | null;
  gates: FusedLstmImplementation["gates"];
  gemm: Gemm;
  profiler: LstmProfiler | null;
  pool: WorkspacePool;
  work: Workspace;
  xs: Float32Array;
  ws: Float32Array;
  rs: Float32Array;
}

function fusedForward(
  x: tf.Tensor,
  w: tf.Tensor,
  r: tf.Tensor,
  bias: tf.Tensor,
  opts: FusedLstmOptions,
): { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor[] } {
  const profiler = opts.profiler ?? null;
  let t0 = performance.now();
  const call = fusedCall(x, w, r, opts, profiler);
  const { B, T, U, returnSequences } = call;
  const bs = bias.dataSync() as Float32Array;
  const out = new Float32Array(returnSequences ? B * T * U : B * U);
  if (profiler) profiler.transfer += performance.now() - t0;

  runForward(call, bs, out);
  // p at step 0 holds h_0 = 0: the loops only ever write steps ≥ 1, so it stays zero.
  t0 = performance.now();
  const value = returnSequences ? tf.tensor3d(out, [B, T, U]) : tf.tensor2d(out, [B, U]);
  if (profiler) profiler.transfer += performance.now() - t0;
  return { value, gradFunc: (dy) => fusedBackward(call, dy) };
}

/** Sizes, checks and reads the op's inputs and takes a workspace for them. */
function fusedCall(
  x: tf.Tensor,
  w: tf.Tensor,
  r: tf.Tensor,
  opts: FusedLstmOptions,
  profiler: LstmProfiler | null,
): FusedCall {
  const [B, T, D] = x.shape as [number, number, number];
  const U = r.shape[0] as number;
  const { mask, returnSequences } = opts;
  const { gates } = opts.implementation;
  const gemm = profiler ? profiler.timed(opts.implementation.gemm) : opts.implementation.gemm;
  const hard = opts.gateActivation === "hardSigmoid";
  if (mask && mask.length !== B * U) {
    throw new RangeError(
      `Cannot apply a recurrent dropout mask of ${mask.length} values: expected ${B * U}`,
    );
  }
  const xs = x.dataSync() as Float32Array;
  const ws = w.dataSync() as Float32Array;
  const rs = r.dataSync() as Float32Array;
  const pool = opts.pool ?? new WorkspacePool();
  const work = pool.take(B, T, U);
  return { B, T, D, U, hard, returnSequences, mask, gates, gemm, profiler, pool, work, xs, ws, rs };
}

/** The input projections of every step in one product, then the per-step loop into `out`. */
function runForward(call: FusedCall, bs: Float32Array, out: Float32Array): void {
  const { B, T, D, U, gemm, gates, profiler, work } = call;
  const G4 = 4 * U;
  const { g, c, tc, p } = work;
  // Input projections of every time step in one product: G = X · W.
  gemm(false, false, B * T, G4, D, 1, call.xs, D, call.ws, G4, 0, g, G4);
  const { hard, returnSequences, mask } = call;
  const forward: ForwardPass = {
    B,
    T,
    U,
    hard,
    returnSequences,
    r: call.rs,
    bias: bs,
    g,
    c,
    tc,
    p,
    out,
    mask,
  };
  if (gates) {
    const took = gates.forward(forward);
    if (profiler) {
      profiler.gemm += took.gemm;
      profiler.gatesForward += took.gates;
    }
  } else {
    jsForward(forward, work.gAt, work.pAt, gemm, profiler);
  }
}

/** The op's gradient: the per-step loop backwards, then the weight gradients of all steps. */
function fusedBackward(call: FusedCall, dyT: tf.Tensor): tf.Tensor[] {
  const { B, T, U, hard, returnSequences, mask, gates, gemm, profiler, work } = call;
  let t1 = performance.now();
  const dy = dyT.dataSync() as Float32Array;
  if (profiler) profiler.transfer += performance.now() - t1;
  const { dh, dc, rT, g, c, tc } = work;
  const backward: BackwardPass = {
    B,
    T,
    U,
    hard,
    returnSequences,
    r: call.rs,
    rT,
    g,
    c,
    tc,
    dy,
    dh,
    dc,
    mask,
  };
  if (gates) {
    const took = gates.backward(backward);
    if (profiler) {
      profiler.gemm += took.gemm;
      profiler.gatesBackward += took.gates;
    }
  } else {
    jsBackward(backward, work.gAt, gemm, profiler);
  }
  const [dx, dw, dr, db] = weightGradients(call);
  call.pool.give(work);
  t1 = performance.now();
  const grads = [
    tf.tensor3d(dx, [B, T, call.D]),
    tf.tensor2d(dw, [call.D, 4 * U]),
    tf.tensor2d(dr, [U, 4 * U]),
    tf.tensor1d(db),
  ];
  if (profiler) profiler.transfer += performance.now() - t1;
  return grads;
}

/**
 * Weight gradients of all steps at once from the gate gradients in the workspace's g:
 * dR = Pᵀ·dZ, dW = Xᵀ·dZ, db = 1ᵀ·dZ; and dX = dZ·Wᵀ. Returns [dX, dW, dR, db].
 */
function weightGradients(
  call: FusedCall,
): [Float32Array, Float32Array, Float32Array, Float32Array] {
  const { B, T, D, U, gemm, work } = call;
  const G4 = 4 * U;
  const { g, p } = work;
  const dr = new Float32Array(U * G4);
  gemm(true, false, U, G4, B * T, 1, p, U, g, G4, 0, dr, G4);
  const dw = new Float32Array(D * G4);
  gemm(true, false, D, G4, B * T, 1, call.xs, D, g, G4, 0, dw, G4);
  const db = new Float32Array(G4);
  gemm(false, false, 1, G4, B * T, 1, work.ones, B * T, g, G4, 0, db, G4);
  const dx = new Float32Array(B * T * D);
  gemm(false, true, B * T, D, G4, 1, g, G4, call.ws, G4, 0, dx, D);
  return [dx, dw, dr, db];
}
