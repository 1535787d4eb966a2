/**
 * The fused LSTM's recurrent loops in C (native/lstm_gates.c): per time step the recurrent
 * OpenBLAS product and the gate arithmetic, one foreign call per layer and pass. The JS loops
 * in model/fused_lstm.ts compute the same thing and remain the fallback: {@link loadNativeLstm}
 * answers `null` (never throws) when the library cannot be built or loaded, and
 * {@link nativeLstmFailure} says why.
 *
 * Typed arrays go to C as they are (Deno passes a buffer's address, no copy).
 *
 * @module
 */
import type { Blas } from "./blas.ts";
import { buildSharedLibrary } from "./native_build.ts";

/** The C source; its sha256 is part of the cached library's name. */
export const LSTM_GATES_SOURCE = new URL("../native/lstm_gates.c", import.meta.url);

const SYMBOLS = {
  lstm_gates_init: { parameters: ["buffer"], result: "i32" },
  lstm_gates_simd: { parameters: [], result: "i32" },
  lstm_forward: {
    parameters: [
      "buffer", // r [U, 4U]
      "buffer", // bias [4U]
      "buffer", // g [B·T, 4U]
      "buffer", // c
      "buffer", // tc
      "buffer", // p
      "buffer", // out
      "buffer", // mask or null
      "buffer", // hbuf [2U]
      "i32", // B
      "i32", // T
      "i32", // U
      "i32", // hard
      "i32", // returnSequences
      "buffer", // prof [2] (ns)
    ],
    result: "void",
  },
  lstm_backward: {
    parameters: [
      "buffer", // r
      "buffer", // rt [4U, U]
      "buffer", // g
      "buffer", // c
      "buffer", // tc
      "buffer", // dy
      "buffer", // dh
      "buffer", // dc
      "buffer", // mask or null
      "buffer", // zbuf [U]
      "i32", // B
      "i32", // T
      "i32", // U
      "i32", // hard
      "i32", // returnSequences
      "buffer", // prof
    ],
    result: "void",
  },
} as const;

/** Sizes and flags of one layer call. */
export interface NativeLstmShape {
  B: number;
  T: number;
  U: number;
  hard: boolean;
  returnSequences: boolean;
}

/** Buffers of the forward recurrence (layouts as in model/fused_lstm.ts's Workspace). */
export interface NativeForwardArgs extends NativeLstmShape {
  r: Float32Array;
  bias: Float32Array;
  /** In: X·W; out: gate activations. */
  g: Float32Array;
  c: Float32Array;
  tc: Float32Array;
  p: Float32Array;
  out: Float32Array;
  mask: Float32Array | null;
}

/** Buffers of the backward recurrence. */
export interface NativeBackwardArgs extends NativeLstmShape {
  r: Float32Array;
  /** Scratch for Rᵀ, 4U·U floats. */
  rT: Float32Array;
  /** In: gate activations; out: dZ. */
  g: Float32Array;
  c: Float32Array;
  tc: Float32Array;
  dy: Float32Array;
  dh: Float32Array;
  dc: Float32Array;
  mask: Float32Array | null;
}

/** Milliseconds the last call spent in products and in the rest (gates, copies). */
export interface NativeTiming {
  gemm: number;
  gates: number;
}

/** The loaded loops. */
export interface NativeLstm {
  /** The shared library that was loaded. */
  path: string;
  /** True when the AVX2+FMA build of the loops runs, false for the baseline one. */
  simd: boolean;
  forward(args: NativeForwardArgs): NativeTiming;
  backward(args: NativeBackwardArgs): NativeTiming;
}

/** Throws unless every buffer holds what the C loops will touch (they trust their sizes). */
function checkSizes(
  what: string,
  a: NativeLstmShape,
  bufs: Record<string, [Float32Array, number]>,
) {
  for (const [name, [buf, need]] of Object.entries(bufs)) {
    if (buf.length < need) {
      throw new RangeError(
        `Cannot run the native LSTM ${what}: ${name} holds ${buf.length} floats, ` +
          `B=${a.B} T=${a.T} U=${a.U} need ${need}`,
      );
    }
  }
}

function commonSizes(a: NativeForwardArgs | NativeBackwardArgs) {
  const { B, T, U } = a;
  const sizes: Record<string, [Float32Array, number]> = {
    r: [a.r, U * 4 * U],
    g: [a.g, B * T * 4 * U],
    c: [a.c, B * T * U],
    tc: [a.tc, B * T * U],
  };
  if (a.mask) sizes["mask"] = [a.mask, B * U];
  return sizes;
}

let cached: NativeLstm | null | undefined;
let lastFailure = "";

/** Why the native loops did not load (empty when they did or were not tried). */
export function nativeLstmFailure(): string {
  return lastFailure;
}

function fail(reason: string): null {
  lastFailure = reason;
  cached = null;
  return null;
}

/**
 * Builds (or finds in the cache) native/lstm_gates.c, opens it and binds it to `blas`, the
 * OpenBLAS that model/blas.ts loaded. Once per process; `null` when anything is missing.
 */
export function loadNativeLstm(blas: Blas): NativeLstm | null {
  if (cached !== undefined) return cached;
  const built = buildSharedLibrary({ source: LSTM_GATES_SOURCE });
  if (!built.ok) return fail(`native/lstm_gates.c did not build: ${built.reason}`);
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(built.path, SYMBOLS);
  } catch (e) {
    return fail(`${built.path} did not load: ${e instanceof Error ? e.message : String(e)}`);
  }
  const s = lib.symbols;
  const status = s.lstm_gates_init(new TextEncoder().encode(blas.path + "\0"));
  if (status !== 0) {
    lib.close();
    return fail(`cblas_sgemm not found in ${blas.path} from native code (status ${status})`);
  }
  const prof = new Float64Array(2);
  const timing = (): NativeTiming => ({ gemm: prof[0]! / 1e6, gates: prof[1]! / 1e6 });
  // Scratch rows the C loops need (h of one row, zero rows), kept per unit count.
  const scratch = new Map<number, Float32Array>();
  const rows = (u: number) => {
    let buf = scratch.get(u);
    if (!buf) scratch.set(u, buf = new Float32Array(2 * u));
    return buf;
  };
  lastFailure = "";
  cached = {
    path: built.path,
    simd: s.lstm_gates_simd() === 1,
    forward(a) {
      const last = a.returnSequences ? a.B * a.T * a.U : a.B * a.U;
      checkSizes("forward", a, {
        ...commonSizes(a),
        bias: [a.bias, 4 * a.U],
        p: [a.p, a.B * a.T * a.U],
        out: [a.out, last],
      });
      // The per-step products are B×4U×U: OpenBLAS runs those best on one thread.
      blas.threadsFor(a.B, 4 * a.U, a.U);
      prof.fill(0);
      s.lstm_forward(
        a.r,
        a.bias,
        a.g,
        a.c,
        a.tc,
        a.p,
        a.out,
        a.mask,
        rows(a.U),
        a.B,
        a.T,
        a.U,
        a.hard ? 1 : 0,
        a.returnSequences ? 1 : 0,
        prof,
      );
      return timing();
    },
    backward(a) {
      checkSizes("backward", a, {
        ...commonSizes(a),
        rT: [a.rT, 4 * a.U * a.U],
        dy: [a.dy, a.returnSequences ? a.B * a.T * a.U : a.B * a.U],
        dh: [a.dh, a.B * a.U],
        dc: [a.dc, a.B * a.U],
      });
      blas.threadsFor(a.B, a.U, 4 * a.U);
      prof.fill(0);
      s.lstm_backward(
        a.r,
        a.rT,
        a.g,
        a.c,
        a.tc,
        a.dy,
        a.dh,
        a.dc,
        a.mask,
        rows(a.U),
        a.B,
        a.T,
        a.U,
        a.hard ? 1 : 0,
        a.returnSequences ? 1 : 0,
        prof,
      );
      return timing();
    },
  };
  return cached;
}
