/**
 * The sha256 of a dataset file for scan. The runner's context also offers `datasetDigest`,
 * which remembers each file's digest by its stat between runs (core/dataset.ts,
 * DECISIONS.md 10), so a scan after a few files changed reads only those; any other context
 * (a test's) is asked for the bytes, which are hashed here. Either way the digest is of the
 * file's content.
 *
 * `datasetDigest` is not part of {@link StageContext}: adding a member there changes the code
 * digest of every stage (each imports core/stage.ts) and so would retrain every cached model.
 * The runner's context carries it as an extra member of this shape.
 *
 * @module
 */
import { sha256Hex } from "../core/hash.ts";
import type { StageContext } from "../core/stage.ts";

/** A context that remembers dataset digests (the runner's, core/runner.ts). */
export interface RemembersDatasetDigests {
  /** The sha256 of the dataset file `path`, remembered by stat or read and hashed. */
  datasetDigest(path: string): Promise<string>;
}

/** The sha256 of the dataset file `path`, through `ctx`. */
export async function datasetSha256(ctx: StageContext, path: string): Promise<string> {
  const remembers = (ctx as StageContext & Partial<RemembersDatasetDigests>).datasetDigest;
  return remembers !== undefined ? await remembers(path) : sha256Hex(await ctx.readDataset(path));
}
