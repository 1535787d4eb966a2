/**
 * Reading dataset files as drum performances (music/drums/performance.ts) for the humanizer and
 * perform: each at the tempo it was played at, in its primary style, with the files parse would
 * skip (too large, too long, unreadable) skipped and said.
 *
 * @module
 */
import type { StageContext } from "../../core/stage.ts";
import type { Config } from "../../formats/config_schema.ts";
import { type FileEntry, primaryStyle } from "../../formats/files.ts";
import { MidiReadError } from "../../music/tokenize.ts";
import { type Performance, readPerformance } from "../../music/drums/performance.ts";
import { readScannedFile } from "./scanned_file.ts";
import { fileTempo } from "./tempo.ts";

/** A dataset file's performance, its tempo and its primary style. */
export interface FilePerformance {
  path: string;
  performance: Performance;
  bpm: number;
  style: string | undefined;
}

/**
 * The performances of `entries` that hold drum hits, in their order.
 *
 * @param what what the files are read for, for the progress bar and the warnings
 */
export async function readPerformances(
  entries: readonly FileEntry[],
  parse: Config["parse"],
  ctx: StageContext,
  what: string,
): Promise<FilePerformance[]> {
  const { stepsPerQuarter, maxQuarters, maxFileBytes } = parse;
  const out: FilePerformance[] = [];
  const bar = ctx.progress(what, entries.length);
  for (const entry of entries) {
    ctx.signal.throwIfAborted();
    bar.tick();
    if (entry.size > maxFileBytes) {
      ctx.warn(`${entry.path}: larger than parse.maxFileBytes, so ${what} skips it`);
      continue;
    }
    let read;
    try {
      read = readPerformance(await readScannedFile(ctx, entry), stepsPerQuarter);
    } catch (e) {
      if (!(e instanceof MidiReadError || e instanceof RangeError)) throw e;
      ctx.warn(`${entry.path}: ${e.message}; ${what} skips it`);
      continue;
    }
    if (read.steps > maxQuarters * stepsPerQuarter) {
      ctx.warn(`${entry.path}: longer than parse.maxQuarters, so ${what} skips it`);
      continue;
    }
    if (read.hits.length === 0) continue;
    out.push({
      path: entry.path,
      performance: { steps: read.steps, hits: read.hits },
      bpm: fileTempo(entry.bpm, read.bpm),
      style: entry.style === undefined ? undefined : primaryStyle(entry.style),
    });
  }
  bar.done();
  return out;
}
