/**
 * Per-file token-id sequences (`validation-sequences.json`, `test-sequences.json`): each held-out
 * file's tokens from its start, numbered with the training vocabulary, so that a model can be
 * scored on every step of every file instead of on windows cut across files.
 *
 * `{paths, lengths, ids}`: file `i` is `paths[i]`, its ids are the `lengths[i]` ids after those of
 * the files before it in `ids` (one flat list, files concatenated in path order); `bpm`, where the
 * dataset's split table gives tempos, is each file's (null for a file it gives none), so that a
 * piece primed from a file can be played at its tempo without rereading the dataset's listing;
 * `styles`, where the table gives styles, each file's primary style (null for none), so that
 * `generate.style` can draw its primers from one style.
 *
 * @module
 */
import { type Codec, jsonCodec } from "./codec.ts";
import type { ParsedFile } from "./files.ts";
import { tokenEncoder, unknownId, type Vocab } from "./tokens.ts";

/** Token-id sequences of several files, concatenated. */
export interface TokenSequences {
  /** Each file's path relative to `dataset.dir`. */
  paths: string[];
  /** Each file's number of ids. */
  lengths: number[];
  /** The ids of every file, concatenated in the order of `paths`. */
  ids: number[];
  /** Each file's tempo from the split table, or null; absent when the table has no tempos. */
  bpm?: (number | null)[];
  /** Each file's primary style from the split table, or null; absent when the table has none. */
  styles?: (string | null)[];
}

/** No sequences: what heldout writes without the dataset's own split. */
export function emptySequences(): TokenSequences {
  return { paths: [], lengths: [], ids: [] };
}

/** `*-sequences.json`. */
export const tokenSequences: Codec<TokenSequences> = jsonCodec<TokenSequences>(
  "an object {paths, lengths, ids}",
  (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return "it is not an object";
    }
    const { paths, lengths, ids } = value as Partial<Record<keyof TokenSequences, unknown>>;
    if (!Array.isArray(paths) || !Array.isArray(lengths) || !Array.isArray(ids)) {
      return "it lacks one of the lists paths, lengths and ids";
    }
    const badPath = paths.findIndex((p) => typeof p !== "string");
    if (badPath !== -1) return `path ${badPath} is ${JSON.stringify(paths[badPath])}`;
    if (lengths.length !== paths.length) {
      return `it has ${lengths.length} lengths for ${paths.length} paths`;
    }
    const isCount = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
    const badLength = lengths.findIndex((n) => !isCount(n));
    if (badLength !== -1) return `length ${badLength} is ${JSON.stringify(lengths[badLength])}`;
    const total = (lengths as number[]).reduce((a, b) => a + b, 0);
    if (total !== ids.length) return `its lengths add up to ${total} but it has ${ids.length} ids`;
    const badId = ids.findIndex((n) => !isCount(n));
    if (badId !== -1) return `id ${badId} is ${JSON.stringify(ids[badId])}`;
    const { bpm } = value as { bpm?: unknown };
    if (bpm !== undefined) {
      if (!Array.isArray(bpm) || bpm.length !== paths.length) {
        return `its bpm is not a list of ${paths.length} tempos`;
      }
      const bad = bpm.findIndex((b) => b !== null && !(typeof b === "number" && b > 0));
      if (bad !== -1) return `bpm ${bad} is ${JSON.stringify(bpm[bad])}`;
    }
    const { styles } = value as { styles?: unknown };
    if (styles !== undefined) {
      if (!Array.isArray(styles) || styles.length !== paths.length) {
        return `its styles are not a list of ${paths.length} styles`;
      }
      const bad = styles.findIndex((s) => s !== null && typeof s !== "string");
      if (bad !== -1) return `style ${bad} is ${JSON.stringify(styles[bad])}`;
    }
    return undefined;
  },
);

/** The flat `ids` cut into one array per file by `lengths`. */
export function splitSequences(
  ids: ArrayLike<number>,
  lengths: readonly number[],
): Int32Array[] {
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total !== ids.length) {
    throw new RangeError(`the lengths add up to ${total} but there are ${ids.length} ids`);
  }
  const flat = ids instanceof Int32Array ? ids : Int32Array.from(ids);
  const out: Int32Array[] = [];
  let at = 0;
  for (const n of lengths) {
    out.push(flat.slice(at, at + n));
    at += n;
  }
  return out;
}

/** Sequences built from token lists, and what the vocabulary lacked. */
export interface BuiltSequences {
  sequences: TokenSequences;
  /** Tokens the vocabulary lacks, over all files (mapped to `<unk>`, or in files left out). */
  unknown: number;
  /** Files left out because the vocabulary has no `<unk>` and lacks one of their tokens. */
  leftOut: string[];
}

/**
 * Numbers each file's tokens with `vocab`: a token it lacks becomes `<unk>` when the vocabulary
 * has it; without `<unk>`, a file holding such a token is left out whole (and named in
 * `leftOut`), so every sequence written is the file's, from its start, step for step.
 */
export function buildSequences(
  files: Iterable<{ path: string; tokens: readonly string[]; bpm?: number; style?: string }>,
  vocab: Vocab,
): BuiltSequences {
  const encode = tokenEncoder(vocab);
  const hasUnknown = unknownId(vocab) !== undefined;
  const sequences = emptySequences();
  const leftOut: string[] = [];
  let unknown = 0;
  const tempos: (number | null)[] = [];
  const styles: (string | null)[] = [];
  for (const { path, tokens, bpm, style } of files) {
    const encoded = encode(tokens);
    unknown += encoded.unknown;
    if (encoded.unknown > 0 && !hasUnknown) {
      leftOut.push(path);
      continue;
    }
    sequences.paths.push(path);
    sequences.lengths.push(tokens.length);
    tempos.push(bpm ?? null);
    styles.push(style ?? null);
    for (const id of encoded.ids) sequences.ids.push(id);
  }
  // Only where some file has a tempo, so sequences without any are written as before.
  if (tempos.some((b) => b !== null)) sequences.bpm = tempos;
  if (styles.some((s) => s !== null)) sequences.styles = styles;
  return { sequences, unknown, leftOut };
}

/**
 * The training tokens as per-file sequences: parse's `notes.json` (every file's tokens,
 * concatenated in sample order) cut by its `parse_report.json` (each file's token count, in the
 * same order; files that failed hold none), numbered with `vocab` as {@link buildSequences} does.
 */
export function trainingSequences(
  notes: readonly string[],
  report: readonly ParsedFile[],
  vocab: Vocab,
): TokenSequences {
  const files: { path: string; tokens: readonly string[] }[] = [];
  let at = 0;
  for (const entry of report) {
    if (!("tokens" in entry)) continue;
    files.push({ path: entry.path, tokens: notes.slice(at, at + entry.tokens) });
    at += entry.tokens;
  }
  if (at !== notes.length) {
    throw new RangeError(
      `parse_report.json counts ${at} tokens but notes.json holds ${notes.length}`,
    );
  }
  return buildSequences(files, vocab).sequences;
}
