/**
 * Reads a file a user names (a primer, a file given to `deno task tokens`) only if it is a
 * regular file, and never more than a cap. `/dev/zero` and `/proc` files report size 0, so a
 * size check alone lets them through; a FIFO blocks on open and on read. The path is stat'ed
 * (following symlinks) before it is opened, so a FIFO or a device is refused unopened, and the
 * open handle is stat'ed again, so what is read is what was checked. At most `maxBytes + 1`
 * bytes are read: one more than the cap says the file is over it.
 *
 * @module
 */

/** A path that is not a regular file (a folder, a FIFO, a device, a socket). */
export class NotRegularFileError extends Error {
  override name = "NotRegularFileError";
  constructor(readonly path: string, readonly kind: string) {
    super(`${path} is not a regular file (it is ${kind}); give a MIDI file`);
  }
}

/** A file over the cap; `size` is its size when its stat said so, else it grew past the cap. */
export class FileTooLargeError extends Error {
  override name = "FileTooLargeError";
  constructor(readonly path: string, readonly maxBytes: number, readonly size?: number) {
    super(
      size === undefined
        ? `${path} holds more than ${maxBytes} bytes, the limit`
        : `${path} is ${size} bytes, over the limit of ${maxBytes} bytes`,
    );
  }
}

/** What a non-regular file is, in words. */
export function fileKind(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a folder";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a file";
}

/**
 * The bytes of the regular file at `path` (a symlink to one is followed), at most `maxBytes` of
 * them; {@link NotRegularFileError} or {@link FileTooLargeError} otherwise. Deno's own errors
 * (`NotFound`, `PermissionDenied`, …) pass through for the caller to word.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const check = (info: Deno.FileInfo) => {
    if (!info.isFile) throw new NotRegularFileError(path, fileKind(info));
    if (info.size > maxBytes) throw new FileTooLargeError(path, maxBytes, info.size);
  };
  // Before opening: opening a FIFO blocks until a writer comes, and Deno.open has no O_NONBLOCK.
  check(await Deno.stat(path));
  const file = await Deno.open(path, { read: true });
  try {
    // The file opened may not be the one stat'ed (the path was replaced in between).
    const info = await file.stat();
    check(info);
    // The size as a first guess (a regular file is read in one go), the cap as a bound.
    const want = Math.max(info.size + 1, 1 << 16);
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = new Uint8Array(Math.min(want, maxBytes + 1 - total));
      const n = await file.read(chunk);
      if (n === null) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    if (total > maxBytes) throw new FileTooLargeError(path, maxBytes);
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    file.close();
  }
}
