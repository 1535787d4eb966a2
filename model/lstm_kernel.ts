/**
 * Which implementation builds the model's LSTM layers. `tfjs` is tf.layers.lstm. The fused,
 * BLAS-backed layer (issue 4) plugs in here, so model building never needs to know which.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

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

/** Resolves `auto` to the implementation this machine will use. */
export function resolveLstmKernel(choice: LstmKernelChoice): Promise<"blas" | "tfjs"> {
  return Promise.resolve(choice === "blas" ? "blas" : "tfjs");
}

/** Builds one LSTM layer with the chosen implementation. */
export function lstmLayer(kernel: "blas" | "tfjs", args: LstmLayerArgs): tf.layers.Layer {
  if (kernel === "blas") throw new Error("The blas LSTM kernel is not built yet");
  return tf.layers.lstm({
    units: args.units,
    returnSequences: args.returnSequences,
    recurrentDropout: args.recurrentDropout,
    inputShape: args.inputShape,
    name: args.name,
    kernelInitializer: tf.initializers.glorotUniform({ seed: args.seed }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: args.seed + 1 }),
  });
}
