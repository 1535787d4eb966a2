/**
 * vocab: the sorted unique tokens (Python's `sorted(set(notes))`); a token's class id is its
 * index, so the list is both maps, token → integer and integer → token.
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { tokenList, type Vocab, vocabulary } from "../formats/tokens.ts";

/** Sorted unique tokens, by code point as Python sorts str. */
export function buildVocab(notes: readonly string[]): Vocab {
  return { tokens: [...new Set(notes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

export const vocab = defineStage({
  name: "vocab",
  module: import.meta.url,
  description: "maps tokens to integers (sorted unique tokens)",
  inputs: { notes: input("parse", "notes.json", tokenList) },
  outputs: { "vocab.json": vocabulary },
  reads: [],
  async run({ notes }, _config, ctx) {
    const built = buildVocab(notes);
    ctx.metric("vocabSize", built.tokens.length);
    return { "vocab.json": built };
  },
});
