/**
 * generate: turns a seed window into `generate.length` new tokens, as the tutorial's
 * generate_notes does: start from a window of the training tokens, predict the next token
 * greedily (argmax of the softmax), append it, drop the window's first token, repeat.
 *
 * The tutorial picks the start with `numpy.random.randint`; here it comes from
 * `generate.seed`, so one config always generates the same tokens from one checkpoint.
 * `generate.temperature` above 0 goes beyond the tutorial: it samples each token from the
 * softmax sharpened or flattened by the temperature (seeded too), because a greedy decoder on
 * a briefly trained model tends to repeat one token.
 *
 * `generate.prime` goes beyond it too: a MIDI file, tokenized as parse does, whose last
 * `window.length` tokens start the piece instead (its bytes are part of the stage key). The
 * generated tokens alone are the output, with or without a primer.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { defineStage, input, type StageContext, StageInputError } from "../core/stage.ts";
import { rawBytes } from "../formats/codec.ts";
import { trainHistory } from "../formats/history.ts";
import { tokenIds, tokenList, vocabulary as vocabularyCodec } from "../formats/tokens.ts";
import { disposeModel } from "../model/build_model.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { selectBackend } from "../model/backend.ts";
import { ModelError } from "../model/errors.ts";
import { MidiReadError, tokenizeMidi } from "../music/tokenize.ts";
import type { Config } from "../core/config_schema.ts";
import { resolveLstm } from "../model/lstm_implementation.ts";
import { randomInt, seededRandom } from "../model/random.ts";
import { chooseNext, type Sampling } from "../model/sampling.ts";

export const generate = defineStage({
  name: "generate",
  module: import.meta.url,
  description:
    "predicts generate.length tokens greedily from a seeded window of the training tokens",
  inputs: {
    tokens: input("parse", "notes.json", tokenList),
    vocab: input("vocab", "vocab.json", vocabularyCodec),
    modelJson: input("train", "model.json", rawBytes),
    weights: input("train", "weights.bin", rawBytes),
    history: input("train", "history.json", trainHistory),
  },
  outputs: { "tokens.json": tokenList },
  // The backend is the one train used (from history.json, an input), so generate reads no
  // train settings: changing train.epochs reaches it only through the model.
  reads: ["generate", "window"],
  files: (config): Record<string, string> =>
    config.generate.prime === "" ? {} : { "generate.prime": config.generate.prime },
  async environment() {
    // The checkpoint loads into the fused layer where OpenBLAS loads, else tf.layers.lstm; the
    // two can differ in the last bits of a probability, so the choice is part of the key.
    return { tfjs: tf.version.tfjs, lstm: resolveLstm("auto").id };
  },
  async run({ tokens, vocab, modelJson, weights, history }, config, ctx) {
    const vocabulary = vocab.tokens;
    const length = config.window.length;
    const index = tokenIds(vocab);
    const primer = config.generate.prime === ""
      ? undefined
      : await primerIds(config.generate.prime, length, index, ctx);
    const windows = tokens.length - length;
    if (primer === undefined && windows < 1) {
      throw new StageInputError(
        `${tokens.length} tokens give no window of window.length ${length}`,
      );
    }
    const ids = tokens.map((token) => {
      const id = index.get(token);
      if (id === undefined) {
        throw new StageInputError(`token ${JSON.stringify(token)} is not in vocab.json`);
      }
      return id;
    });

    let backend: string;
    try {
      ({ backend } = await selectBackend(history.backend as Config["train"]["backend"]));
    } catch (e) {
      // A backend train used that does not load here: the user's to fix, in model/'s words.
      if (e instanceof ModelError) throw new StageInputError(e.message, { cause: e });
      throw e;
    }
    ctx.info(`backend ${backend}, as train used`);
    ctx.metric("backend", backend);
    const model = await loadCheckpoint({ "model.json": modelJson, "weights.bin": weights }, {
      lstm: resolveLstm("auto"),
    });
    try {
      const inputShape = model.inputs[0]?.shape;
      const outputUnits = model.outputs[0]?.shape.at(-1);
      if (inputShape?.[1] !== length || outputUnits !== vocabulary.length) {
        throw new StageInputError(
          `the checkpoint takes windows of ${inputShape?.[1]} and predicts ` +
            `${outputUnits} tokens, but window.length is ${length} and vocab.json has ` +
            `${vocabulary.length}`,
        );
      }
      // Every window 0 … tokens.length − length − 1 can start (the window stage made as many).
      const rng = seededRandom(config.generate.seed);
      let pattern: number[];
      if (primer !== undefined) pattern = primer;
      else {
        const start = randomInt(rng, windows);
        ctx.metric("startIndex", start);
        pattern = ids.slice(start, start + length);
      }
      const generated: string[] = [];
      const bar = ctx.progress("generate", config.generate.length);
      try {
        for (let i = 0; i < config.generate.length; i++) {
          ctx.signal.throwIfAborted();
          const next = predictNext(model, pattern, vocabulary.length, config.generate, rng);
          generated.push(vocabulary[next]!);
          pattern.push(next);
          pattern.shift();
          bar.tick(1);
          // predict resolves without a macrotask turn; yield so interrupts and redraws run.
          if (i % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 0));
        }
      } finally {
        bar.done();
      }
      ctx.metric("distinctTokens", new Set(generated).size);
      return { "tokens.json": generated };
    } finally {
      disposeModel(model);
    }
  },
});

/**
 * The class ids of the last `length` tokens of the primer file `path` (`generate.prime`), read
 * through the context and tokenized as parse does; one sentence when it cannot start a piece.
 */
async function primerIds(
  path: string,
  length: number,
  index: Map<string, number>,
  ctx: StageContext,
): Promise<number[]> {
  let tokens: string[];
  try {
    tokens = tokenizeMidi(await ctx.readFile(path));
  } catch (e) {
    if (!(e instanceof MidiReadError)) throw e;
    throw new StageInputError(
      `generate.prime ${path} cannot be read as a MIDI file (${e.reason}); give a Standard MIDI File`,
      { cause: e },
    );
  }
  if (tokens.length < length) {
    throw new StageInputError(
      `generate.prime ${path} gives ${tokens.length} tokens; generation needs at least window.length = ${length}: give a longer file or lower window.length`,
    );
  }
  const window = tokens.slice(tokens.length - length);
  const unknown = [...new Set(window.filter((t) => !index.has(t)))];
  if (unknown.length > 0) {
    const more = unknown.length > 3 ? ` (and ${unknown.length - 3} more)` : "";
    throw new StageInputError(
      `generate.prime ${path} holds tokens the training vocabulary lacks: ${
        unknown.slice(0, 3).join(", ")
      }${more}; prime from a file closer to the training data`,
    );
  }
  ctx.info(`starting from the last ${length} of ${tokens.length} tokens of ${path}`);
  ctx.metric("primerTokens", tokens.length);
  return window.map((t) => index.get(t)!);
}

/**
 * The next class id after `pattern` (ids, normalised by the vocabulary size): the most likely
 * one at temperature 0 (the tutorial's argmax), else a seeded draw (model/sampling.ts).
 */
function predictNext(
  model: tf.LayersModel,
  pattern: number[],
  vocabSize: number,
  sampling: Sampling,
  rng: () => number,
): number {
  const input = Float32Array.from(pattern, (id) => id / vocabSize);
  const probabilities = tf.tidy(() =>
    model.predict(tf.tensor3d(input, [1, pattern.length, 1])) as tf.Tensor
  );
  let p: Float32Array;
  try {
    p = probabilities.dataSync() as Float32Array;
  } finally {
    probabilities.dispose();
  }
  return chooseNext(p, sampling, rng);
}
