/**
 * OpenBLAS through Deno's FFI: the one native dependency of the fast LSTM path. Loading is
 * optional by design: {@link loadBlas} answers `null` when the library, the permission or the
 * symbol is missing, so callers fall back to tfjs instead of failing a run.
 *
 * @module
 */

/** Row-major single-precision matrix product `C = alpha * op(A) * op(B) + beta * C`. */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

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
   * made elsewhere on this library (native/lstm_gates.c calls cblas_sgemm itself).
   */
  threadsFor(m: number, n: number, k: number): void;
}

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
const BIG_GEMM = 5e7;
/** Threads for big products: two measured ~15% faster per training step (BENCHMARKS.md). */
let bigThreads = Math.min(2, navigator.hardwareConcurrency || 1);

/** Lets products above ~10^8 flops use `n` threads (the per-step ones always use one). */
export function setBigGemmThreads(n: number): void {
  bigThreads = Math.max(1, Math.floor(n));
}

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

let cached: Blas | null | undefined;

/** The reason the last {@link loadBlas} found no library, for error messages. */
let lastFailure = "";

/** Why BLAS did not load (empty when it did or was not tried). */
export function blasFailure(): string {
  return lastFailure;
}

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
 * Opens OpenBLAS once and binds `cblas_sgemm`. Returns `null` (never throws) when no library
 * opens: without `--allow-ffi`, with libopenblas absent, or when the symbol is missing.
 * `$OPENBLAS_LIB`, when set, is the only path tried.
 */
export function loadBlas(): Blas | null {
  if (cached !== undefined) return cached;
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
        lastFailure = `FFI is not permitted (run with --allow-ffi): ${msg}`;
        cached = null;
        return null;
      }
      reasons.push(`${path}: ${msg.split("\n")[0]}`);
      continue;
    }
    const s = lib.symbols;
    const raw = s.cblas_sgemm;
    const setN = s.openblas_set_num_threads;
    const getN = s.openblas_get_num_threads;
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
    cached = {
      path,
      sgemm,
      threads: () => (getN ? getN() : null),
      setThreads: (n) => {
        if (setN) setN(current = Math.max(1, Math.floor(n)));
      },
      threadsFor,
    };
    // One thread unless the user chose: the per-time-step products (32×256×1024) run slower on
    // two threads than on one here, and the big ones gain under 15% (BENCHMARKS.md).
    if (!userThreads) cached.setThreads(1);
    lastFailure = "";
    return cached;
  }
  lastFailure = `no OpenBLAS library could be opened (${reasons.join("; ")})`;
  cached = null;
  return null;
}
