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
 * `generate.prime` goes beyond it too: a MIDI file, tokenized as parse does (in parse's encoding), whose last
 * `window.length` tokens start the piece instead (its bytes are part of the stage key). The
 * generated tokens alone are the output, with or without a primer.
 *
 * `generate.mode` picks how each token is predicted (model/generation.ts): `window`, the
 * tutorial's fresh pass over the last window.length tokens, or `stateful`, one LSTM step per
 * token with the state carried. `generate.count` makes several pieces, each from its own seeded
 * start, drawing from one stream so the first piece is the one a count of 1 gives:
 * `tokens.json` holds it, `pieces.json` all of them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  defineStage,
  input,
  type Progress,
  type StageContext,
  StageInputError,
} from "../core/stage.ts";
import { rawBytes } from "../formats/codec.ts";
import { trainHistory } from "../formats/history.ts";
import {
  piecePrimers,
  type TokenEncoding,
  tokenEncoding,
  tokenIds,
  tokenList,
  tokenLists,
  vocabulary as vocabularyCodec,
} from "../formats/tokens.ts";
import { disposeModel } from "../model/build_model.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { selectBackend } from "../model/backend.ts";
import { ModelError } from "../model/errors.ts";
import { MidiReadError } from "../music/tokenize.ts";
import { DEFAULT_MAX_QUARTERS, DrumGridTooLongError, tokenizeFile } from "../music/encoding.ts";
import type { Config } from "../formats/config_schema.ts";
import { resolveLstm } from "../model/lstm_implementation.ts";
import { randomInt, seededRandom } from "../model/random.ts";
import { chooseNext, type Sampling } from "../model/sampling.ts";
import { type NextToken, nextTokenModel } from "../model/generation.ts";
import { tokenSequences } from "../formats/sequences.ts";
import { generateSequences } from "./support/generate_sequence.ts";

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
    encoding: input("parse", "encoding.json", tokenEncoding),
    // Where a sequence network's pieces take their primers: the test-split files.
    testFiles: input("heldout", "test-sequences.json", tokenSequences),
  },
  outputs: { "tokens.json": tokenList, "pieces.json": tokenLists, "primers.json": piecePrimers },
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
  async run(
    { tokens, vocab, modelJson, weights, history, encoding, testFiles },
    config,
    ctx,
  ) {
    if (history.network === "sequence" || history.network === "transformer") {
      const primeTokens = config.generate.prime === ""
        ? undefined
        : await primerTokens(config.generate.prime, encoding, ctx);
      const { pieces, primers } = await generateSequences(
        {
          checkpoint: { "model.json": modelJson, "weights.bin": weights },
          vocab,
          encoding,
          test: testFiles,
          primeTokens,
        },
        config.generate,
        ctx,
      );
      ctx.metric("distinctTokens", new Set(pieces[0]).size);
      return { "tokens.json": pieces[0]!, "pieces.json": pieces, "primers.json": primers };
    }
    const vocabulary = vocab.tokens;
    const length = config.window.length;
    const index = tokenIds(vocab);
    const primer = config.generate.prime === ""
      ? undefined
      : await primerIds(config.generate.prime, length, index, encoding, ctx);
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
      // One stream of draws for every piece, so piece 1 is the piece a count of 1 gives.
      const rng = seededRandom(config.generate.seed);
      const { count } = config.generate;
      const next = nextTokenModel(model, vocabulary.length, config.generate.mode);
      ctx.info(
        `${config.generate.mode} mode on ${
          next.path === "native" ? "the native LSTM loops" : "tfjs"
        }${count > 1 ? `, ${count} pieces` : ""}`,
      );
      const pieces: string[][] = [];
      const starts: number[] = [];
      const bar = ctx.progress("generate", count * config.generate.length);
      const began = performance.now();
      try {
        for (let piece = 0; piece < count; piece++) {
          let start = primer;
          if (start === undefined) {
            const at = randomInt(rng, windows);
            starts.push(at);
            start = ids.slice(at, at + length);
          }
          pieces.push(await generatePiece(next, start, vocabulary, config.generate, rng, ctx, bar));
        }
      } finally {
        bar.done();
      }
      const seconds = (performance.now() - began) / 1000;
      ctx.metric("tokensPerSecond", Math.round(count * config.generate.length / seconds));
      if (starts.length > 0) ctx.metric("startIndex", count > 1 ? starts : starts[0]!);
      ctx.metric("distinctTokens", new Set(pieces[0]).size);
      // The tutorial's pieces start from windows of the training tokens, not from files.
      return { "tokens.json": pieces[0]!, "pieces.json": pieces, "primers.json": [] };
    } finally {
      disposeModel(model);
    }
  },
});

/** One piece of `sampling.length` tokens after `start` (class ids). */
async function generatePiece(
  next: NextToken,
  start: number[],
  vocabulary: string[],
  sampling: Sampling & { length: number },
  rng: () => number,
  ctx: StageContext,
  bar: Progress,
): Promise<string[]> {
  const generated: string[] = [];
  let p = next.start(start);
  for (let i = 0; i < sampling.length; i++) {
    ctx.signal.throwIfAborted();
    const id = chooseNext(p, sampling, rng);
    generated.push(vocabulary[id]!);
    if (i + 1 < sampling.length) p = next.push(id);
    bar.tick(1);
    // The predictions resolve without a macrotask turn; yield so interrupts and redraws run.
    if (i % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return generated;
}

/**
 * The class ids of the last `length` tokens of the primer file `path` (`generate.prime`), read
 * through the context and tokenized as parse does; one sentence when it cannot start a piece.
 */
async function primerIds(
  path: string,
  length: number,
  index: Map<string, number>,
  encoding: TokenEncoding,
  ctx: StageContext,
): Promise<number[]> {
  const tokens = await primerTokens(path, encoding, ctx);
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
 * The tokens of the primer file `path` (`generate.prime`), read through the context and
 * tokenized as parse does; one sentence when it cannot be read.
 */
async function primerTokens(
  path: string,
  encoding: TokenEncoding,
  ctx: StageContext,
): Promise<string[]> {
  try {
    // generate reads no parse settings (its key would change), so a primer is held to
    // parse.maxQuarters' default: an hour at 300 bpm, far more than a piece needs.
    return tokenizeFile(await ctx.readFile(path), encoding, {
      maxQuarters: DEFAULT_MAX_QUARTERS,
    }).tokens;
  } catch (e) {
    if (e instanceof DrumGridTooLongError) {
      throw new StageInputError(
        `generate.prime ${path}: its drum grid would be ${e.quarters} quarter notes long, over ` +
          `the limit of ${e.maxQuarters} (parse.maxQuarters' default, which generate keeps); ` +
          `prime from a shorter file`,
        { cause: e },
      );
    }
    if (!(e instanceof MidiReadError)) throw e;
    throw new StageInputError(
      `generate.prime ${path} cannot be read as a MIDI file (${e.reason}); give a Standard MIDI File`,
      { cause: e },
    );
  }
}
