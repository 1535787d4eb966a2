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

/** `pieces.json`: several token lists (generate.count pieces). */
export const tokenLists: Codec<string[][]> = jsonCodec<string[][]>(
  "a list of token lists",
  (value) => {
    if (!Array.isArray(value)) return "it is not a list";
    for (const [i, piece] of value.entries()) {
      const why = checkStrings(piece);
      if (why !== undefined) return `piece ${i + 1}: ${why}`;
    }
    return undefined;
  },
);

/**
 * `primers.json`: where each piece of `pieces.json` starts (same order): the test-split file
 * (its path as heldout names it) or `generate.prime` file it was primed from, the primer's
 * tokens, and the file's tempo where the dataset's split table gives one (Groove's info.csv
 * `bpm`). Empty for the tutorial's network, whose pieces start from a window of the training
 * tokens.
 */
export interface PiecePrimer {
  file: string;
  tokens: string[];
  bpm?: number;
}

/** The codec of {@link PiecePrimer} lists. */
export const piecePrimers: Codec<PiecePrimer[]> = jsonCodec<PiecePrimer[]>(
  "a list of {file, tokens, bpm?} primers",
  (value) => {
    if (!Array.isArray(value)) return "it is not a list";
    for (const [i, p] of value.entries()) {
      const ok = typeof p === "object" && p !== null && typeof p.file === "string" &&
        checkStrings(p.tokens) === undefined &&
        (p.bpm === undefined || (typeof p.bpm === "number" && p.bpm > 0));
      if (!ok) return `primer ${i + 1} is ${JSON.stringify(p).slice(0, 80)}`;
    }
    return undefined;
  },
);

/**
 * The vocabulary: sorted unique tokens; a token's class id is its index. With `vocab.minCount`
 * ≥ 2 the rare tokens are left out and {@link UNKNOWN_TOKEN} is appended as the last class.
 */
export interface Vocab {
  tokens: string[];
}

/**
 * The unknown class: the last token of a vocabulary built with `vocab.minCount` ≥ 2, the class of
 * every token the vocabulary lacks. No tokenizer makes it (music21 and drum tokens hold no `<`).
 */
export const UNKNOWN_TOKEN = "<unk>";

/** `vocab.json`. */
export const vocabulary: Codec<Vocab> = jsonCodec<Vocab>(
  "an object {tokens: [token strings]}",
  (value) => {
    const tokens = (value as Partial<Vocab> | null)?.tokens;
    if (tokens === undefined) return "it has no tokens list";
    const problem = checkStrings(tokens);
    if (problem !== undefined) return `its tokens: ${problem}`;
    const unk = tokens.indexOf(UNKNOWN_TOKEN);
    if (unk !== -1 && unk !== tokens.length - 1) return `${UNKNOWN_TOKEN} is not its last token`;
    return new Set(tokens).size === tokens.length ? undefined : "its tokens repeat";
  },
);

/** Token → class id. */
export function tokenIds(vocab: Vocab): Map<string, number> {
  return new Map(vocab.tokens.map((t, i) => [t, i]));
}

/** The id of {@link UNKNOWN_TOKEN} (the last one) when the vocabulary has it, else undefined. */
export function unknownId(vocab: Vocab): number | undefined {
  const last = vocab.tokens.length - 1;
  return last >= 0 && vocab.tokens[last] === UNKNOWN_TOKEN ? last : undefined;
}

/** Token ids of a token list, and how many of its tokens the vocabulary lacks. */
export interface EncodedTokens {
  /** One id per token: a token the vocabulary lacks is the `<unk>` id, or -1 without one. */
  ids: Int32Array;
  /** Tokens the vocabulary lacks (each mapped to `<unk>` or -1). */
  unknown: number;
}

/**
 * Maps token lists to ids with `vocab`: a token it lacks becomes the `<unk>` id when the
 * vocabulary has that class (`vocab.minCount` ≥ 2), else -1, which window cutting reads as "leave
 * out every window holding it" (stages/support/windows.ts), as before `<unk>` existed.
 */
export function tokenEncoder(vocab: Vocab): (tokens: readonly string[]) => EncodedTokens {
  const index = tokenIds(vocab);
  const fallback = unknownId(vocab) ?? -1;
  return (tokens) => {
    const ids = new Int32Array(tokens.length);
    let unknown = 0;
    for (let i = 0; i < tokens.length; i++) {
      const id = index.get(tokens[i]!);
      if (id === undefined) unknown++;
      ids[i] = id ?? fallback;
    }
    return { ids, unknown };
  };
}

/** {@link tokenEncoder} for one list. */
export function encodeTokens(tokens: readonly string[], vocab: Vocab): EncodedTokens {
  return tokenEncoder(vocab)(tokens);
}

/**
 * `voicings.json`: for each chord token, the MIDI pitch sets that made it in the training files,
 * most frequent first (ties: lower pitches first). A chord token keeps only pitch classes; this is
 * how render puts a drum chord back on the drums it was played on.
 */
export type Voicings = Record<string, { pitches: number[]; count: number }[]>;

export const voicingTable: Codec<Voicings> = jsonCodec<Voicings>(
  "an object token → [{pitches, count}]",
  (v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return "it is not an object";
    for (const [token, list] of Object.entries(v)) {
      const ok = Array.isArray(list) &&
        list.every((e) =>
          Array.isArray(e?.pitches) && e.pitches.every(Number.isInteger) &&
          typeof e.count === "number"
        );
      if (!ok) return `the entry of ${JSON.stringify(token)} is not a list of {pitches, count}`;
    }
    return undefined;
  },
);

/** How parse turned files into tokens (`encoding.json`): what render, stats and a primer need. */
export interface TokenEncoding {
  encoding: "music21" | "drum-grid" | "drum-expressive";
  /** drum-grid, drum-expressive: time steps per quarter note. */
  stepsPerQuarter: number;
  /** drum-grid: whether tokens carry a velocity bucket. */
  velocity: "off" | "coarse";
}

/** `encoding.json`. */
export const tokenEncoding: Codec<TokenEncoding> = jsonCodec<TokenEncoding>(
  "an object {encoding, stepsPerQuarter, velocity}",
  (value) => {
    const v = value as Partial<TokenEncoding> | null;
    if (
      v?.encoding !== "music21" && v?.encoding !== "drum-grid" && v?.encoding !== "drum-expressive"
    ) return "it names no encoding";
    if (!Number.isInteger(v.stepsPerQuarter)) return "stepsPerQuarter is not an integer";
    if (v.velocity !== "off" && v.velocity !== "coarse") return "velocity is not off or coarse";
    return undefined;
  },
);
