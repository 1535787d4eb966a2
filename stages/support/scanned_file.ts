/**
 * Reading a dataset file that scan listed, checked against the sha256 scan recorded: the stages
 * that read files (parse, heldout, datastats) are keyed by those digests, so a file edited since
 * must not be read as if it were the one scanned.
 *
 * @module
 */
import { sha256Hex } from "../../core/hash.ts";
import { type StageContext, StageInputError } from "../../core/stage.ts";
import type { FileEntry } from "../../formats/files.ts";

/** The bytes of a scanned file, as scanned. */
export async function readScannedFile(
  ctx: StageContext,
  entry: Pick<FileEntry, "path" | "sha256">,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await ctx.readDataset(entry.path);
  } catch (e) {
    throw new StageInputError(
      `cannot read dataset file ${entry.path} (${(e as Error).message}); rerun from scan`,
    );
  }
  const actual = sha256Hex(bytes);
  if (actual !== entry.sha256) {
    throw new StageInputError(
      `dataset file ${entry.path} changed since it was scanned (sha256 ${actual}, scan recorded ${entry.sha256}); rerun with --force scan`,
    );
  }
  return bytes;
}
