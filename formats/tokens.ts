/**
 * Token artifacts: the tokens parse read (`notes.json`) and generate wrote (`tokens.json`), and
 * the vocabulary that numbers them (`vocab.json`).
 *
 * @module
 */
import { checkStrings, type Codec, jsonCodec } from "./codec.ts";

/** A list of tokens such as `C4`, `E-3` or the chord `0.4.7`. */
export const tokenList: Codec<string[]> = jsonCodec<string[]>(
  "a list of token strings",
  checkStrings,
);

/** The vocabulary: sorted unique tokens; a token's class id is its index. */
export interface Vocab {
  tokens: string[];
}

/** `vocab.json`. */
export const vocabulary: Codec<Vocab> = jsonCodec<Vocab>(
  "an object {tokens: [token strings]}",
  (value) => {
    const tokens = (value as Partial<Vocab> | null)?.tokens;
    if (tokens === undefined) return "it has no tokens list";
    const problem = checkStrings(tokens);
    if (problem !== undefined) return `its tokens: ${problem}`;
    return new Set(tokens).size === tokens.length ? undefined : "its tokens repeat";
  },
);

/** Token → class id. */
export function tokenIds(vocab: Vocab): Map<string, number> {
  return new Map(vocab.tokens.map((t, i) => [t, i]));
}
