/**
 * Whole-file writes: a reader sees the old file or the new one, never a part.
 *
 * @module
 */

/**
 * Writes `bytes` to `path` so that readers see either the old file or the whole new one: into a
 * temp file (in `tmpDir`, or beside `path`), flushed to disk, then renamed over `path`.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  opts: { mode?: number; tmpDir?: string } = {},
): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmpDir = opts.tmpDir ?? dir;
  await Deno.mkdir(tmpDir, { recursive: true });
  const tmp = `${tmpDir}/.tmp-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: opts.mode ?? 0o644 });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
