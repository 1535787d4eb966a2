/**
 * A TF.js Layers checkpoint as store objects: `model.json` and `weights.bin`.
 *
 * The bytes are exactly what `model.save("file://dir")` or `browserFiles` would write: a
 * model.json in the standard layers-model format whose one weights-manifest group points at
 * `weights.bin`, so a checkpoint copied out of the store loads with `tf.loadLayersModel` in
 * Node, a browser or tfjs-converter. No file system is touched here: bytes in, bytes out.
 *
 * The training config (loss, Adam settings) is included: it is small, deterministic, and lets a
 * loader `compile` the model as it was. Optimizer weights are not (we never resume training).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
// Registers the fused LSTM layer's class, so checkpoints trained with `train.lstm: blas` load.
import "./fused_lstm.ts";

/** A checkpoint as named bytes, ready to become stage outputs. */
export interface CheckpointFiles {
  "model.json": Uint8Array;
  "weights.bin": Uint8Array;
}

/** The weights file name written into the manifest. */
const WEIGHTS_FILE = "weights.bin";

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

/**
 * Loads a model from checkpoint bytes.
 *
 * @throws {SyntaxError} When model.json is not a layers-model JSON or the weights do not match.
 */
export async function loadCheckpoint(files: CheckpointFiles): Promise<tf.LayersModel> {
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
  return await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData,
    trainingConfig: json.trainingConfig,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  }));
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
