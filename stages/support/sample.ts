/**
 * Seeded draws of dataset files, shared by sample200 (the training sample) and heldout (files
 * outside it): each file is ranked by sha256(seed:path) and the lowest ranks are kept, in rank
 * order. A uniform random sample fixed by the seed, and stable: adding, removing or editing a
 * file that is not drawn leaves the draw as it was, so nothing downstream reruns.
 *
 * With `dataset.split`, scan marks each file with the dataset's own split, and the draws keep to
 * it: sample200 draws from the train files, heldout takes the validation and test files.
 *
 * @module
 */
import { sha256Hex } from "../../core/hash.ts";
import type { FileEntry, Split } from "../../formats/files.ts";

/** True when scan marked files with the dataset's own split (`dataset.split`). */
export function hasSplit(files: readonly FileEntry[]): boolean {
  return files.some((f) => f.split !== undefined);
}

/** The files of one split, in scan's order (by path). */
export function filesOfSplit(files: readonly FileEntry[], split: Split): FileEntry[] {
  return files.filter((f) => f.split === split);
}

/** Draws `count` of `files` (all of them if fewer) as fixed by `seed`. */
export function sampleFiles(files: readonly FileEntry[], count: number, seed: number): FileEntry[] {
  return files
    .map((f) => ({ f, rank: sha256Hex(`${seed}:${f.path}`) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, count)
    .map(({ f }) => f);
}
