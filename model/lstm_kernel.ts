/**
 * Which implementation builds the model's LSTM layers. `tfjs` is tf.layers.lstm; `blas` is the
 * fused layer of model/fused_lstm.ts on OpenBLAS (issue 4). Model building only ever calls
 * {@link resolveLstmKernel} and {@link lstmLayer}, so it never needs to know which.
 *
 * Both build the same layer: Keras's gate order and weight layout, Keras's sigmoid gates and
 * forget-gate bias of one (the tutorial's model; tfjs's own defaults are hardSigmoid and zero),
 * glorot-uniform and orthogonal initialisers from the same seeds. Weights copy across.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { blasFailure, loadBlas } from "./blas.ts";
import { FusedLstm } from "./fused_lstm.ts";
import { loadNativeLstm } from "./lstm_native.ts";

/** The LSTM implementations a config can ask for (`train.lstm`). */
export type LstmKernelChoice = "auto" | "blas" | "tfjs";

/** Arguments of one LSTM layer of the model. */
export interface LstmLayerArgs {
  units: number;
  returnSequences: boolean;
  recurrentDropout: number;
  inputShape?: [number, number];
  /** Seed for the kernel initialisers and the recurrent dropout masks. */
  seed: number;
  name?: string;
}

/**
 * Resolves `auto` to the implementation this machine will use: `blas` when OpenBLAS loads and
 * the tfjs backend is wasm or cpu, else `tfjs`. On the native TensorFlow backends
 * (`tensorflow`, `tensorflow-gpu`) auto keeps tf.layers.lstm, which runs in TensorFlow's own
 * kernels (on the GPU for tensorflow-gpu) instead of pulling every step back to the CPU.
 *
 * @throws {Error} when `blas` is asked for and OpenBLAS cannot be loaded.
 */
export function resolveLstmKernel(
  choice: LstmKernelChoice,
  backend = "wasm",
): Promise<"blas" | "tfjs"> {
  if (choice === "tfjs") return Promise.resolve("tfjs");
  if (choice === "auto" && backend.startsWith("tensorflow")) return Promise.resolve("tfjs");
  const blas = loadBlas();
  if (blas) return Promise.resolve("blas");
  if (choice === "auto") return Promise.resolve("tfjs");
  return Promise.reject(
    new Error(
      `Cannot use train.lstm: blas because ${blasFailure() || "OpenBLAS did not load"}; ` +
        "install libopenblas0-pthread (apt-get install libopenblas0-pthread) " +
        "or set train.lstm: tfjs",
    ),
  );
}

/** The OpenBLAS library the `blas` kernel runs on (for the run record), or null if none. */
export function blasLibraryPath(): string | null {
  return loadBlas()?.path ?? null;
}

/**
 * Where the `blas` kernel's recurrent loop runs: `native` (native/lstm_gates.c, built on demand
 * with the machine's C compiler) or `js` (the fallback when it cannot be built or loaded).
 * `null` for the `tfjs` kernel, which has no such loop.
 */
export function lstmGates(kernel: "blas" | "tfjs"): "native" | "js" | null {
  if (kernel === "tfjs") return null;
  const blas = loadBlas();
  return blas && loadNativeLstm(blas) ? "native" : "js";
}

/**
 * The kernel with its gate flavour, for stage keys and run records: `tfjs`, `blas+native-gates`
 * or `blas+js-gates`. The flavours compute in different precisions (C in float32, JS in
 * float64), so their checkpoints differ in the last bits and must not share a stage key.
 */
export function lstmKernelDescription(kernel: "blas" | "tfjs"): string {
  const gates = lstmGates(kernel);
  return gates ? `${kernel}+${gates}-gates` : kernel;
}

/** Builds one LSTM layer with the chosen implementation. */
export function lstmLayer(kernel: "blas" | "tfjs", args: LstmLayerArgs): tf.layers.Layer {
  if (kernel === "blas") {
    return new FusedLstm({
      units: args.units,
      returnSequences: args.returnSequences,
      recurrentDropout: args.recurrentDropout,
      inputShape: args.inputShape,
      name: args.name,
      seed: args.seed,
      recurrentActivation: "sigmoid",
      unitForgetBias: true,
      gemm: "blas",
    });
  }
  return tf.layers.lstm({
    units: args.units,
    returnSequences: args.returnSequences,
    recurrentDropout: args.recurrentDropout,
    inputShape: args.inputShape,
    name: args.name,
    recurrentActivation: "sigmoid",
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed: args.seed }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: args.seed + 1 }),
  });
}
