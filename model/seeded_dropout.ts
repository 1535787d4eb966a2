/**
 * Dropout that is both seeded and different at every step: the dropout layer, the masks tfjs's
 * LSTM cell draws, and the recurrent masks of the fused LSTM.
 *
 * tfjs's own answer to "seeded dropout" does not work for training: `tf.layers.dropout({seed})`
 * passes the same seed to `tf.randomUniform` on every call, so every batch of every epoch drops
 * the same units, and an unseeded layer draws from `Math.random`, so two runs differ. Here each
 * layer owns a seeded stream ({@link seededRandom}) and draws a fresh seed for every mask, so a
 * run repeats exactly and the masks still change from step to step.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeed, seededRandom, seedStream } from "./random.ts";

/**
 * A dropout function for an RNN cell's `dropoutFunc` (tfjs calls it for each recurrent mask):
 * `(ones, rate) => mask`, seeded from `seed`.
 */
export function seededDropoutFunc(seed: number): (ones: tf.Tensor, rate: number) => tf.Tensor {
  const next = seedStream(seed);
  return (ones, rate) => tf.dropout(ones, rate, undefined, next());
}

/** Arguments of {@link SeededDropout}. */
export interface SeededDropoutArgs {
  rate: number;
  seed: number;
  name?: string;
}

/**
 * A Dropout layer with per-step seeded masks. It serialises as a standard Keras/tfjs `Dropout`
 * (class name `Dropout`, config `rate` and `seed`), so a saved model loads anywhere without
 * registering this class; at inference the two behave the same (dropout is off).
 */
export class SeededDropout extends tf.layers.Layer {
  /** The class name written into model.json: plain `Dropout`, on purpose. */
  static className = "Dropout";
  private readonly rate: number;
  private readonly seed: number;
  private nextSeed: () => number;

  constructor(args: SeededDropoutArgs) {
    super({ name: args.name });
    this.rate = Math.max(Math.min(args.rate, 1), 0);
    this.seed = args.seed;
    this.nextSeed = seedStream(args.seed);
    this.supportsMasking = true;
  }

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    // The stream advances only on training steps, so inference in between (e.g. a validation
    // predict) does not shift the masks of later steps.
    if (kwargs["training"] !== true || this.rate <= 0 || this.rate >= 1) return input;
    const seed = this.nextSeed();
    return tf.tidy(() => tf.dropout(input, this.rate, undefined, seed));
  }

  /**
   * Restarts the mask stream for `epoch`, so each epoch's masks depend only on (seed, epoch)
   * and a training run resumed at an epoch draws what an uninterrupted one would.
   */
  startEpoch(epoch: number): void {
    this.nextSeed = seedStream(mixSeed(this.seed, epoch));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { rate: this.rate, noiseShape: null, seed: this.seed, ...super.getConfig() };
  }
}

/**
 * The fused LSTM's recurrent dropout mask for one call: each of batch·units entries is 0 with
 * probability `rate`, else 1/(1-rate) (inverted dropout, as tfjs scales). Deterministic in
 * (seed, counter); the counter advances per training call, so consecutive masks are unrelated.
 */
export function recurrentMask(
  batch: number,
  units: number,
  rate: number,
  seed: number,
  counter: number,
): Float32Array {
  const rng = seededRandom(mixSeed(seed, counter, "hashed"));
  const keep = 1 / (1 - rate);
  const m = new Float32Array(batch * units);
  for (let i = 0; i < m.length; i++) m[i] = rng() < rate ? 0 : keep;
  return m;
}
