/**
 * Seeded draws of dataset files, shared by sample200 (the training sample) and heldout (files
 * outside it): each file is ranked by sha256(seed:path) and the lowest ranks are kept, in rank
 * order. A uniform random sample fixed by the seed, and stable: adding, removing or editing a
 * file that is not drawn leaves the draw as it was, so nothing downstream reruns.
 *
 * @module
 */
import { sha256Hex } from "../core/hash.ts";
import type { FileEntry } from "../formats/files.ts";

/** Draws `count` of `files` (all of them if fewer) as fixed by `seed`. */
export function sampleFiles(files: readonly FileEntry[], count: number, seed: number): FileEntry[] {
  return files
    .map((f) => ({ f, rank: sha256Hex(`${seed}:${f.path}`) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, count)
    .map(({ f }) => f);
}
