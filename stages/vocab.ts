/**
 * vocab: the sorted unique tokens (Python's `sorted(set(notes))`); a token's class id is its
 * index, so the list is both maps, token → integer and integer → token.
 *
 * @module
 */
import { defineStage } from "../core/stage.ts";
import { decodeJson, encodeJson } from "../formats/json.ts";

/** `vocab.json`: `{ "tokens": [...] }`, class id = index. */
export interface Vocab {
  tokens: string[];
}

/** Sorted unique tokens, by code point as Python sorts str. */
export function buildVocab(notes: readonly string[]): Vocab {
  return { tokens: [...new Set(notes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** Token → class id. */
export function tokenIds(vocab: Vocab): Map<string, number> {
  return new Map(vocab.tokens.map((t, i) => [t, i]));
}

export const vocab = defineStage({
  name: "vocab",
  module: import.meta.url,
  description: "maps tokens to integers (sorted unique tokens)",
  inputs: ["parse"],
  reads: [],
  async run(inputs, _config, ctx) {
    const built = buildVocab(decodeJson<string[]>(inputs.parse!["notes.json"]!));
    ctx.metric("vocabSize", built.tokens.length);
    return { "vocab.json": encodeJson(built) };
  },
});
