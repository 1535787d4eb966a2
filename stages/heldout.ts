/**
 * heldout: the validation data. `validation.count` files drawn with `validation.seed` from the
 * dataset files outside the training sample, tokenized by the parse stage's code, and cut into
 * windows with the training vocabulary, as window cuts the training tokens. A window whose input
 * or target holds a token the vocabulary lacks is left out and counted; the share of unknown
 * tokens is reported. Training loss falls as the network memorises its files; the loss on these
 * files, which it never sees, says whether it learnt anything that carries over.
 *
 * With `validation.count: 0` the windows are empty and train scores nothing.
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { fileList, type ParsedFile, parseReport } from "../formats/files.ts";
import { npyCodec } from "../formats/npy.ts";
import { tokenIds, vocabulary } from "../formats/tokens.ts";
import { MidiReadError } from "../music/tokenize.ts";
import { DrumGridTooLongError, encodingOf, tokenizeFile } from "../music/encoding.ts";
import { sampleFiles } from "./_sample.ts";
import { readScannedFile } from "./_scanned_file.ts";
import { makeWindows } from "./_windows.ts";

export const heldout = defineStage({
  name: "heldout",
  module: import.meta.url,
  description: "draws validation.count files outside the sample and windows them (validation data)",
  inputs: {
    dataset: input("scan", "files.json", fileList),
    sample: input("sample200", "files.json", fileList),
    vocab: input("vocab", "vocab.json", vocabulary),
  },
  outputs: {
    "x.npy": npyCodec("float32", 3),
    "y.npy": npyCodec("int32", 1),
    "heldout.json": parseReport,
  },
  reads: ["validation", "window", "parse"],
  async run({ dataset, sample, vocab }, config, ctx) {
    const { count, seed } = config.validation;
    const length = config.window.length;
    const sampled = new Set(sample.map((f) => f.path));
    const outside = dataset.filter((f) => !sampled.has(f.path));
    if (count > outside.length) {
      ctx.warn(
        `validation.count is ${count} but only ${outside.length} files are outside the training sample; using them all`,
      );
    }
    const drawn = sampleFiles(outside, count, seed);
    const index = tokenIds(vocab);
    const ids: number[] = [];
    const report: ParsedFile[] = [];
    let unknown = 0;
    const bar = ctx.progress("heldout", drawn.length);
    for (const entry of drawn) {
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
      for (const token of tokens) {
        const id = index.get(token);
        if (id === undefined) unknown++;
        ids.push(id ?? -1);
      }
    }
    bar.done();
    const windows = makeWindows(Int32Array.from(ids), length, vocab.tokens.length);
    const oovRate = ids.length === 0 ? 0 : unknown / ids.length;
    ctx.metric("files", report.filter((r) => "tokens" in r).length);
    ctx.metric("tokens", ids.length);
    ctx.metric("windows", windows.count);
    ctx.metric("windowsLeftOut", windows.leftOut);
    ctx.metric("oovRate", oovRate);
    if (count > 0) {
      ctx.info(
        `${windows.count} validation windows from ${drawn.length} files; ${windows.leftOut} left out ` +
          `for tokens the vocabulary lacks (${(oovRate * 100).toFixed(1)}% of tokens)`,
      );
    }
    return {
      "x.npy": { dtype: "float32" as const, shape: [windows.count, length, 1], data: windows.x },
      "y.npy": { dtype: "int32" as const, shape: [windows.count], data: windows.y },
      "heldout.json": report,
    };
  },
});
