/**
 * heldout: the validation data. `validation.count` files drawn with `validation.seed` from the
 * dataset files outside the training sample, tokenized by the parse stage's code, and cut into
 * windows with the training vocabulary, as window cuts the training tokens. A window whose input
 * or target holds a token the vocabulary lacks is left out and counted (a vocabulary with `<unk>`,
 * `vocab.minCount` ≥ 2, numbers such a token `<unk>` instead); the share of unknown tokens is
 * reported. Training loss falls as the network memorises its files; the loss on these files,
 * which it never sees, says whether it learnt anything that carries over.
 *
 * With the dataset's own split (`dataset.split`, marked by scan), the validation files are every
 * file of its validation split and `validation.count` and `validation.seed` choose nothing; the
 * files of its test split are tokenized too, and each split's files are also written whole, one
 * token-id sequence per file from its start (`validation-sequences.json`,
 * `test-sequences.json`, formats/sequences.ts), for scoring a model on every step of every
 * file. Without a split those two are empty.
 *
 * With `validation.count: 0` (and no split) the windows are empty and train scores nothing.
 *
 * @module
 */
import { defineStage, input, type StageContext } from "../core/stage.ts";
import type { Config } from "../formats/config_schema.ts";
import {
  type FileEntry,
  fileList,
  type ParsedFile,
  parseReport,
  primaryStyle,
} from "../formats/files.ts";
import { npyCodec } from "../formats/npy.ts";
import {
  buildSequences,
  emptySequences,
  type TokenSequences,
  tokenSequences,
} from "../formats/sequences.ts";
import { tokenEncoder, type Vocab, vocabulary } from "../formats/tokens.ts";
import { MidiReadError } from "../music/tokenize.ts";
import { DrumGridTooLongError, encodingOf, tokenizeFile } from "../music/encoding.ts";
import { filesOfSplit, hasSplit, sampleFiles } from "./support/sample.ts";
import { readScannedFile } from "./support/scanned_file.ts";
import { makeWindows } from "./support/windows.ts";

export const heldout = defineStage({
  name: "heldout",
  module: import.meta.url,
  description:
    "draws validation.count files outside the sample (or takes the dataset's validation and test splits) and windows them (validation data)",
  inputs: {
    dataset: input("scan", "files.json", fileList),
    sample: input("sample200", "files.json", fileList),
    vocab: input("vocab", "vocab.json", vocabulary),
  },
  outputs: {
    "x.npy": npyCodec("float32", 3),
    "y.npy": npyCodec("int32", 1),
    "heldout.json": parseReport,
    "validation-sequences.json": tokenSequences,
    "test-sequences.json": tokenSequences,
  },
  reads: ["validation", "window", "parse"],
  async run({ dataset, sample, vocab }, config, ctx) {
    const split = hasSplit(dataset);
    const { count, seed } = config.validation;
    const length = config.window.length;
    const sampled = new Set(sample.map((f) => f.path));
    let drawn: FileEntry[];
    if (split) {
      // sample200 drew only train files; the filter only guards against a hand-made sample.
      drawn = filesOfSplit(dataset, "validation").filter((f) => !sampled.has(f.path));
    } else {
      const outside = dataset.filter((f) => !sampled.has(f.path));
      if (count > outside.length) {
        ctx.warn(
          `validation.count is ${count} but only ${outside.length} files are outside the training sample; using them all`,
        );
      }
      drawn = sampleFiles(outside, count, seed);
    }
    const validation = await tokenizeAll(drawn, config, ctx, "heldout");
    const encode = tokenEncoder(vocab);
    const ids: number[] = [];
    let unknown = 0;
    for (const file of validation.files) {
      const encoded = encode(file.tokens);
      unknown += encoded.unknown;
      for (const id of encoded.ids) ids.push(id);
    }
    const windows = makeWindows(Int32Array.from(ids), length, vocab.tokens.length);
    const oovRate = ids.length === 0 ? 0 : unknown / ids.length;
    ctx.metric("files", validation.files.length);
    ctx.metric("tokens", ids.length);
    ctx.metric("windows", windows.count);
    ctx.metric("windowsLeftOut", windows.leftOut);
    ctx.metric("oovRate", oovRate);
    if (count > 0 || split) {
      ctx.info(
        `${windows.count} validation windows from ${drawn.length} files; ${windows.leftOut} left out ` +
          `for tokens the vocabulary lacks (${(oovRate * 100).toFixed(1)}% of tokens)`,
      );
    }
    let sequences = { validation: emptySequences(), test: emptySequences() };
    if (split) {
      const test = await tokenizeAll(filesOfSplit(dataset, "test"), config, ctx, "heldout test");
      sequences = {
        validation: wholeFiles("validation", validation.files, vocab, ctx),
        test: wholeFiles("test", test.files, vocab, ctx),
      };
      ctx.metric("testFiles", test.files.length);
      const failed = test.report.filter((r) => "error" in r);
      if (failed.length > 0) {
        ctx.warn(
          `${failed.length} test file${failed.length === 1 ? "" : "s"} could not be tokenized (${
            failed.slice(0, 3).map((r) => r.path).join(", ")
          }${failed.length > 3 ? ", …" : ""}): left out of test-sequences.json`,
        );
      }
    }
    return {
      "x.npy": { dtype: "float32" as const, shape: [windows.count, length, 1], data: windows.x },
      "y.npy": { dtype: "int32" as const, shape: [windows.count], data: windows.y },
      "heldout.json": validation.report,
      "validation-sequences.json": sequences.validation,
      "test-sequences.json": sequences.test,
    };
  },
});

/** A held-out file's tokens. */
interface TokenizedFile {
  path: string;
  tokens: string[];
  /** Its tempo, where the split table gives one (a primer's, for generate). */
  bpm?: number;
  /** Its primary style, where the split table gives one (for generate.style). */
  style?: string;
}

/** Tokenizes `entries` as parse does: the tokens of those it could read, and a report of each. */
async function tokenizeAll(
  entries: readonly FileEntry[],
  config: Pick<Config, "parse">,
  ctx: StageContext,
  label: string,
): Promise<{ files: TokenizedFile[]; report: ParsedFile[] }> {
  const files: TokenizedFile[] = [];
  const report: ParsedFile[] = [];
  const bar = ctx.progress(label, entries.length);
  for (const entry of entries) {
    ctx.signal.throwIfAborted();
    bar.tick();
    const { path, sha256 } = entry;
    if (entry.size > config.parse.maxFileBytes) {
      report.push({ path, sha256, error: "File too large for parse.maxFileBytes" });
      continue;
    }
    let tokens: string[];
    try {
      tokens = tokenizeFile(await readScannedFile(ctx, entry), encodingOf(config.parse), {
        maxQuarters: config.parse.maxQuarters,
      }).tokens;
    } catch (e) {
      if (!(e instanceof MidiReadError)) throw e;
      const error = e instanceof DrumGridTooLongError
        ? `Drum grid too long: ${e.quarters} quarter notes, over parse.maxQuarters (${e.maxQuarters})`
        : e.message;
      report.push({ path, sha256, error });
      continue;
    }
    report.push({ path, sha256, tokens: tokens.length });
    files.push({
      path,
      tokens,
      ...(entry.bpm === undefined ? {} : { bpm: entry.bpm }),
      ...(entry.style ? { style: primaryStyle(entry.style) } : {}),
    });
  }
  bar.done();
  return { files, report };
}

/** One split's files as whole sequences, with its counts as metrics and one line. */
function wholeFiles(
  name: "validation" | "test",
  files: readonly TokenizedFile[],
  vocab: Vocab,
  ctx: StageContext,
): TokenSequences {
  const built = buildSequences(files, vocab);
  const { sequences, unknown, leftOut } = built;
  const steps = files.reduce((n, f) => n + f.tokens.length, 0);
  ctx.metric(`${name}SequenceFiles`, sequences.paths.length);
  ctx.metric(`${name}SequenceSteps`, sequences.ids.length);
  ctx.metric(`${name}UnknownSteps`, unknown);
  ctx.metric(`${name}SequencesLeftOut`, leftOut.length);
  ctx.info(
    `${name}-sequences.json: ${sequences.paths.length} files, ${sequences.ids.length} steps; ` +
      `${unknown} of ${steps} steps unknown to the vocabulary` +
      (leftOut.length > 0
        ? `; ${leftOut.length} files holding them left out (the vocabulary has no <unk>: set vocab.minCount to 2 or more to keep them)`
        : ""),
  );
  return sequences;
}
