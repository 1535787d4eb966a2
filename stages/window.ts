/**
 * window: every run of `window.length` tokens, with the token after it as the target, as the
 * tutorial's prepare_sequences does. Inputs are class ids divided by the vocabulary size (the
 * tutorial's normalisation), shaped [windows, length, 1]; targets are class ids, one-hot encoded
 * per batch at training time rather than stored. Both are `.npy` files (formats/npy.ts), so
 * `numpy.load("x.npy")` reads them.
 *
 * @module
 */
import { defineStage, input, StageInputError } from "../core/stage.ts";
import { npyCodec } from "../formats/npy.ts";
import { encodeTokens, tokenList, vocabulary } from "../formats/tokens.ts";
import { makeWindows } from "./support/windows.ts";

export const window = defineStage({
  name: "window",
  module: import.meta.url,
  description: "cuts windows of window.length tokens with the next token as target (.npy)",
  inputs: {
    notes: input("parse", "notes.json", tokenList),
    vocab: input("vocab", "vocab.json", vocabulary),
  },
  outputs: { "x.npy": npyCodec("float32", 3), "y.npy": npyCodec("int32", 1) },
  reads: ["window"],
  async run({ notes, vocab }, config, ctx) {
    const { length } = config.window;
    if (notes.length < length + 1) {
      throw new StageInputError(
        `the sample gave ${notes.length} tokens, fewer than window.length + 1 = ${
          length + 1
        }; lower window.length or raise sample.count`,
      );
    }
    // A token the vocabulary left out (rarer than vocab.minCount) is its `<unk>` class.
    const { ids } = encodeTokens(notes, vocab);
    const missing = ids.indexOf(-1);
    if (missing !== -1) {
      throw new StageInputError(
        `token ${notes[missing]} is not in the vocabulary; rerun with --force vocab`,
      );
    }
    const { x, y, count } = makeWindows(ids, length, vocab.tokens.length);
    ctx.metric("windows", count);
    return {
      "x.npy": { dtype: "float32" as const, shape: [count, length, 1], data: x },
      "y.npy": { dtype: "int32" as const, shape: [count], data: y },
    };
  },
});
