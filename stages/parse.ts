/**
 * parse: each sampled MIDI file to its token list, exactly as the tutorial's music21 6.7.1 code
 * gives it (see music/tokenize.ts), concatenated in sample order into `notes.json`.
 *
 * A file music21 cannot read is skipped with a warning (`parse.onError: skip`) or stops the run
 * (`fail`). A file that parses but yields no tokens counts as parsed, with a warning.
 *
 * @module
 */
import { sha256Hex } from "../core/hash.ts";
import { defineStage, StageInputError } from "../core/stage.ts";
import { MidiReadError, tokenizeMidi } from "../music/tokenize.ts";
import type { FileEntry } from "./scan.ts";

/** One entry of parse's `files.json`: the token count, or why music21 could not read it. */
export type ParsedFile =
  | { path: string; sha256: string; tokens: number }
  | { path: string; sha256: string; error: string };

const encoder = new TextEncoder();

/** Reads sample200's `files.json`, rejecting anything that is not a list of file entries. */
function decodeSample(bytes: Uint8Array | undefined): FileEntry[] {
  if (bytes === undefined) {
    throw new StageInputError("parse needs sample200's files.json, which is missing");
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new StageInputError(`sample200's files.json is not valid JSON (${(e as Error).message})`);
  }
  const ok = Array.isArray(value) &&
    value.every((f) =>
      typeof f === "object" && f !== null && typeof f.path === "string" &&
      typeof f.sha256 === "string"
    );
  if (!ok) {
    throw new StageInputError(
      "sample200's files.json must be a list of {path, sha256, size} entries",
    );
  }
  return value as FileEntry[];
}

export const parse = defineStage({
  name: "parse",
  description: "tokenizes each sampled MIDI file as music21 6.7.1 does (notes and chords)",
  inputs: ["sample200"],
  reads: ["parse"],
  async run(inputs, config, ctx) {
    const files = decodeSample(inputs.sample200?.["files.json"]);
    const notes: string[] = [];
    const results: ParsedFile[] = [];
    const skipped: string[] = [];
    const empty: string[] = [];
    const bar = ctx.progress("parse", files.length);
    for (const { path, sha256 } of files) {
      ctx.signal.throwIfAborted();
      let bytes: Uint8Array;
      try {
        bytes = await ctx.readDataset(path);
      } catch (e) {
        throw new StageInputError(
          `cannot read dataset file ${path} (${(e as Error).message}); rerun from scan`,
        );
      }
      const actual = sha256Hex(bytes);
      if (actual !== sha256) {
        throw new StageInputError(
          `dataset file ${path} changed since it was scanned (sha256 ${actual}, scan recorded ${sha256}); run the pipeline again`,
        );
      }
      let tokens: string[];
      try {
        tokens = tokenizeMidi(bytes);
      } catch (e) {
        if (!(e instanceof MidiReadError)) throw e;
        if (config.parse.onError === "fail") {
          throw new StageInputError(
            `music21 cannot read ${path} (${e.reason}); fix or remove the file, or set parse.onError: skip`,
          );
        }
        ctx.warn(`skipped ${path}: music21 cannot read it (${e.reason})`);
        skipped.push(path);
        results.push({ path, sha256, error: e.message });
        bar.tick();
        continue;
      }
      if (tokens.length === 0) {
        ctx.warn(`${path} gave no tokens; it still counts as parsed`);
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
    return {
      "notes.json": encoder.encode(JSON.stringify(notes)),
      "files.json": encoder.encode(JSON.stringify(results)),
    };
  },
});
