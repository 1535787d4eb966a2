/**
 * parse: each sampled MIDI file to its token list, exactly as the tutorial's music21 6.7.1 code
 * gives it (see music/tokenize.ts), concatenated in sample order into `notes.json`, and per
 * file its token count or why it was skipped, in `parse_report.json`. `voicings.json` keeps, for
 * each chord token, the pitch sets that made it, so render can put drums back on their drums.
 *
 * A file music21 cannot read is skipped with a warning (`parse.onError: skip`) or stops the run
 * (`fail`). A file larger than `parse.maxFileBytes` is always skipped with a warning, unread (the
 * sample gives its size): that bounds parse's memory and the time one file takes (a 16 MiB
 * file of the densest events takes about a second and a few hundred MB), so that Ctrl-C, seen
 * between files, stops the stage promptly. A drum grid's steps are not bounded by its bytes (a
 * 47-byte file can ask for a billion), so a file whose grid would be longer than
 * `parse.maxQuarters` is always skipped too, before its grid is made. A file that parses but
 * yields no tokens counts as parsed, with a warning.
 *
 * From 2,000 files on, the tokenizing runs on worker threads (stages/support/parse_pool.ts) while this
 * thread reads the files and takes their results in sample order: the outputs are the same
 * bytes, sooner where a second core is free (BENCHMARKS.md, "Scale: 100,000 files").
 *
 * @module
 */
import type { Config } from "../formats/config_schema.ts";
import {
  defineStage,
  input,
  type OutputValues,
  type StageContext,
  StageInputError,
} from "../core/stage.ts";
import { type FileEntry, fileList, type ParsedFile, parseReport } from "../formats/files.ts";
import {
  type TokenEncoding,
  tokenEncoding,
  tokenList,
  type Voicings,
  voicingTable,
} from "../formats/tokens.ts";
import { MidiReadError } from "../music/tokenize.ts";
import {
  DrumGridTooLongError,
  encodingOf,
  encodingSettingsError,
  type FileTokens,
  tokenizeFile,
  type TokenizeLimits,
} from "../music/encoding.ts";
import { parseWorkerCount, TokenizerPool } from "./support/parse_pool.ts";
import { readScannedFile } from "./support/scanned_file.ts";

/** Files read and tokenized ahead of their turn, per worker: enough to keep each one busy. */
const AHEAD = 64;

/** What parse writes. */
const OUTPUTS = {
  "notes.json": tokenList,
  "parse_report.json": parseReport,
  "voicings.json": voicingTable,
  "encoding.json": tokenEncoding,
};
type ParseOutputs = OutputValues<typeof OUTPUTS>;

export const parse = defineStage({
  name: "parse",
  module: import.meta.url,
  description:
    "tokenizes each sampled MIDI file as music21 6.7.1 does (notes and chords), or as a drum grid",
  inputs: { files: input("sample200", "files.json", fileList) },
  outputs: OUTPUTS,
  reads: ["parse"],
  check(config) {
    const error = encodingSettingsError(config.parse);
    if (error !== undefined) throw new Error(error);
  },
  run({ files }, config, ctx) {
    return parseFiles(files, config, ctx, parseWorkerCount(files.length));
  },
});

/** One file's outcome, found ahead of its turn. */
type Outcome =
  | { kind: "too-large" }
  | { kind: "read"; read: FileTokens }
  | { kind: "failed"; error: unknown };

/**
 * parse's work, on `workers` worker threads (stages/support/parse_pool.ts) or, with 0, on this one.
 * Either way each file's outcome is taken in sample order, through the same code, so the
 * outputs, warnings and metrics are the same bytes; workers only change when the tokenizing
 * happens. Up to {@link AHEAD} files per worker are read and tokenized ahead of their turn.
 */
export async function parseFiles(
  files: readonly FileEntry[],
  config: Pick<Config, "parse">,
  ctx: StageContext,
  workers: number,
): Promise<ParseOutputs> {
  const encoding = encodingOf(config.parse);
  const limits: TokenizeLimits = { maxQuarters: config.parse.maxQuarters };
  const tally = new ParseTally(ctx, config.parse, files.length);
  const pool = workers > 0 ? new TokenizerPool(workers, encoding, limits) : undefined;
  // Never rejects: a file's failure is its outcome, raised when its turn comes, as it was
  // raised when files were read one at a time.
  const outcome = (i: number): Promise<Outcome> => {
    const { path, sha256, size } = files[i]!;
    if (size > config.parse.maxFileBytes) return Promise.resolve({ kind: "too-large" });
    return readScannedFile(ctx, { path, sha256 })
      .then((bytes) => pool?.tokenize(bytes) ?? tokenizeFile(bytes, encoding, limits))
      .then((read): Outcome => ({ kind: "read", read }), (error) => ({ kind: "failed", error }));
  };
  const ahead = new Map<number, Promise<Outcome>>();
  let started = 0;
  try {
    for (let i = 0; i < files.length; i++) {
      ctx.signal.throwIfAborted();
      for (; started < files.length && started <= i + AHEAD * workers; started++) {
        ahead.set(started, outcome(started));
      }
      const done = await ahead.get(i)!;
      ahead.delete(i);
      // A Ctrl-C during the last file is only seen once reading this one gave way to it.
      ctx.signal.throwIfAborted();
      tally.take(files[i]!, done);
    }
  } finally {
    pool?.close();
  }
  return tally.finish(encoding);
}

/** What parse has found so far, file after file in sample order, and how it says so. */
class ParseTally {
  readonly #ctx: StageContext;
  readonly #settings: Config["parse"];
  readonly #bar: ReturnType<StageContext["progress"]>;
  readonly #notes: string[] = [];
  readonly #voicings = new Map<string, Map<string, number>>();
  readonly #unmapped = new Map<number, number>();
  readonly #results: ParsedFile[] = [];
  readonly #skipped: string[] = [];
  readonly #empty: string[] = [];

  constructor(ctx: StageContext, settings: Config["parse"], files: number) {
    this.#ctx = ctx;
    this.#settings = settings;
    this.#bar = ctx.progress("parse", files);
  }

  /** Takes one file's outcome: its tokens, or why it is skipped (or stops the run). */
  take({ path, sha256, size }: FileEntry, done: Outcome): void {
    if (done.kind === "too-large") {
      const limit = this.#settings.maxFileBytes;
      this.#skip(
        path,
        sha256,
        `it is ${size} bytes, over parse.maxFileBytes (${limit}); to parse it, raise the limit ` +
          `with --set parse.maxFileBytes=${size}`,
        `File too large: ${size} bytes, over parse.maxFileBytes (${limit})`,
      );
    } else if (done.kind === "failed") {
      this.#failed(path, sha256, done.error);
    } else {
      this.#add(path, sha256, done.read);
    }
  }

  /**
   * A file that did not tokenize: skipped when its drum grid is too long (whatever
   * parse.onError says, like a file over parse.maxFileBytes) or music21 cannot read it and
   * parse.onError is skip; any other error is raised.
   */
  #failed(path: string, sha256: string, e: unknown): void {
    if (e instanceof DrumGridTooLongError) {
      this.#skip(
        path,
        sha256,
        `its drum grid would be ${e.quarters} quarter notes long (${e.steps} steps), over ` +
          `parse.maxQuarters (${e.maxQuarters}); to parse it, raise the limit with ` +
          `--set parse.maxQuarters=${e.quarters}`,
        `Drum grid too long: ${e.quarters} quarter notes, over parse.maxQuarters (${e.maxQuarters})`,
      );
      return;
    }
    if (!(e instanceof MidiReadError)) throw e;
    if (this.#settings.onError === "fail") {
      throw new StageInputError(
        `music21 cannot read ${path} (${e.reason}); fix or remove the file, or set parse.onError: skip`,
      );
    }
    this.#skip(path, sha256, `music21 cannot read it (${e.reason})`, e.message);
  }

  #skip(path: string, sha256: string, warning: string, error: string): void {
    this.#ctx.warn(`skipped ${path}: ${warning}`);
    this.#skipped.push(path);
    this.#results.push({ path, sha256, error });
    this.#bar.tick();
  }

  /** A file that tokenized: its tokens, voicings and unmapped pitches join the others. */
  #add(path: string, sha256: string, read: FileTokens): void {
    for (const [token, counts] of read.voicings ?? []) {
      let all = this.#voicings.get(token);
      if (all === undefined) this.#voicings.set(token, all = new Map());
      for (const [voicing, n] of counts) all.set(voicing, (all.get(voicing) ?? 0) + n);
    }
    for (const { pitch, count } of read.unmapped ?? []) {
      this.#unmapped.set(pitch, (this.#unmapped.get(pitch) ?? 0) + count);
    }
    const tokens = read.tokens;
    if (tokens.length === 0) {
      const why = read.warning === undefined ? "" : ` (${read.warning})`;
      this.#ctx.warn(`${path} gave no tokens${why}; it still counts as parsed`);
      this.#empty.push(path);
    }
    for (const t of tokens) this.#notes.push(t);
    this.#results.push({ path, sha256, tokens: tokens.length });
    this.#bar.tick();
  }

  /** Ends the progress bar, reports the metrics (and unmapped drum pitches) and the outputs. */
  finish(encoding: TokenEncoding): ParseOutputs {
    const ctx = this.#ctx;
    this.#bar.done();
    ctx.metric("filesParsed", this.#results.length - this.#skipped.length);
    ctx.metric("filesSkipped", this.#skipped.length);
    ctx.metric("skippedFiles", this.#skipped);
    ctx.metric("emptyFiles", this.#empty);
    ctx.metric("tokens", this.#notes.length);
    if (encoding.encoding === "drum-grid") {
      ctx.metric("encoding", "drum-grid");
      const outside = [...this.#unmapped].sort((a, b) => a[0] - b[0]);
      ctx.metric("unmappedPitches", Object.fromEntries(outside));
      if (outside.length > 0) {
        const notesOut = outside.reduce((a, [, n]) => a + n, 0);
        ctx.warn(
          `${notesOut} notes on pitches outside the nine drum classes were left out (${
            outside.map(([p, n]) => `pitch ${p}: ${n}`).join(", ")
          })`,
        );
      }
    }
    return {
      "notes.json": this.#notes,
      "parse_report.json": this.#results,
      "voicings.json": voicingList(this.#voicings),
      "encoding.json": encoding,
    };
  }
}

/** The voicing counts as written: tokens sorted, each token's voicings most frequent first. */
function voicingList(voicings: Map<string, Map<string, number>>): Voicings {
  const out: Voicings = {};
  for (const token of [...voicings.keys()].sort()) {
    out[token] = [...voicings.get(token)!]
      .map(([v, count]) => ({ pitches: v.split(".").map(Number), count }))
      .sort((a, b) => b.count - a.count || comparePitches(a.pitches, b.pitches));
  }
  return out;
}

function comparePitches(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
