/**
 * The sha256 of files, each remembered by its stat in a cache file, as git's index and DVC's
 * state database do: a file whose stat is unchanged since it was last read is not read again.
 * Scan uses it for the dataset (DECISIONS.md 10), the store for its objects and exports, so a
 * cached rerun does not reread and rehash the hundreds of megabytes it checked before.
 *
 * It is a cache of work, never a source of results: an entry is used only while every stat field
 * it was taken with is unchanged, and only for files that were old enough when read that a later
 * write must change their stat. `deno task pipeline verify` rehashes everything regardless.
 *
 * @module
 */
import { writeFileAtomic } from "./atomic_file.ts";
import { checkInside } from "./dataset.ts";
import { sha256Hex } from "./hash.ts";

/**
 * What tells one version of a file from another without reading it: git's index keeps the same
 * fields. Size and mtime are what a normal edit changes; ctime also changes when an edit sets
 * the mtime back (`touch -r`, `cp -p`, an unpacked archive), and inode and device change when a
 * file is replaced by another (a rename over it, a restored backup).
 */
interface Stamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/** A remembered digest: the stamp the file had when it was read, and its sha256. */
type Remembered = Stamp & { sha256: string };

/** How the cache file says what it is; another format or version is ignored, not misread. */
const DIGESTS_FORMAT = "deep-lstm-midi dataset digests";
const DIGESTS_VERSION = 1;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * How old a file's mtime and ctime must be, when it is read, for its digest to be remembered.
 * A write in the same clock tick as the read can leave the stamp as it was (git's "racily
 * clean" entries); timestamps are at best whole milliseconds here (Deno gives ctime in whole
 * seconds), and FAT keeps mtime in 2-second steps. A file this recent is hashed again next time.
 */
const RACY_MS = 2000;

/** Options of {@link FileDigests.open}. */
export interface DigestCacheOptions {
  /** Where the digests are kept between runs; undefined to keep none. */
  cacheFile?: string;
  /** False to read the cache file's entries as if there were none (`--force scan`). */
  trust?: boolean;
  /** The clock, for tests: when a read starts. */
  now?: () => number;
  /** Where temp files go (the store's tmp/, whose leftovers the store sweeps). */
  tmpDir?: string;
}

/**
 * The sha256 of the files under one folder, each remembered by its {@link Stamp} in a cache
 * file, so that a file whose stamp is unchanged since it was last read is not read again. One
 * instance serves one stage execution or one run: {@link sha256} or {@link read} for each file,
 * then {@link save}.
 */
export class FileDigests {
  /** How many files were read and hashed (the rest came from the cache). */
  hashed = 0;
  /** How many digests came from the cache. */
  remembered = 0;
  readonly #dir: string;
  readonly #opts: DigestCacheOptions;
  /** The cache file's entries as parsed, path → raw entry, each checked when looked up. */
  readonly #known: Record<string, unknown>;
  /** What this run found or confirmed, path → entry: the next cache file. */
  readonly #seen = new Map<string, Remembered>();

  private constructor(dir: string, opts: DigestCacheOptions, known: Record<string, unknown>) {
    this.#dir = dir;
    this.#opts = opts;
    this.#known = known;
  }

  /** Opens the cache of the folder `dir`; a missing or unreadable cache file is empty. */
  static async open(dir: string, opts: DigestCacheOptions = {}): Promise<FileDigests> {
    const known = opts.cacheFile === undefined || opts.trust === false
      ? {}
      : await readDigestCache(opts.cacheFile);
    return new FileDigests(dir, opts, known);
  }

  /** The sha256 of the file `path` (relative to the folder), from the cache or read. */
  async sha256(path: string): Promise<string> {
    return (await this.#lookup(path, false)).sha256;
  }

  /**
   * The bytes of the file `path` and their sha256: always read, hashed only when the stamp is
   * not remembered or changed while the file was read.
   */
  async read(path: string): Promise<{ bytes: Uint8Array; sha256: string }> {
    const { bytes, sha256 } = await this.#lookup(path, true);
    return { bytes: bytes!, sha256 };
  }

  async #lookup(path: string, wantBytes: boolean) {
    checkInside(path);
    const full = `${this.#dir}/${path}`;
    // Synchronous for the reason listDataset gives: on a cache hit this stat is all the work.
    const before = stampOf(Deno.statSync(full));
    const known = rememberedOf(this.#known, path) ?? this.#seen.get(path);
    const startedAt = (this.#opts.now ?? Date.now)();
    if (known !== undefined && before !== undefined && sameStamp(known, before)) {
      const bytes = wantBytes ? await Deno.readFile(full) : undefined;
      // Read bytes count only if the file did not change while they were read.
      const still = !wantBytes || unchangedSince(before, Deno.statSync(full));
      if (still) {
        this.#seen.set(path, known);
        this.remembered++;
        return { bytes, sha256: known.sha256 };
      }
    }
    const bytes = await Deno.readFile(full);
    const sha256 = sha256Hex(bytes);
    this.hashed++;
    const after = stampOf(await Deno.stat(full));
    // Kept only when the bytes surely belong to the stamp: unchanged while it was read, and
    // old enough that a later write cannot leave the stamp as it is.
    if (
      before !== undefined && after !== undefined && sameStamp(before, after) &&
      after.mtimeMs <= startedAt - RACY_MS && after.ctimeMs <= startedAt - RACY_MS
    ) this.#seen.set(path, { ...after, sha256 });
    else this.#seen.delete(path);
    return { bytes: wantBytes ? bytes : undefined, sha256 };
  }

  /**
   * Writes the cache file. After a `complete` pass over the dataset it holds only the files
   * seen, so deleted files drop out; after an interrupted one it also keeps the earlier entries
   * not reached, so the next scan does not start over. A cache that cannot be written costs
   * only time, so a failure is returned as a reason rather than thrown.
   */
  async save(complete: boolean): Promise<string | undefined> {
    const file = this.#opts.cacheFile;
    if (file === undefined) return undefined;
    const known = Object.keys(this.#known);
    // Nothing learnt: the file would say what it says.
    if (this.hashed === 0 && (!complete || this.#seen.size === known.length)) return undefined;
    const files: Record<string, unknown> = {};
    if (!complete) { for (const path of known) files[path] = this.#known[path]; }
    for (const [path, e] of this.#seen) {
      files[path] = [e.size, e.mtimeMs, e.ctimeMs, e.ino, e.dev, e.sha256];
    }
    const text = JSON.stringify({ format: DIGESTS_FORMAT, version: DIGESTS_VERSION, files });
    try {
      await writeFileAtomic(file, new TextEncoder().encode(text), { tmpDir: this.#opts.tmpDir });
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }
}

/**
 * The entries of a cache file, path → raw entry; a file that is missing, unreadable or of
 * another format gives none. Entries are checked one by one when looked up
 * ({@link rememberedOf}): building 100,000 of them up front took longer than the lookups.
 */
async function readDigestCache(file: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(file));
  } catch {
    return {};
  }
  const v = value as { format?: unknown; version?: unknown; files?: unknown };
  if (v?.format !== DIGESTS_FORMAT || v.version !== DIGESTS_VERSION) return {};
  if (typeof v.files !== "object" || v.files === null || Array.isArray(v.files)) return {};
  return v.files as Record<string, unknown>;
}

/** The cache file's entry of `path`; a malformed one is none (it costs a read, nothing more). */
function rememberedOf(known: Record<string, unknown>, path: string): Remembered | undefined {
  const e = Object.hasOwn(known, path) ? known[path] : undefined;
  if (!Array.isArray(e) || e.length !== 6) return undefined;
  const [size, mtimeMs, ctimeMs, ino, dev, sha256] = e as unknown[];
  const numbers = [size, mtimeMs, ctimeMs, ino, dev];
  if (!numbers.every(Number.isFinite) || typeof sha256 !== "string" || !SHA256.test(sha256)) {
    return undefined;
  }
  return { size, mtimeMs, ctimeMs, ino, dev, sha256 } as Remembered;
}

/** A file's stamp; undefined where the file system gives no times (nothing is remembered). */
function stampOf(st: Deno.FileInfo): Stamp | undefined {
  if (st.mtime === null || st.ctime === null) return undefined;
  return {
    size: st.size,
    mtimeMs: st.mtime.getTime(),
    ctimeMs: st.ctime.getTime(),
    ino: st.ino ?? 0,
    dev: st.dev,
  };
}

/** True when the file's stat `now` still gives the stamp `before`. */
function unchangedSince(before: Stamp, now: Deno.FileInfo): boolean {
  const stamp = stampOf(now);
  return stamp !== undefined && sameStamp(before, stamp);
}

function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs &&
    a.ino === b.ino && a.dev === b.dev;
}
