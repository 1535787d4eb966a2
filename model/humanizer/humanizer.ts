/**
 * Trains the humanizer (humanize_step.js has its shape and its inference) on performances: each
 * step that holds a hit is an example, each drum struck on it asks for its velocity class and its
 * offset class, and the loss is their cross-entropy, nats per hit (velocity and offset together).
 * Adam on seeded shuffles; the weights kept are the epoch's with the lowest loss on the
 * validation files.
 *
 * Inputs are the grid alone (which drums, which step, the style, the tempo): the velocities and
 * offsets a user's file may hold are what the network replaces, so it never reads them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Performance } from "../../music/drums/performance.ts";
import { offsetRange } from "../../music/drums/expressive_drums.ts";
import { DRUM_CLASS_NAMES } from "../../music/drums/drums.ts";
import type { Gemm } from "../fused/gemm.ts";
import { gemmDense } from "../gemm_product.ts";
import { mixSeed, seededRandom, shuffleInPlace } from "../random.ts";
import {
  classOfVelocity,
  featureCount,
  type HumanizerLayout,
  type HumanizerModel,
  stepFeatures,
  weightShapes,
} from "./humanize_step.js";

/** One performance to learn from or score on. */
export interface HumanizerFile {
  performance: Performance;
  /** Index in the layout's styles, or -1. */
  style: number;
  bpm: number;
}

/** How to train. */
export interface HumanizerTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Dropout rate on both hidden layers while training. */
  dropout: number;
  seed: number;
  /** OpenBLAS's sgemm for the products where it loads (model/gemm_product.ts), else null. */
  gemm: Gemm | null;
}

/** One epoch's losses, nats per hit. */
export interface HumanizerEpoch {
  epoch: number;
  loss: number;
  validationLoss: number;
}

/** What {@link trainHumanizer} returns. */
export interface TrainedHumanizer {
  model: HumanizerModel;
  history: HumanizerEpoch[];
  /** The epoch whose weights were kept (1-based). */
  bestEpoch: number;
}

/** Velocity buckets of 5 over 1–127, as the expressive encoding's. */
export const VELOCITY_CLASSES = 26;

/**
 * The layout of a humanizer for drums on a grid of `stepsPerQuarter` (one that divides 96):
 * 4/4 bars, the expressive encoding's velocity buckets and offsets.
 */
export function humanizerLayout(
  options: Pick<HumanizerLayout, "context" | "stepsPerQuarter" | "styles" | "hidden">,
): HumanizerLayout {
  const { min, max } = offsetRange(options.stepsPerQuarter);
  return {
    ...options,
    drums: DRUM_CLASS_NAMES.length,
    stepsPerBar: 4 * options.stepsPerQuarter,
    velocityClasses: VELOCITY_CLASSES,
    offsetMin: min,
    offsetClasses: max - min + 1,
  };
}

/** A file's steps as the network reads them: drum masks, and the targets of each hit. */
interface Encoded {
  masks: Uint16Array;
  /** [steps × drums]: velocity class, or -1 where the drum is not struck. */
  velocity: Int8Array;
  /** [steps × drums]: offset class. */
  offset: Int8Array;
  style: number;
  bpm: number;
}

function encode(layout: HumanizerLayout, file: HumanizerFile): Encoded {
  const { steps, hits } = file.performance;
  const masks = new Uint16Array(steps);
  const velocity = new Int8Array(steps * layout.drums).fill(-1);
  const offset = new Int8Array(steps * layout.drums).fill(-1);
  const last = layout.offsetClasses - 1;
  for (const h of hits) {
    masks[h.step]! |= 1 << h.drumClass;
    velocity[h.step * layout.drums + h.drumClass] = classOfVelocity(h.velocity);
    offset[h.step * layout.drums + h.drumClass] = Math.min(
      last,
      Math.max(0, h.offset - layout.offsetMin),
    );
  }
  return { masks, velocity, offset, style: file.style, bpm: file.bpm };
}

/** (file, step) of every step that holds a hit. */
function examplesOf(files: readonly Encoded[]): [number, number][] {
  const out: [number, number][] = [];
  files.forEach((f, i) => f.masks.forEach((m, t) => m !== 0 && out.push([i, t])));
  return out;
}

/** A batch's inputs and one-hot targets. */
function batchTensors(
  layout: HumanizerLayout,
  files: readonly Encoded[],
  examples: readonly [number, number][],
) {
  const F = featureCount(layout);
  const { drums, velocityClasses: V, offsetClasses: O } = layout;
  const x = new Float32Array(examples.length * F);
  const vt = new Float32Array(examples.length * drums * V);
  const ot = new Float32Array(examples.length * drums * O);
  const row = new Float32Array(F);
  let hits = 0;
  examples.forEach(([i, t], b) => {
    const f = files[i]!;
    stepFeatures(layout, f.masks, t, f.style, f.bpm, row);
    x.set(row, b * F);
    for (let d = 0; d < drums; d++) {
      const v = f.velocity[t * drums + d]!;
      if (v < 0) continue;
      hits++;
      vt[(b * drums + d) * V + v] = 1;
      ot[(b * drums + d) * O + f.offset[t * drums + d]!] = 1;
    }
  });
  return {
    x: tf.tensor2d(x, [examples.length, F]),
    vt: tf.tensor3d(vt, [examples.length, drums, V]),
    ot: tf.tensor3d(ot, [examples.length, drums, O]),
    hits,
  };
}

/** Summed cross-entropy of a batch's hits (velocity and offset), as a scalar tensor. */
function batchLoss(
  layout: HumanizerLayout,
  vars: tf.Variable[],
  x: tf.Tensor2D,
  vt: tf.Tensor3D,
  ot: tf.Tensor3D,
  gemm: Gemm | null,
  dropout?: { rate: number; seed: number },
): tf.Scalar {
  const [w1, b1, w2, b2, w3, b3] = vars as [
    tf.Variable,
    tf.Variable,
    tf.Variable,
    tf.Variable,
    tf.Variable,
    tf.Variable,
  ];
  const dense = (a: tf.Tensor2D, w: tf.Variable, b: tf.Variable) =>
    gemm === null
      ? tf.add(tf.matMul(a, w), b) as tf.Tensor2D
      : gemmDense(a, w as tf.Tensor2D, b as tf.Tensor1D, gemm);
  const drop = (a: tf.Tensor2D, n: number) =>
    dropout === undefined
      ? a
      : tf.dropout(a, dropout.rate, undefined, dropout.seed + n) as tf.Tensor2D;
  const h1 = drop(tf.relu(dense(x, w1, b1)) as tf.Tensor2D, 0);
  const h2 = drop(tf.relu(dense(h1, w2, b2)) as tf.Tensor2D, 1);
  const logits = dense(h2, w3, b3).reshape([
    x.shape[0],
    layout.drums,
    layout.velocityClasses + layout.offsetClasses,
  ]);
  const [vl, ol] = tf.split(logits, [layout.velocityClasses, layout.offsetClasses], 2);
  const nll = tf.add(
    tf.sum(tf.mul(vt, tf.logSoftmax(vl as tf.Tensor3D))),
    tf.sum(tf.mul(ot, tf.logSoftmax(ol as tf.Tensor3D))),
  );
  return tf.neg(nll) as tf.Scalar;
}

/** Glorot-uniform weights and zero biases, from `seed`. */
function initialWeights(layout: HumanizerLayout, seed: number): Float32Array[] {
  const rng = seededRandom(seed);
  const sizes = weightShapes(layout).filter((shape) => shape.length === 2) as [number, number][];
  return sizes.flatMap(([fanIn, fanOut]) => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const w = Float32Array.from({ length: fanIn * fanOut }, () => (rng() * 2 - 1) * limit);
    return [w, new Float32Array(fanOut)];
  });
}

/**
 * Mean cross-entropy per hit of `files` under the weights in `vars`, in batches.
 */
function meanLoss(
  layout: HumanizerLayout,
  vars: tf.Variable[],
  files: readonly Encoded[],
  batchSize: number,
  gemm: Gemm | null,
): number {
  const examples = examplesOf(files);
  let sum = 0, hits = 0;
  for (let at = 0; at < examples.length; at += batchSize) {
    const batch = batchTensors(layout, files, examples.slice(at, at + batchSize));
    const loss = tf.tidy(() => batchLoss(layout, vars, batch.x, batch.vt, batch.ot, gemm));
    sum += loss.dataSync()[0]!;
    hits += batch.hits;
    tf.dispose([loss, batch.x, batch.vt, batch.ot]);
  }
  return hits === 0 ? NaN : sum / hits;
}

/**
 * Trains a humanizer of `layout` on `train`, keeping the weights of the epoch with the lowest
 * loss on `validation`.
 *
 * @param onEpoch called after each epoch (progress, and to stop: return false to end early)
 * @param onBatch called after each batch with the batches done this epoch and their count
 */
export async function trainHumanizer(
  layout: HumanizerLayout,
  train: readonly HumanizerFile[],
  validation: readonly HumanizerFile[],
  settings: HumanizerTraining,
  onEpoch: (epoch: HumanizerEpoch) => boolean | void = () => {},
  onBatch: (done: number, total: number) => void = () => {},
): Promise<TrainedHumanizer> {
  const trainSet = train.map((f) => encode(layout, f));
  const validationSet = validation.map((f) => encode(layout, f));
  const examples = examplesOf(trainSet);
  const shapes = weightShapes(layout);
  const shaped = initialWeights(layout, settings.seed).map((w, i) =>
    tf.variable(tf.tensor(w, shapes[i]), true)
  );
  const optimizer = tf.train.adam(settings.learningRate);
  const history: HumanizerEpoch[] = [];
  let best: Float32Array[] = shaped.map((v) => v.dataSync().slice() as Float32Array);
  let bestLoss = Infinity, bestEpoch = 0;
  const batches = Math.ceil(examples.length / settings.batchSize);
  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      shuffleInPlace(examples, seededRandom(mixSeed(settings.seed, epoch)));
      let sum = 0, hits = 0;
      for (let b = 0; b < batches; b++) {
        const batch = batchTensors(
          layout,
          trainSet,
          examples.slice(b * settings.batchSize, (b + 1) * settings.batchSize),
        );
        const loss = optimizer.minimize(
          () =>
            tf.div(
              batchLoss(layout, shaped, batch.x, batch.vt, batch.ot, settings.gemm, {
                rate: settings.dropout,
                seed: mixSeed(settings.seed, epoch * batches + b, "hashed"),
              }),
              batch.hits,
            ),
          true,
          shaped,
        );
        sum += loss!.dataSync()[0]! * batch.hits;
        hits += batch.hits;
        tf.dispose([loss!, batch.x, batch.vt, batch.ot]);
        onBatch(b + 1, batches);
        // Lets a Ctrl-C or a progress line through between batches.
        if (b % 50 === 49) await new Promise((r) => setTimeout(r, 0));
      }
      const validationLoss = meanLoss(layout, shaped, validationSet, 1024, settings.gemm);
      const record = { epoch, loss: sum / Math.max(1, hits), validationLoss };
      history.push(record);
      if (validationLoss < bestLoss) {
        bestLoss = validationLoss;
        bestEpoch = epoch;
        best = shaped.map((v) => v.dataSync().slice() as Float32Array);
      }
      if (onEpoch(record) === false) break;
    }
  } finally {
    optimizer.dispose();
    tf.dispose(shaped);
  }
  return { model: { layout, weights: best }, history, bestEpoch };
}
