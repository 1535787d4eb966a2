/**
 * Next-token probabilities for generation, in the two modes of `generate.mode`:
 *
 * - `window` (the tutorial's): every token comes from a fresh pass over the last T tokens, the
 *   LSTM state starting from zero, exactly what the model was trained on. The probabilities are
 *   bit for bit those of `model.predict`; where the model's LSTM layers run on the C loops, the
 *   T passes in flight advance together, one foreign call per token (model/fused/lstm_gates.c,
 *   lstm_window_tick; lstm_stack_last, one pass per token, where that cannot promise the same
 *   bits), instead of a tfjs graph with one call per layer, and only the small dense head runs
 *   in tfjs.
 * - `stateful`: the LSTM state is carried from token to token, one step per token, as
 *   Magenta's RNNs generate: T steps to read the start, then one per generated token.
 *
 * Both take the model's input encoding (a class id divided by the vocabulary size) and give the
 * softmax of its last layer.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { FusedLstm } from "./fused/fused_lstm.ts";
import type { LstmStack, NativeGates, WindowPipeline } from "./fused/lstm_native.ts";
import { packRecurrent, stackStateSize } from "./fused/lstm_native.ts";

/** How each token's probabilities are computed (see the module comment). */
export type GenerationMode = "window" | "stateful";

/** Probabilities of the next token, fed the start and then each chosen token. */
export interface NextToken {
  /** Reads the start (class ids, as many as the model's window) and predicts what follows. */
  start(ids: readonly number[]): Float32Array;
  /** Appends one chosen token and predicts what follows it. */
  push(id: number): Float32Array;
  /** How the LSTM layers run: `native` (one C call per token or step) or `tfjs`. */
  readonly path: "native" | "tfjs";
}

/** The model's LSTM layers as one stack for the C loops, or why they cannot run there. */
interface Parts {
  stack: LstmStack | null;
  gates: NativeGates | null;
  /** The layers after the last LSTM (normalisation, dense layers, softmax). */
  head: tf.layers.Layer[];
  lstms: tf.layers.Layer[];
}

function modelParts(model: tf.LayersModel): Parts {
  const layers = model.layers;
  let n = 0;
  while (n < layers.length && isLstm(layers[n]!)) n++;
  const lstms = layers.slice(0, n);
  const head = layers.slice(n);
  if (n === 0 || head.some(isLstm)) {
    throw new RangeError("Cannot generate: the model does not start with its LSTM layers");
  }
  const fused = lstms.every((l) => l instanceof FusedLstm && l.implementation?.gates);
  if (!fused) return { stack: null, gates: null, head, lstms };
  const first = lstms[0] as FusedLstm;
  const units = first.units;
  const inputSize = (first.getWeights()[0]!.shape[0]) as number;
  if (lstms.some((l) => (l as FusedLstm).units !== units)) {
    return { stack: null, gates: null, head, lstms };
  }
  const parts: Float32Array[] = [];
  const recurrent: Float32Array[] = [];
  for (const layer of lstms) {
    const [w, r, b] = layer.getWeights().map((t) => t.dataSync() as Float32Array);
    parts.push(w!, r!, b!);
    recurrent.push(r!);
  }
  const weights = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    weights.set(p, at);
    at += p.length;
  }
  return {
    stack: {
      weights,
      layers: lstms.length,
      inputSize,
      units,
      hard: first.recurrentActivation === "hardSigmoid",
      packed: packRecurrent(recurrent, units),
    },
    gates: first.implementation!.gates,
    head,
    lstms,
  };
}

function isLstm(layer: tf.layers.Layer): boolean {
  return layer instanceof FusedLstm || layer.getClassName() === "LSTM";
}

/** The head's softmax for the last LSTM layer's output `h` ([1, U]). */
function runHead(head: tf.layers.Layer[], h: Float32Array): Float32Array {
  const out = tf.tidy(() => {
    let x: tf.Tensor = tf.tensor2d(h, [1, h.length]);
    for (const layer of head) x = layer.apply(x, { training: false }) as tf.Tensor;
    return x;
  });
  try {
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
  }
}

/** How window mode may run; the default is the fastest path that gives the same bits. */
export interface WindowOptions {
  /**
   * Advance the T passes in flight together, one tick per token (default true where the C
   * loops allow it); false makes one whole pass per token, for the benchmark's before/after.
   */
  passesInFlight?: boolean;
}

/**
 * A {@link NextToken} for `model` (a loaded checkpoint) over a vocabulary of `vocabSize`, in
 * `mode`.
 */
export function nextTokenModel(
  model: tf.LayersModel,
  vocabSize: number,
  mode: GenerationMode,
  options: WindowOptions = {},
): NextToken {
  const parts = modelParts(model);
  const encode = (id: number) => id / vocabSize;
  return mode === "window"
    ? windowModel(model, parts, encode, options.passesInFlight ?? true)
    : statefulModel(parts, encode);
}

function windowModel(
  model: tf.LayersModel,
  { stack, gates, head }: Parts,
  encode: (id: number) => number,
  passesInFlight: boolean,
): NextToken {
  let window: number[] = [];
  let pipeline: WindowPipeline | null | undefined;
  const predict = (): Float32Array => {
    const x = Float32Array.from(window, encode);
    if (stack && gates) return runHead(head, gates.stackLast(stack, x));
    const out = tf.tidy(() => model.predict(tf.tensor3d(x, [1, window.length, 1])) as tf.Tensor);
    try {
      return out.dataSync() as Float32Array;
    } finally {
      out.dispose();
    }
  };
  return {
    path: stack ? "native" : "tfjs",
    start(ids) {
      window = [...ids];
      if (stack && gates && passesInFlight) pipeline = gates.windowPipeline(stack, ids.length);
      if (pipeline) return runHead(head, pipeline.start(Float32Array.from(ids, encode)));
      return predict();
    },
    push(id) {
      window.push(id);
      window.shift();
      if (pipeline) return runHead(head, pipeline.push(Float32Array.of(encode(id))));
      return predict();
    },
  };
}

function statefulModel({ stack, gates, head, lstms }: Parts, encode: (id: number) => number) {
  const step = stack && gates ? nativeStep(stack, gates) : tfjsStep(lstms);
  // A step is ~0.1 ms on the C loops; the head through tfjs would add ~0.3 ms to it.
  const headOf = (gates && plainHead(head, gates)) || ((h: Float32Array) => runHead(head, h));
  let last: Float32Array = new Float32Array(0);
  const model: NextToken = {
    path: stack ? "native" : "tfjs",
    start(ids) {
      step.reset();
      for (const id of ids) last = step.feed(encode(id));
      return headOf(last);
    },
    push(id) {
      return headOf(step.feed(encode(id)));
    },
  };
  return model;
}

/** One layer of the head as plain arrays. */
type HeadOp =
  | { kind: "affine"; scale: Float32Array; shift: Float32Array }
  | { kind: "dense"; kernel: Float32Array; bias: Float32Array | null; units: number }
  | { kind: "relu" | "softmax" | "linear" };

/**
 * The head (batch normalisation at inference, dense layers, relu, softmax; dropout is the
 * identity) on the C dense product, for the stateful step; null for any other layer, which then
 * runs in tfjs. Rounds differently from tfjs in the last bits, which stateful mode allows.
 */
function plainHead(
  head: tf.layers.Layer[],
  gates: NativeGates,
): ((h: Float32Array) => Float32Array) | null {
  const ops: HeadOp[] = [];
  for (const layer of head) {
    const name = layer.getClassName();
    const config = layer.getConfig();
    const weights = layer.getWeights().map((w) => w.dataSync() as Float32Array);
    if (name === "Dropout" || name === "SeededDropout") continue;
    if (name === "BatchNormalization") {
      if (config["center"] === false || config["scale"] === false) return null;
      const [gamma, beta, mean, variance] = weights as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const epsilon = config["epsilon"] as number;
      const scale = gamma.map((g, i) => g / Math.sqrt(variance[i]! + epsilon));
      const shift = beta.map((b, i) => b - mean[i]! * scale[i]!);
      ops.push({ kind: "affine", scale, shift });
    } else if (name === "Dense" || name === "Activation") {
      if (name === "Dense") {
        const units = config["units"] as number;
        ops.push({ kind: "dense", kernel: weights[0]!, bias: weights[1] ?? null, units });
      }
      const activation = config["activation"] as string;
      if (activation !== "relu" && activation !== "softmax" && activation !== "linear") {
        return null;
      }
      ops.push({ kind: activation });
    } else return null;
  }
  return (h) => {
    let x = h;
    for (const op of ops) {
      if (op.kind === "affine") x = x.map((v, i) => v * op.scale[i]! + op.shift[i]!);
      else if (op.kind === "dense") {
        const y = op.bias ? op.bias.slice() : new Float32Array(op.units);
        gates.denseRow(x, op.kernel, y);
        x = y;
      } else if (op.kind === "relu") x = x.map((v) => Math.max(v, 0));
      else if (op.kind === "softmax") {
        const max = x.reduce((a, b) => Math.max(a, b), -Infinity);
        const e = x.map((v) => Math.exp(v - max));
        const total = e.reduce((a, b) => a + b, 0);
        x = e.map((v) => v / total);
      }
    }
    return x;
  };
}

/** One step of the stacked LSTM layers with their state carried: feed returns the top h. */
interface Stepper {
  reset(): void;
  feed(x: number): Float32Array;
}

function nativeStep(stack: LstmStack, gates: NativeGates): Stepper {
  const state = new Float32Array(stackStateSize(stack));
  const x = new Float32Array(1);
  return {
    reset: () => state.fill(0),
    feed(value) {
      x[0] = value;
      return gates.stackStep(stack, x, state);
    },
  };
}

/**
 * The same step in tfjs ops, where the layers do not run on the C loops: Keras's LSTM
 * equations (gate order i, f, c, o) with the layer's recurrent activation.
 */
function tfjsStep(lstms: tf.layers.Layer[]): Stepper {
  const layers = lstms.map((layer) => {
    const [w, r, b] = layer.getWeights() as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const config = layer.getConfig();
    const hard = (config["recurrentActivation"] ?? "hardSigmoid") === "hardSigmoid";
    return { w, r, b, units: r.shape[0], hard };
  });
  let state: { h: tf.Tensor2D; c: tf.Tensor2D }[] = [];
  const reset = () => {
    for (const s of state) tf.dispose([s.h, s.c]);
    state = layers.map((l) => ({ h: tf.zeros([1, l.units]), c: tf.zeros([1, l.units]) }));
  };
  reset();
  return {
    reset,
    feed(value) {
      const next = tf.tidy(() => {
        let x: tf.Tensor2D = tf.tensor2d([[value]]);
        return layers.map((l, i) => {
          const z = tf.add(tf.add(tf.matMul(x, l.w), tf.matMul(state[i]!.h, l.r)), l.b);
          const [zi, zf, zc, zo] = tf.split(z, 4, 1) as tf.Tensor2D[];
          const gate = (t: tf.Tensor2D) =>
            l.hard ? tf.clipByValue(tf.add(tf.mul(t, 0.2), 0.5), 0, 1) : tf.sigmoid(t);
          const c = tf.add(tf.mul(gate(zf!), state[i]!.c), tf.mul(gate(zi!), tf.tanh(zc!)));
          const h = tf.mul(gate(zo!), tf.tanh(c));
          x = h as tf.Tensor2D;
          return { h: h as tf.Tensor2D, c: c as tf.Tensor2D };
        });
      });
      for (const s of state) tf.dispose([s.h, s.c]);
      state = next;
      return state.at(-1)!.h.dataSync() as Float32Array;
    },
  };
}
