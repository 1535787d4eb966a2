/**
 * Which code computes the model's LSTM layers, decided in one place and carried as one value.
 *
 * - `tfjs`: tf.layers.lstm, tfjs's own step-by-step kernels.
 * - `fused`: the fused layer of model/fused/fused_lstm.ts, whose big matrix products run on a
 *   {@link Gemm} (OpenBLAS, or tfjs's matMul for tests) and whose per-step loop runs in C
 *   (model/fused/lstm_gates.c, built with the machine's C compiler) or in JS.
 *
 * {@link resolveLstm} turns the `train.lstm` setting into a {@link LstmImplementation}; train
 * puts its `id` into the stage key (each implementation rounds differently, so their
 * checkpoints differ in the last bits) and hands the value to the model, which runs what it
 * is given and decides nothing. The libraries behind it (OpenBLAS, the C loops) are opened once
 * per process, lazily: a run on tf.layers.lstm never touches them.
 *
 * Both kinds build the same layer: Keras's gate order and weight layout, Keras's sigmoid gates
 * and forget-gate bias of one, glorot-uniform and orthogonal initialisers from the same seeds.
 * Weights copy across, and checkpoints of either load as either.
 *
 * @module
 */
import { type Blas, openBlas } from "./fused/blas.ts";
import { ModelError } from "./errors.ts";
import { type Gemm, tfjsGemm } from "./fused/gemm.ts";
import { type NativeGates, openNativeGates } from "./fused/lstm_native.ts";

/** The LSTM implementations a config can ask for (`train.lstm`). */
export type LstmSetting = "auto" | "blas" | "tfjs";

/** tf.layers.lstm. */
export interface TfjsLstm {
  readonly kind: "tfjs";
  readonly id: "tfjs";
}

/** The fused layer, with what it runs on. */
export interface FusedLstmImplementation {
  readonly kind: "fused";
  /**
   * `blas+native-gates` or `blas+js-gates` (what the pipeline runs), or `tfjs-matmul+js-gates`
   * (tests and benchmarks). Goes into stage keys and run records.
   */
  readonly id: string;
  /** The big products: input projections, weight gradients. */
  readonly gemm: Gemm;
  /** The OpenBLAS under `gemm`, or null when the products run on tfjs's matMul. */
  readonly blas: Blas | null;
  /** The C loops, or null for the JS loops (model/fused/lstm_js_gates.ts). */
  readonly gates: NativeGates | null;
}

/** One resolved LSTM implementation. */
export type LstmImplementation = TfjsLstm | FusedLstmImplementation;

/** The `tfjs` implementation. */
export const TFJS_LSTM: TfjsLstm = Object.freeze({ kind: "tfjs", id: "tfjs" });

/** A library opened once per process, or why it could not be. */
type Opened<T> = { value: T; reason: "" } | { value: null; reason: string };

let blasOpened: Opened<Blas> | undefined;
let gatesOpened: Opened<NativeGates> | undefined;
const fusedById = new Map<string, FusedLstmImplementation>();

/**
 * What this machine offers the fused layer: OpenBLAS and the C loops on it, each with the reason
 * it is missing (empty when present). Opens each at most once per process: OpenBLAS's thread
 * count is process-wide state that one handle mirrors, and the C loops cost a compile on a cold
 * cache. The C loops are only tried once OpenBLAS is there (they call it).
 */
export function fusedLstmSupport(): {
  blas: Blas | null;
  blasFailure: string;
  gates: NativeGates | null;
  gatesFailure: string;
} {
  if (blasOpened === undefined) {
    const r = openBlas();
    blasOpened = r.ok ? { value: r.blas, reason: "" } : { value: null, reason: r.reason };
  }
  const blas = blasOpened.value;
  if (!blas) {
    const gatesFailure = "the matrix products do not run on OpenBLAS";
    return { blas, blasFailure: blasOpened.reason, gates: null, gatesFailure };
  }
  if (gatesOpened === undefined) {
    const r = openNativeGates(blas);
    gatesOpened = r.ok ? { value: r.gates, reason: "" } : { value: null, reason: r.reason };
  }
  return { blas, blasFailure: "", gates: gatesOpened.value, gatesFailure: gatesOpened.reason };
}

/**
 * Resolves `train.lstm` to the implementation this machine will run.
 *
 * `auto` takes the fused layer on OpenBLAS when OpenBLAS opens and `backend` is wasm or cpu,
 * with the C loops when they build, else tf.layers.lstm. On the native TensorFlow backends
 * (`tensorflow`, `tensorflow-gpu`) auto keeps tf.layers.lstm, which runs in TensorFlow's own
 * kernels (on the GPU for tensorflow-gpu) instead of pulling every step back to the CPU.
 * `backend` defaults to one that runs on the CPU.
 *
 * @throws {ModelError} when `blas` is asked for and OpenBLAS cannot be opened.
 */
export function resolveLstm(setting: LstmSetting, backend = "wasm"): LstmImplementation {
  if (setting === "tfjs") return TFJS_LSTM;
  if (setting === "auto" && backend.startsWith("tensorflow")) return TFJS_LSTM;
  const { blas, blasFailure } = fusedLstmSupport();
  if (blas) return fusedLstmImplementation({ gemm: "blas", gates: "auto" });
  if (setting === "auto") return TFJS_LSTM;
  throw new ModelError(
    `Cannot use train.lstm: blas because ${blasFailure || "OpenBLAS did not load"}; ` +
      "install libopenblas0-pthread (apt-get install libopenblas0-pthread) " +
      "or set train.lstm: tfjs",
  );
}

/**
 * A fused implementation with its parts chosen explicitly: tests and benchmarks compare them.
 * `gates: "auto"` takes the C loops when the products run on OpenBLAS and the loops load.
 * The same choice always gives the same value.
 *
 * @throws {ModelError} when a part asked for is not available here (`blas` without OpenBLAS,
 * `native` gates without OpenBLAS or a C build).
 */
export function fusedLstmImplementation(
  choice: { gemm: "blas" | "tfjs"; gates: "auto" | "native" | "js" },
): FusedLstmImplementation {
  let blas: Blas | null = null;
  let gates: NativeGates | null = null;
  if (choice.gemm === "blas" || choice.gates === "native") {
    const support = fusedLstmSupport();
    if (choice.gemm === "blas") {
      blas = support.blas;
      if (!blas) {
        throw new ModelError(`Cannot use the BLAS LSTM kernel: ${support.blasFailure}`);
      }
      if (choice.gates !== "js") gates = support.gates;
    }
    if (choice.gates === "native" && !gates) {
      const why = blas ? support.gatesFailure : "the matrix products do not run on OpenBLAS";
      throw new ModelError(`Cannot use the native LSTM gates: ${why}`);
    }
  }
  const id = `${blas ? "blas" : "tfjs-matmul"}+${gates ? "native" : "js"}-gates`;
  let impl = fusedById.get(id);
  if (!impl) {
    impl = Object.freeze({ kind: "fused", id, gemm: blas?.sgemm ?? tfjsGemm, blas, gates });
    fusedById.set(id, impl);
  }
  return impl;
}
