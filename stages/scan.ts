/**
 * scan: every .mid/.midi file under `dataset.dir`, recursively, with its size and sha256. The
 * digests go downstream, so an edited file changes the inputs of exactly the stages that read it.
 *
 * @module
 */
import { sha256Hex } from "../core/hash.ts";
import { defineStage, StageInputError } from "../core/stage.ts";

/** One MIDI file of the dataset, as listed in scan's and sample200's `files.json`. */
export interface FileEntry {
  /** Path relative to `dataset.dir`, with `/` separators. */
  path: string;
  size: number;
  sha256: string;
}

const MIDI_FILE = /\.midi?$/i;

export const scan = defineStage({
  name: "scan",
  module: import.meta.url,
  description: "lists the dataset's MIDI files with their sha256",
  inputs: [],
  reads: ["dataset"],
  readsDataset: true,
  async run(_inputs, config, ctx) {
    const midi = (await ctx.listDataset()).filter((e) => MIDI_FILE.test(e.path));
    if (midi.length === 0) {
      throw new StageInputError(
        `dataset.dir ${config.dataset.dir} holds no .mid or .midi files; put the Groove MIDI files there (see README, "The dataset")`,
      );
    }
    const bar = ctx.progress("hashing", midi.length);
    const files: FileEntry[] = [];
    for (const { path, size } of midi) {
      files.push({ path, size, sha256: sha256Hex(await ctx.readDataset(path)) });
      bar.tick();
    }
    bar.done();
    ctx.metric("files", files.length);
    return { "files.json": encodeFiles(files) };
  },
});

/** `files.json` bytes: one entry per line, so diffs of two listings read well. */
export function encodeFiles(files: readonly FileEntry[]): Uint8Array {
  return new TextEncoder().encode(`[\n${files.map((f) => JSON.stringify(f)).join(",\n")}\n]\n`);
}

/** Reads `files.json` bytes written by `from` (scan or sample200), checking their shape. */
export function decodeFiles(bytes: Uint8Array | undefined, from = "scan"): FileEntry[] {
  if (bytes === undefined) throw new StageInputError(`${from}'s files.json is missing`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new StageInputError(`${from}'s files.json is not valid JSON (${(e as Error).message})`);
  }
  const ok = Array.isArray(value) &&
    value.every((f) =>
      typeof f === "object" && f !== null && typeof f.path === "string" &&
      typeof f.sha256 === "string"
    );
  if (!ok) {
    throw new StageInputError(
      `${from}'s files.json must be a list of {path, size, sha256} entries`,
    );
  }
  return value as FileEntry[];
}
