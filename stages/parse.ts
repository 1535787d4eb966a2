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
 * between files, stops the stage promptly. A file that parses but yields no tokens counts as
 * parsed, with a warning.
 *
 * @module
 */
import { defineStage, input, StageInputError } from "../core/stage.ts";
import { fileList, type ParsedFile, parseReport } from "../formats/files.ts";
import { tokenEncoding, tokenList, type Voicings, voicingTable } from "../formats/tokens.ts";
import { MidiReadError } from "../music/tokenize.ts";
import { encodingOf, type FileTokens, tokenizeFile } from "../music/encoding.ts";
import { readScannedFile } from "./_scanned_file.ts";

export const parse = defineStage({
  name: "parse",
  module: import.meta.url,
  description:
    "tokenizes each sampled MIDI file as music21 6.7.1 does (notes and chords), or as a drum grid",
  inputs: { files: input("sample200", "files.json", fileList) },
  outputs: {
    "notes.json": tokenList,
    "parse_report.json": parseReport,
    "voicings.json": voicingTable,
    "encoding.json": tokenEncoding,
  },
  reads: ["parse"],
  async run({ files }, config, ctx) {
    const encoding = encodingOf(config.parse);
    const unmapped = new Map<number, number>();
    const notes: string[] = [];
    const voicings = new Map<string, Map<string, number>>();
    const results: ParsedFile[] = [];
    const skipped: string[] = [];
    const empty: string[] = [];
    const bar = ctx.progress("parse", files.length);
    const limit = config.parse.maxFileBytes;
    const skip = (path: string, sha256: string, warning: string, error: string) => {
      ctx.warn(`skipped ${path}: ${warning}`);
      skipped.push(path);
      results.push({ path, sha256, error });
      bar.tick();
    };
    const tooLarge = (path: string, sha256: string, size: number) =>
      skip(
        path,
        sha256,
        `it is ${size} bytes, over parse.maxFileBytes (${limit}); to parse it, raise the limit ` +
          `with --set parse.maxFileBytes=${size}`,
        `File too large: ${size} bytes, over parse.maxFileBytes (${limit})`,
      );
    for (const { path, sha256, size } of files) {
      ctx.signal.throwIfAborted();
      if (size > limit) {
        tooLarge(path, sha256, size);
        continue;
      }
      const bytes = await readScannedFile(ctx, { path, sha256 });
      // A Ctrl-C during the last file is only seen once reading this one gave way to it.
      ctx.signal.throwIfAborted();
      let tokens: string[];
      let read: FileTokens;
      try {
        read = tokenizeFile(bytes, encoding);
        tokens = read.tokens;
        for (const [token, counts] of read.voicings ?? []) {
          let all = voicings.get(token);
          if (all === undefined) voicings.set(token, all = new Map());
          for (const [voicing, n] of counts) all.set(voicing, (all.get(voicing) ?? 0) + n);
        }
        for (const { pitch, count } of read.unmapped ?? []) {
          unmapped.set(pitch, (unmapped.get(pitch) ?? 0) + count);
        }
      } catch (e) {
        if (!(e instanceof MidiReadError)) throw e;
        if (config.parse.onError === "fail") {
          throw new StageInputError(
            `music21 cannot read ${path} (${e.reason}); fix or remove the file, or set parse.onError: skip`,
          );
        }
        skip(path, sha256, `music21 cannot read it (${e.reason})`, e.message);
        continue;
      }
      if (tokens.length === 0) {
        const why = read.warning === undefined ? "" : ` (${read.warning})`;
        ctx.warn(`${path} gave no tokens${why}; it still counts as parsed`);
        empty.push(path);
      }
      for (const t of tokens) notes.push(t);
      results.push({ path, sha256, tokens: tokens.length });
      bar.tick();
    }
    bar.done();
    ctx.metric("filesParsed", files.length - skipped.length);
    ctx.metric("filesSkipped", skipped.length);
    ctx.metric("skippedFiles", skipped);
    ctx.metric("emptyFiles", empty);
    ctx.metric("tokens", notes.length);
    if (encoding.encoding === "drum-grid") {
      ctx.metric("encoding", "drum-grid");
      const outside = [...unmapped].sort((a, b) => a[0] - b[0]);
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
      "notes.json": notes,
      "parse_report.json": results,
      "voicings.json": voicingList(voicings),
      "encoding.json": encoding,
    };
  },
});

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
