/**
 * The fused LSTM as a tfjs Layers layer: weights, recurrent dropout and serialisation around the
 * op of model/fused/fused_lstm_op.ts.
 *
 * Layout and semantics follow tf.layers.lstm (Keras): gate order i, f, c, o; `kernel`
 * [inputDim, 4u], `recurrent_kernel` [u, 4u], `bias` [4u]; weights named `<layer>/kernel` and so
 * on, in that order, so weights copy across and checkpoints keep their names. Recurrent dropout
 * draws ONE mask per batch of sequences for the recurrent state h (as tfjs does), applied only in
 * training, from the layer's seed and a call counter, so a run is repeatable.
 *
 * The layer runs the {@link FusedLstmImplementation} it is given (model/lstm_implementation.ts
 * decides which); it saves itself as tfjs's `LSTM`, so a checkpoint needs none of this code.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { WorkspacePool } from "./lstm_buffers.ts";
import { fusedLstm, type GateActivation } from "./fused_lstm_op.ts";
import type { FusedLstmImplementation } from "../lstm_implementation.ts";
import type { LstmProfiler } from "./lstm_profile.ts";
import { recurrentMask } from "../seeded_dropout.ts";

export type { GateActivation };

/** Constructor arguments of {@link FusedLstm}; everything but `units` has tfjs's default. */
export interface FusedLstmArgs {
  units: number;
  /**
   * What the layer runs on. Required before the layer is called; a layer deserialised from a
   * config gets it from model/checkpoint.ts.
   */
  implementation?: FusedLstmImplementation;
  returnSequences?: boolean;
  recurrentDropout?: number;
  /** Seeds the initialisers (kernel: seed, recurrent kernel: seed + 1) and the dropout masks. */
  seed?: number;
  /** tf.layers.lstm's default is hardSigmoid; Keras and PyTorch use sigmoid. */
  recurrentActivation?: GateActivation;
  /** Adds 1 to the forget gate's initial bias (Keras's default; tfjs's default is false). */
  unitForgetBias?: boolean;
  inputShape?: number[];
  batchInputShape?: number[];
  name?: string;
  trainable?: boolean;
  dtype?: tf.DataType;
}

/**
 * The fused LSTM layer. It saves itself as tfjs's `LSTM` (see getConfig) and is registered as
 * `FusedLstm` only so that model/checkpoint.ts can ask tfjs to build it from an LSTM config.
 */
export class FusedLstm extends tf.layers.Layer {
  static className = "FusedLstm";
  readonly units: number;
  readonly returnSequences: boolean;
  readonly recurrentDropout: number;
  readonly seed: number;
  readonly recurrentActivation: GateActivation;
  readonly unitForgetBias: boolean;
  /**
   * What the layer runs on; settable, so a loaded checkpoint can be handed one and a benchmark
   * can time one model on several (building the model is the slow part).
   */
  implementation: FusedLstmImplementation | null;
  /** Collects where the layer's time goes (bench/train_step_bench.ts); null: not measured. */
  profiler: LstmProfiler | null = null;
  #pool = new WorkspacePool();
  /** Training calls so far: the second half of each dropout mask's seed. */
  #calls = 0;
  private kernel: tf.LayerVariable | null = null;
  private recurrentKernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: FusedLstmArgs) {
    super(args);
    this.units = args.units;
    this.implementation = args.implementation ?? null;
    this.returnSequences = args.returnSequences ?? false;
    this.recurrentDropout = Math.min(1, Math.max(0, args.recurrentDropout ?? 0));
    this.seed = args.seed ?? 0;
    this.recurrentActivation = args.recurrentActivation ?? "hardSigmoid";
    this.unitForgetBias = args.unitForgetBias ?? false;
    this.inputSpec = [{ ndim: 3 }];
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
    if (this.implementation === null) {
      throw new TypeError(
        `Cannot run FusedLstm layer ${this.name}: it was given no implementation ` +
          "(see model/lstm_implementation.ts)",
      );
    }
    const training = kwargs["training"] === true;
    const batch = x.shape[0]!;
    let mask: Float32Array | null = null;
    if (training && this.recurrentDropout > 0 && this.recurrentDropout < 1) {
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
        implementation: this.implementation,
        pool: this.#pool,
        profiler: this.profiler,
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
   * Builds the layer from a tfjs `LSTM` config (what {@link getConfig} writes, swapped in by
   * model/checkpoint.ts), without an implementation: the caller hands it one.
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
    const seed = init?.config?.seed;
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
