/**
 * window: every run of `window.length` tokens, with the token after it as the target, as the
 * tutorial's prepare_sequences does. Inputs are class ids divided by the vocabulary size (the
 * tutorial's normalisation), shaped [windows, length, 1]; targets are class ids, one-hot encoded
 * per batch at training time rather than stored. Both are `.npy` files (formats/npy.ts), so
 * `numpy.load("x.npy")` reads them.
 *
 * @module
 */
import { defineStage, StageInputError } from "../core/stage.ts";
import { encodeNpy } from "../formats/npy.ts";
import { decodeJson } from "../formats/json.ts";
import { tokenIds, type Vocab } from "./vocab.ts";

/** Windows of `length` ids → (normalised inputs, targets). */
export function makeWindows(ids: Int32Array, length: number, vocabSize: number) {
  const n = ids.length - length;
  const x = new Float32Array(n * length);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < length; t++) x[i * length + t] = ids[i + t]! / vocabSize;
    y[i] = ids[i + length]!;
  }
  return { x, y, count: n };
}

export const window = defineStage({
  name: "window",
  module: import.meta.url,
  description: "cuts windows of window.length tokens with the next token as target (.npy)",
  inputs: ["parse", "vocab"],
  reads: ["window"],
  async run(inputs, config, ctx) {
    const notes = decodeJson<string[]>(inputs.parse!["notes.json"]!);
    const vocab = decodeJson<Vocab>(inputs.vocab!["vocab.json"]!);
    const { length } = config.window;
    if (notes.length < length + 1) {
      throw new StageInputError(
        `the sample gave ${notes.length} tokens, fewer than window.length + 1 = ${
          length + 1
        }; lower window.length or raise sample.count`,
      );
    }
    const index = tokenIds(vocab);
    const ids = Int32Array.from(notes, (t) => index.get(t)!);
    const { x, y, count } = makeWindows(ids, length, vocab.tokens.length);
    ctx.metric("windows", count);
    return {
      "x.npy": encodeNpy({ dtype: "float32", shape: [count, length, 1], data: x }),
      "y.npy": encodeNpy({ dtype: "int32", shape: [count], data: y }),
    };
  },
});
