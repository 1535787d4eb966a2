/**
 * The fused LSTM's per-step loops in C (model/fused/lstm_gates.c): per time step the recurrent
 * OpenBLAS product and the gate arithmetic, one foreign call per layer and pass. The JS loops
 * of model/fused/lstm_js_gates.ts compute the same thing and remain the fallback: {@link openNativeGates}
 * answers with a reason (never throws) when the library cannot be built or loaded.
 *
 * Typed arrays go to C as they are (Deno passes a buffer's address, no copy); the buffers are
 * those of model/fused/lstm_buffers.ts.
 *
 * @module
 */
import type { Blas } from "./blas.ts";
import type { BackwardPass, ForwardPass, LstmShape } from "./lstm_buffers.ts";
import { buildSharedLibrary } from "./native_build.ts";

/** The C source; its sha256 is part of the cached library's name. */
export const LSTM_GATES_SOURCE = new URL("./lstm_gates.c", import.meta.url);

const SYMBOLS = {
  lstm_gates_init: { parameters: ["buffer"], result: "i32" },
  lstm_gates_simd: { parameters: [], result: "i32" },
  lstm_gates_threads: { parameters: ["i32", "i32"], result: "i32" },
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
  lstm_stack_last: {
    parameters: [
      "buffer", // x [T, d0]
      "buffer", // weights: W, R, bias of each layer
      "buffer", // each layer's R packed in blocks of 64 columns, or null
      "buffer", // work
      "buffer", // h [U]
      "i32", // T
      "i32", // d0
      "i32", // layers
      "i32", // U
      "i32", // hard
    ],
    result: "void",
  },
  lstm_stack_step: {
    parameters: [
      "buffer", // x [d0]
      "buffer", // weights
      "buffer", // state: h, c of each layer
      "buffer", // work [7U]
      "i32", // d0
      "i32", // layers
      "i32", // U
      "i32", // hard
    ],
    result: "void",
  },
  lstm_window_ready: { parameters: ["i32"], result: "i32" },
  lstm_window_tick: {
    parameters: [
      "buffer", // x [d0]: the newest token
      "buffer", // weights
      "buffer", // packed recurrent kernels
      "buffer", // state: h, c of every slot, layer after layer
      "buffer", // work
      "buffer", // out [U]
      "i32", // T
      "i32", // tick
      "i32", // live rows
      "i32", // d0
      "i32", // layers
      "i32", // U
      "i32", // hard
    ],
    result: "void",
  },
  dense_row: {
    parameters: ["buffer", "buffer", "buffer", "i32", "i32"], // x [K], m [K, N], g [N], K, N
    result: "void",
  },
} as const;

/**
 * Threads for the recurrence: $LSTM_THREADS when set (1 or 2), else two where the machine has
 * two or more cores.
 */
function defaultThreads(): number {
  let env: string | undefined;
  try {
    env = Deno.env.get("LSTM_THREADS");
  } catch {
    env = undefined; // no --allow-env: the default
  }
  if (env === "1" || env === "2") return Number(env);
  return (navigator.hardwareConcurrency ?? 1) >= 2 ? 2 : 1;
}

/** Milliseconds the last call spent in products and in the rest (gates, copies). */
export interface NativeTiming {
  gemm: number;
  gates: number;
}

/** The loaded loops, bound to one OpenBLAS. */
export interface NativeGates {
  /** The shared library that was loaded. */
  path: string;
  /** True when the AVX2+FMA build of the loops runs, false for the baseline one. */
  simd: boolean;
  /**
   * Threads the recurrence of a layer of at least `minUnits` units is split over (1 or 2; the
   * results are the same bits either way). Returns the count in force. Defaults: two where the
   * machine has two cores ($LSTM_THREADS overrides), layers of 128 units and up.
   */
  setThreads(threads: number, minUnits?: number): number;
  /** The thread count in force. */
  readonly threads: number;
  forward(pass: ForwardPass): NativeTiming;
  backward(pass: BackwardPass): NativeTiming;
  /** Window-mode generation: the last h of `stack` over the inputs `x` ([T, inputSize]). */
  stackLast(stack: LstmStack, x: Float32Array): Float32Array;
  /**
   * Window-mode generation with every pass under way advanced together (see
   * {@link WindowPipeline}): the same bits as {@link stackLast}, each weight read once per token
   * instead of once per pass and step. Null where the C loops cannot promise those bits here.
   */
  windowPipeline(stack: LstmStack, T: number): WindowPipeline | null;
  /** `g += x · m` for one row x [K] and a matrix m [K, N] (stateful generation's dense head). */
  denseRow(x: Float32Array, m: Float32Array, g: Float32Array): void;
  /** Stateful generation: feeds `x` through `stack`, updating `state`; the last layer's h. */
  stackStep(stack: LstmStack, x: Float32Array, state: Float32Array): Float32Array;
}

/**
 * Stacked LSTM layers of equal width for generation (one sequence at a time): each layer's
 * kernel [D, 4U], recurrent kernel [U, 4U] and bias [4U] concatenated, D being `inputSize` for
 * the first layer and U above it.
 */
export interface LstmStack {
  weights: Float32Array;
  layers: number;
  inputSize: number;
  units: number;
  hard: boolean;
  /**
   * Each layer's recurrent kernel packed for the one-row product ({@link packRecurrent}), or
   * null: the same results, faster.
   */
  packed: Float32Array | null;
}

/**
 * Window mode's T passes in flight (model/fused/lstm_gates.c, lstm_window_tick): token g comes from a
 * pass over the T tokens before it, which begins when the first of them is known, so each new
 * token moves every pass one step on and ends the oldest.
 */
export interface WindowPipeline {
  /** Reads the T start inputs ([T, inputSize]) from scratch; the last layer's h for what follows. */
  start(x: Float32Array): Float32Array;
  /** Feeds the next input (inputSize floats); h of the pass that ends with it. */
  push(x: Float32Array): Float32Array;
}

/** Columns per block of a packed recurrent kernel (MATVEC_BLOCK in model/fused/lstm_gates.c). */
const PACK_BLOCK = 64;

/**
 * Recurrent kernels [U, 4U] in the layout the C loops stream at batch 1: per block of 64 columns,
 * every row's 64 values contiguous, layer after layer; null when 4U is not whole blocks.
 */
export function packRecurrent(
  kernels: readonly Float32Array[],
  units: number,
): Float32Array | null {
  const cols = 4 * units;
  if (cols % PACK_BLOCK !== 0) return null;
  const out = new Float32Array(kernels.length * units * cols);
  let at = 0;
  for (const r of kernels) {
    for (let b = 0; b < cols / PACK_BLOCK; b++) {
      for (let k = 0; k < units; k++) {
        out.set(r.subarray(k * cols + b * PACK_BLOCK, k * cols + (b + 1) * PACK_BLOCK), at);
        at += PACK_BLOCK;
      }
    }
  }
  return out;
}

/** Floats the state of `stack` takes in {@link NativeGates.stackStep}: h and c per layer. */
export function stackStateSize(stack: LstmStack): number {
  return 2 * stack.units * stack.layers;
}

function checkStack(stack: LstmStack): void {
  const { layers, inputSize: d, units: u } = stack;
  const need = (d + u + 1) * 4 * u + (layers - 1) * (2 * u + 1) * 4 * u;
  if (layers < 1 || stack.weights.length !== need) {
    throw new RangeError(
      `Cannot run the native LSTM stack: ${stack.weights.length} weights for ${layers} layers ` +
        `of ${u} units on ${d} inputs, which need ${need}`,
    );
  }
}

/** What {@link openNativeGates} found: the loops, or why there are none. */
export type NativeGatesResult = { ok: true; gates: NativeGates } | { ok: false; reason: string };

/** Throws unless every buffer holds what the C loops will touch (they trust their sizes). */
function checkSizes(
  what: string,
  a: LstmShape,
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

function commonSizes(a: ForwardPass | BackwardPass) {
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

/** The C loops' entry points, as Deno binds them. */
type GatesSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * Builds (or finds in the cache) model/fused/lstm_gates.c, opens it and binds it to `blas`, the
 * OpenBLAS that model/fused/blas.ts opened. Never throws. model/lstm_implementation.ts calls it once
 * per process (building means running the C compiler on a cache miss).
 */
export function openNativeGates(blas: Blas): NativeGatesResult {
  const fail = (reason: string): NativeGatesResult => ({ ok: false, reason });
  const built = buildSharedLibrary({ source: LSTM_GATES_SOURCE });
  if (!built.ok) return fail(`model/fused/lstm_gates.c did not build: ${built.reason}`);
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(built.path, SYMBOLS);
  } catch (e) {
    return fail(`${built.path} did not load: ${e instanceof Error ? e.message : String(e)}`);
  }
  const status = lib.symbols.lstm_gates_init(new TextEncoder().encode(blas.path + "\0"));
  if (status !== 0) {
    lib.close();
    return fail(`cblas_sgemm not found in ${blas.path} from native code (status ${status})`);
  }
  return { ok: true, gates: new LoadedGates(built.path, lib.symbols, blas) };
}

/** The C loops of one loaded library, bound to one OpenBLAS. */
class LoadedGates implements NativeGates {
  readonly path: string;
  readonly simd: boolean;
  readonly #s: GatesSymbols;
  readonly #blas: Blas;
  #threads: number;
  /** Where the C loops write the nanoseconds of the last call: products, the rest. */
  readonly #prof = new Float64Array(2);
  /** Scratch rows the C loops need (h of one row, zero rows), kept per unit count. */
  readonly #rows = new Map<number, Float32Array>();
  /** Scratch of the generation calls, grown to the largest asked for. */
  #work = new Float32Array(0);

  constructor(path: string, symbols: GatesSymbols, blas: Blas) {
    this.path = path;
    this.#s = symbols;
    this.#blas = blas;
    this.#threads = symbols.lstm_gates_threads(defaultThreads(), 0);
    this.simd = symbols.lstm_gates_simd() === 1;
  }

  setThreads(n: number, minUnits = 0): number {
    return this.#threads = this.#s.lstm_gates_threads(n, minUnits);
  }

  get threads(): number {
    return this.#threads;
  }

  forward(a: ForwardPass): NativeTiming {
    const last = a.returnSequences ? a.B * a.T * a.U : a.B * a.U;
    checkSizes("forward", a, {
      ...commonSizes(a),
      bias: [a.bias, 4 * a.U],
      p: [a.p, a.B * a.T * a.U],
      out: [a.out, last],
    });
    // The per-step products are B×4U×U: OpenBLAS runs those best on one thread.
    this.#blas.threadsFor(a.B, 4 * a.U, a.U);
    this.#prof.fill(0);
    this.#s.lstm_forward(
      a.r,
      a.bias,
      a.g,
      a.c,
      a.tc,
      a.p,
      a.out,
      a.mask,
      this.#scratchRows(a.U),
      a.B,
      a.T,
      a.U,
      a.hard ? 1 : 0,
      a.returnSequences ? 1 : 0,
      this.#prof,
    );
    return this.#timing();
  }

  backward(a: BackwardPass): NativeTiming {
    checkSizes("backward", a, {
      ...commonSizes(a),
      rT: [a.rT, 4 * a.U * a.U],
      dy: [a.dy, a.returnSequences ? a.B * a.T * a.U : a.B * a.U],
      dh: [a.dh, a.B * a.U],
      dc: [a.dc, a.B * a.U],
    });
    this.#blas.threadsFor(a.B, a.U, 4 * a.U);
    this.#prof.fill(0);
    this.#s.lstm_backward(
      a.r,
      a.rT,
      a.g,
      a.c,
      a.tc,
      a.dy,
      a.dh,
      a.dc,
      a.mask,
      this.#scratchRows(a.U),
      a.B,
      a.T,
      a.U,
      a.hard ? 1 : 0,
      a.returnSequences ? 1 : 0,
      this.#prof,
    );
    return this.#timing();
  }

  stackLast(stack: LstmStack, x: Float32Array): Float32Array {
    checkStack(stack);
    const { units: u, inputSize: d } = stack;
    const T = x.length / d;
    if (!Number.isInteger(T) || T < 1) {
      throw new RangeError(`Cannot run the native LSTM stack on ${x.length} inputs of ${d}`);
    }
    const h = new Float32Array(u);
    // The input projections are T×4U×D products: the thread count the op would pick for them.
    this.#blas.threadsFor(T, 4 * u, u);
    this.#s.lstm_stack_last(
      x,
      stack.weights,
      stack.packed,
      this.#scratch(T * 8 * u + 2 * u),
      h,
      T,
      d,
      stack.layers,
      u,
      stack.hard ? 1 : 0,
    );
    return h;
  }

  windowPipeline(stack: LstmStack, T: number): WindowPipeline | null {
    checkStack(stack);
    const { units: u, packed } = stack;
    if (packed === null || !Number.isInteger(T) || T < 1 || this.#s.lstm_window_ready(u) !== 1) {
      return null;
    }
    return nativeWindowPipeline(this.#s, this.#blas, { ...stack, packed }, T);
  }

  denseRow(x: Float32Array, m: Float32Array, g: Float32Array): void {
    if (m.length !== x.length * g.length) {
      throw new RangeError(
        `Cannot multiply ${x.length} values by ${m.length} weights into ${g.length}`,
      );
    }
    this.#s.dense_row(x, m, g, x.length, g.length);
  }

  stackStep(stack: LstmStack, x: Float32Array, state: Float32Array): Float32Array {
    checkStack(stack);
    const { units: u, inputSize: d } = stack;
    if (x.length !== d || state.length !== stackStateSize(stack)) {
      throw new RangeError(
        `Cannot step the native LSTM stack: ${x.length} inputs and ${state.length} state ` +
          `floats, expected ${d} and ${stackStateSize(stack)}`,
      );
    }
    this.#s.lstm_stack_step(
      x,
      stack.weights,
      state,
      this.#scratch(7 * u),
      d,
      stack.layers,
      u,
      stack.hard ? 1 : 0,
    );
    const top = (stack.layers - 1) * 2 * u;
    return state.slice(top, top + u);
  }

  /** Milliseconds of the last forward or backward call. */
  #timing(): NativeTiming {
    return { gemm: this.#prof[0]! / 1e6, gates: this.#prof[1]! / 1e6 };
  }

  /** Two rows of `u` floats for the C loops' own use. */
  #scratchRows(u: number): Float32Array {
    let buf = this.#rows.get(u);
    if (!buf) this.#rows.set(u, buf = new Float32Array(2 * u));
    return buf;
  }

  /** At least `floats` floats of scratch for the generation calls. */
  #scratch(floats: number): Float32Array {
    if (this.#work.length < floats) this.#work = new Float32Array(floats);
    return this.#work;
  }
}

/**
 * The {@link WindowPipeline} of `stack` over windows of T tokens: h and c of every pass under
 * way (T slots) per layer, advanced one token at a time by lstm_window_tick.
 */
function nativeWindowPipeline(
  s: GatesSymbols,
  blas: Blas,
  stack: LstmStack & { packed: Float32Array },
  T: number,
): WindowPipeline {
  const { units: u, inputSize: d, layers, packed } = stack;
  // h and c of every slot per layer, then the first layer's products for the next tick.
  const state = new Float32Array(2 * T * u * layers + T * 4 * u);
  const scratch = new Float32Array(T * d + T * 7 * u + u);
  let tick = 0, live = 0;
  const step = (x: Float32Array): Float32Array<ArrayBuffer> => {
    if (x.length !== d) {
      throw new RangeError(`Cannot feed ${x.length} inputs to an LSTM stack on ${d}`);
    }
    const h = new Float32Array(u);
    live = Math.min(T, live + 1);
    // The input projections are T×4U×D products, as in stackLast: the same thread count.
    blas.threadsFor(T, 4 * u, u);
    s.lstm_window_tick(
      x,
      stack.weights,
      packed,
      state,
      scratch,
      h,
      T,
      tick++ % T,
      live,
      d,
      layers,
      u,
      stack.hard ? 1 : 0,
    );
    return h;
  };
  return {
    start(x) {
      if (x.length !== T * d) {
        throw new RangeError(`Cannot start ${T} passes on ${x.length} inputs of ${d}`);
      }
      tick = 0, live = 0;
      let h: Float32Array = new Float32Array(u);
      for (let t = 0; t < T; t++) h = step(x.subarray(t * d, (t + 1) * d));
      return h;
    },
    push: step,
  };
}
