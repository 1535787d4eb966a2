/**
 * OpenBLAS through Deno's FFI: the one native dependency of the fast LSTM path. Opening is
 * optional by design: {@link openBlas} answers with a reason, never an exception, when the
 * library, the permission or the symbol is missing, so model/lstm_implementation.ts (the only
 * caller, which opens it once per process) can fall back to tf.layers.lstm instead of failing.
 *
 * @module
 */
import type { Gemm } from "./gemm.ts";

/** A loaded BLAS: its matrix product, where it came from and its thread control. */
export interface Blas {
  /** The path that was opened (for the run record). */
  path: string;
  sgemm: Gemm;
  /** Threads OpenBLAS uses for one product; `null` when the library cannot say. */
  threads(): number | null;
  /** Sets OpenBLAS's thread count; a no-op when the library lacks the symbol. */
  setThreads(n: number): void;
  /**
   * Sets the thread count {@link Blas.sgemm} would choose for an m×n×k product, for products
   * made elsewhere on this library (model/fused/lstm_gates.c calls cblas_sgemm itself).
   */
  threadsFor(m: number, n: number, k: number): void;
  /**
   * Lets products above {@link BIG_GEMM} flops use `n` threads (the per-step ones always use
   * one). Part of the handle, not of the module: one process opens the library once.
   */
  setBigGemmThreads(n: number): void;
}

/** What {@link openBlas} found: the library, or why there is none. */
export type BlasResult = { ok: true; blas: Blas } | { ok: false; reason: string };

/** Environment variable naming a libopenblas to use instead of the standard paths. */
export const BLAS_ENV = "OPENBLAS_LIB";

/**
 * Where Debian and Ubuntu put OpenBLAS (libopenblas0-pthread installs the first two; the
 * alternatives symlink is tried too). The pthread build comes first because the serial and
 * OpenMP builds share the soname and would shadow it.
 */
export const BLAS_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // m
      "i32", // n
      "i32", // k
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
} as const;

/** Flops (m·n·k) above which a product is big enough to share between threads. */
export const BIG_GEMM = 5e7;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

function envOverride(): string | undefined {
  try {
    return Deno.env.get(BLAS_ENV) || undefined;
  } catch {
    return undefined; // no --allow-env: the standard paths still work
  }
}

function envThreads(): string | undefined {
  try {
    return Deno.env.get("OPENBLAS_NUM_THREADS") || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens OpenBLAS and binds `cblas_sgemm`; never throws. Fails without `--allow-ffi`, with
 * libopenblas absent, or when the symbol is missing. `$OPENBLAS_LIB`, when set, is the only
 * path tried. Each call opens anew: callers keep the handle (OpenBLAS's thread count is
 * process-wide, and the handle mirrors it).
 */
export function openBlas(): BlasResult {
  const override = envOverride();
  const paths = override ? [override] : BLAS_PATHS;
  const reasons: string[] = [];
  const userThreads = envThreads() !== undefined;
  for (const path of paths) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        return { ok: false, reason: `FFI is not permitted (run with --allow-ffi): ${msg}` };
      }
      reasons.push(`${path}: ${msg.split("\n")[0]}`);
      continue;
    }
    return { ok: true, blas: bind(lib, path, userThreads) };
  }
  return { ok: false, reason: `no OpenBLAS library could be opened (${reasons.join("; ")})` };
}

function bind(lib: Deno.DynamicLibrary<typeof SYMBOLS>, path: string, userThreads: boolean): Blas {
  const s = lib.symbols;
  const raw = s.cblas_sgemm;
  const setN = s.openblas_set_num_threads;
  const getN = s.openblas_get_num_threads;
  /** Threads for big products: two measured ~15% faster per training step (BENCHMARKS.md). */
  let bigThreads = Math.min(2, navigator.hardwareConcurrency || 1);
  // Products above BIG_GEMM flops may use `bigThreads`, the small per-step ones use one:
  // splitting a 32-row product costs more than it gains, a 3200-row one gains.
  let current = getN ? getN() : 1;
  const threadsFor = (m: number, n: number, k: number) => {
    const want = m * n * k > BIG_GEMM ? bigThreads : 1;
    if (want !== current && setN && !userThreads) {
      setN(want);
      current = want;
    }
  };
  const sgemm: Gemm = (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    threadsFor(m, n, k);
    raw(
      ROW_MAJOR,
      ta ? TRANS : NO_TRANS,
      tb ? TRANS : NO_TRANS,
      m,
      n,
      k,
      alpha,
      a,
      lda,
      b,
      ldb,
      beta,
      c,
      ldc,
    );
  };
  const blas: Blas = {
    path,
    sgemm,
    threads: () => (getN ? getN() : null),
    setThreads: (n) => {
      if (setN) setN(current = Math.max(1, Math.floor(n)));
    },
    threadsFor,
    setBigGemmThreads: (n) => {
      bigThreads = Math.max(1, Math.floor(n));
    },
  };
  // One thread unless the user chose: the per-time-step products (32×256×1024) run slower on
  // two threads than on one here, and the big ones gain under 15% (BENCHMARKS.md).
  if (!userThreads) blas.setThreads(1);
  return blas;
}
