/**
 * A TF.js Layers checkpoint as store objects: `model.json` and `weights.bin`.
 *
 * The bytes are exactly what `model.save("file://dir")` or `browserFiles` would write: a
 * model.json in the standard layers-model format whose one weights-manifest group points at
 * `weights.bin`, so a checkpoint copied out of the store loads with `tf.loadLayersModel` in
 * Node, a browser or tfjs-converter. No file system is touched here: bytes in, bytes out.
 *
 * The training config (loss, Adam settings) is included: it is small, deterministic, and lets a
 * loader `compile` the model as it was. Optimizer weights are not: resuming an interrupted
 * training run uses its own state (model/training_state.ts), not the checkpoint.
 *
 * Layers of the fused LSTM (model/fused/fused_lstm.ts) save themselves as tfjs's standard `LSTM`, so
 * nothing in model.json needs this project's code. Their names are listed in the model.json's
 * `userDefinedMetadata` (a standard field tfjs keeps and otherwise ignores), and
 * {@link loadCheckpoint}, given a fused LSTM implementation, turns exactly those layers back
 * into the fused layer: generation then runs on the path the model was trained on, a few times
 * faster than tf.layers.lstm's step-by-step kernels. Otherwise they load as tf.layers.lstm, the
 * same maths.
 *
 * A checkpoint of the causal Transformer (model/sequence/transformer.ts) names one class of this
 * project, `CausalSelfAttention`, which importing this module registers; its other layers are
 * tfjs's own.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
// Also registers `FusedLstm` with tfjs, which builds it from the rewritten topology.
import { fusedIncompatibility, FusedLstm } from "./fused/fused_lstm.ts";
import type { LstmImplementation } from "./lstm_implementation.ts";
// Also registers the Transformer's attention layer (its one class tfjs lacks), which tfjs builds
// from a checkpoint's topology.
import { CausalSelfAttention } from "./sequence/transformer_layers.ts";
import { blasGemm } from "./gemm_product.ts";

/** A checkpoint as named bytes, ready to become stage outputs. */
export interface CheckpointFiles {
  "model.json": Uint8Array;
  "weights.bin": Uint8Array;
}

/** The weights file name written into the manifest. */
const WEIGHTS_FILE = "weights.bin";

/** What this project adds to model.json's `userDefinedMetadata`. */
export interface CheckpointMetadata {
  /** Names of the LSTM layers that were the fused layer when saved. */
  fusedLstm: string[];
}

/** Serialises a model's topology, weights and training config. */
export async function saveCheckpoint(model: tf.LayersModel): Promise<CheckpointFiles> {
  let saved: CheckpointFiles | undefined;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    const weights = joinWeightData(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology as tf.io.ModelJSON["modelTopology"],
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
    };
    const trainingConfig = trainingConfigOf(model);
    if (trainingConfig !== undefined) modelJson.trainingConfig = trainingConfig;
    const fusedLstm = model.layers.filter((l) => l instanceof FusedLstm).map((l) => l.name);
    if (fusedLstm.length > 0) {
      const metadata: CheckpointMetadata = { fusedLstm };
      modelJson.userDefinedMetadata = { ...metadata };
    }
    saved = {
      "model.json": new TextEncoder().encode(JSON.stringify(modelJson)),
      "weights.bin": weights,
    };
    return Promise.resolve({
      modelArtifactsInfo: {
        dateSaved: new Date(0),
        modelTopologyType: "JSON",
        weightDataBytes: weights.byteLength,
      },
    });
  }));
  if (saved === undefined) {
    throw new Error("Cannot save checkpoint: tfjs did not call the save handler");
  }
  return saved;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /**
   * What runs the LSTM layers that were fused when saved: a fused implementation brings them
   * back as the fused layer on it; `tfjs` or none loads them as tf.layers.lstm. A Transformer's
   * attention products run on the fused implementation's OpenBLAS, when it has one.
   */
  lstm?: LstmImplementation;
}

/**
 * Loads a model from checkpoint bytes. LSTM layers the metadata names as fused come back as
 * the fused layer when `options.lstm` is a fused implementation (see the module doc), as
 * tf.layers.lstm otherwise.
 *
 * @throws {SyntaxError} When model.json is not a layers-model JSON or the weights do not match.
 */
export async function loadCheckpoint(
  files: CheckpointFiles,
  options: LoadCheckpointOptions = {},
): Promise<tf.LayersModel> {
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(new TextDecoder().decode(files["model.json"])) as tf.io.ModelJSON;
  } catch (error) {
    throw new SyntaxError(
      `Cannot load checkpoint: model.json is not JSON (${(error as Error).message})`,
    );
  }
  if (json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
    throw new SyntaxError(
      "Cannot load checkpoint: model.json has no modelTopology or weightsManifest",
    );
  }
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const expected = weightSpecs.reduce((sum, spec) => sum + specBytes(spec), 0);
  const bytes = files["weights.bin"];
  if (bytes.byteLength !== expected) {
    throw new SyntaxError(
      `Cannot load checkpoint: model.json describes ${expected} weight bytes but weights.bin has ${bytes.byteLength}`,
    );
  }
  // A copy: the weights must start an ArrayBuffer of their own (the store's bytes may be a view).
  const weightData = bytes.slice().buffer;
  const fused = options.lstm?.kind === "fused" ? options.lstm : null;
  const modelTopology = fused ? withFusedLstm(json) : json.modelTopology;
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology,
    weightSpecs,
    weightData,
    trainingConfig: json.trainingConfig,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  }));
  // tfjs built the fused layers from their configs, which say nothing of where they run.
  for (const layer of model.layers) if (layer instanceof FusedLstm) layer.implementation = fused;
  const gemm = blasGemm(options.lstm);
  for (const layer of model.layers) if (layer instanceof CausalSelfAttention) layer.gemm = gemm;
  return model;
}

/** A layer entry of a Keras model topology, as model.json stores it (snake_case). */
interface LayerEntry {
  class_name: string;
  config: Record<string, unknown>;
}

/**
 * The topology with the LSTM layers that the metadata names as fused turned into `FusedLstm`
 * (a copy; the config stays, FusedLstm.fromConfig reads LSTM configs). Layers whose config the
 * fused layer cannot compute are left as they are.
 */
function withFusedLstm(json: tf.io.ModelJSON): tf.io.ModelJSON["modelTopology"] {
  const meta = json.userDefinedMetadata as Partial<CheckpointMetadata> | undefined;
  const names = new Set(Array.isArray(meta?.fusedLstm) ? meta.fusedLstm : []);
  if (names.size === 0) return json.modelTopology;
  const topology = structuredClone(json.modelTopology) as {
    config?: { layers?: LayerEntry[] } | LayerEntry[];
  };
  const config = topology.config;
  const layers = Array.isArray(config) ? config : config?.layers ?? [];
  for (const layer of layers) {
    const c = layer.config;
    if (layer.class_name !== "LSTM" || !names.has(c["name"] as string)) continue;
    const camel = {
      activation: c["activation"],
      recurrentActivation: c["recurrent_activation"] === "hard_sigmoid"
        ? "hardSigmoid"
        : c["recurrent_activation"],
      useBias: c["use_bias"],
      returnState: c["return_state"],
      goBackwards: c["go_backwards"],
      stateful: c["stateful"],
      dropout: c["dropout"],
      units: c["units"],
    } as tf.serialization.ConfigDict;
    if (fusedIncompatibility(camel) === "") layer.class_name = "FusedLstm";
  }
  return topology as tf.io.ModelJSON["modelTopology"];
}

/**
 * The loss and optimizer settings of a compiled model. tfjs writes them only together with the
 * optimizer's weights (`includeOptimizer`), which we do not want, so ask the model directly.
 */
function trainingConfigOf(model: tf.LayersModel): tf.io.TrainingConfig | undefined {
  if (model.optimizer == null) return undefined;
  const withConfig = model as unknown as { getTrainingConfig(): tf.io.TrainingConfig };
  return withConfig.getTrainingConfig();
}

/** One buffer from tfjs's weight data, which may come as several. */
function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  float16: 2,
};

/** Bytes one manifest entry occupies in weights.bin. */
function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = DTYPE_BYTES[dtype];
  if (size === undefined) {
    throw new SyntaxError(
      `Cannot load checkpoint: weight ${spec.name} has unsupported dtype ${dtype}`,
    );
  }
  return count * size;
}
