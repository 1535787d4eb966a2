/**
 * sample200: a seeded random sample of `sample.count` files (the tutorial's 200).
 *
 * Each file is ranked by sha256(seed:path) and the lowest `count` ranks are kept, in rank
 * order. This is a uniform random sample fixed by the seed, and it is stable: adding, removing
 * or editing a file outside the sample leaves the sample as it was, so nothing downstream reruns.
 *
 * @module
 */
import { sha256Hex } from "../core/hash.ts";
import { defineStage, input, StageInputError } from "../core/stage.ts";
import { type FileEntry, fileList } from "../formats/files.ts";

/** Draws `count` of `files` as fixed by `seed`. */
export function sampleFiles(files: readonly FileEntry[], count: number, seed: number): FileEntry[] {
  return files
    .map((f) => ({ f, rank: sha256Hex(`${seed}:${f.path}`) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, count)
    .map(({ f }) => f);
}

export const sample200 = defineStage({
  name: "sample200",
  module: import.meta.url,
  description: "draws a seeded random sample of sample.count files",
  inputs: { files: input("scan", "files.json", fileList) },
  outputs: { "files.json": fileList },
  reads: ["sample"],
  async run({ files }, config) {
    const { count, seed } = config.sample;
    if (count > files.length) {
      throw new StageInputError(
        `sample.count is ${count} but the dataset has only ${files.length} MIDI files; lower sample.count to at most ${files.length}`,
      );
    }
    return { "files.json": sampleFiles(files, count, seed) };
  },
});
