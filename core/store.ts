/**
 * The content-addressed artifact store.
 *
 * ```
 * <store>/objects/ab/cdef…   bytes named by their sha256, read-only once written
 * <store>/keys/ab/cdef….json a stage key → its output digests, metrics and timings (the run cache)
 * <store>/runs/<config-hash>.json          the latest run of a config
 * <store>/runs/<config-hash>/<time>.json   every run of that config, kept as history
 * <store>/out/<config-hash>/               the final outputs under their own names
 * <store>/partial/<stage-key>/             work in progress of a stage that was interrupted
 * <store>/tmp/                             temp files, renamed into place when complete
 * ```
 *
 * Every write goes to tmp/ first and is renamed into place, so a failed or interrupted run never
 * leaves a half-written object, key or record behind.
 *
 * @module
 */
import { PipelineError } from "./errors.ts";
import { type Digest, digestOf, type StageKey } from "./hash.ts";
import type { Metric, Outputs, ResumeState } from "./stage.ts";

/** What the run cache keeps for one stage key. */
export interface KeyEntry {
  stage: string;
  /** What the key was computed from, kept so `status` can say what changed. */
  components: KeyComponents;
  outputs: Record<string, Digest>;
  metrics: Record<string, Metric>;
  warnings: string[];
  /** Seconds the stage took when it executed. */
  seconds: number;
  finishedAt: string;
}

/** Everything a stage key is the hash of. */
export interface KeyComponents {
  stage: string;
  /** Digest of the stage module and every project module it imports. */
  code: string;
  /** The config sections the stage reads. */
  config: Record<string, unknown>;
  /** Upstream stage → output name → digest. */
  inputs: Record<string, Record<string, Digest>>;
  /** Runtime facts that change bytes (tfjs version, backend). */
  environment: Record<string, string>;
  /** Digest of the dataset listing (path, size, mtime), for stages that read the dataset. */
  dataset?: Digest;
}

/** A content-addressed store rooted at one folder. */
export class Store {
  constructor(readonly root: string) {}

  /** Creates the store's folders if they are missing. */
  async init(): Promise<void> {
    try {
      for (const dir of ["objects", "keys", "runs", "tmp", "out"]) {
        await Deno.mkdir(`${this.root}/${dir}`, { recursive: true });
      }
      // Temp files older than a day belong to runs that were killed; newer ones may belong to
      // a run going on beside this one.
      const dayAgo = Date.now() - 86_400_000;
      for await (const e of Deno.readDir(`${this.root}/tmp`)) {
        const path = `${this.root}/tmp/${e.name}`;
        const mtime = (await Deno.lstat(path)).mtime?.getTime() ?? 0;
        if (mtime < dayAgo) await Deno.remove(path, { recursive: true }).catch(() => {});
      }
    } catch (e) {
      throw new PipelineError(
        `Cannot use the store ${this.root}: ${
          (e as Error).message
        }; check its permissions or choose another with --store`,
      );
    }
  }

  /** Where the object with this digest lives. */
  objectPath(digest: Digest): string {
    return `${this.root}/objects/${digest.slice(0, 2)}/${digest.slice(2)}`;
  }

  /** Stores bytes under their digest (a no-op when already present) and returns the digest. */
  async put(bytes: Uint8Array): Promise<Digest> {
    const digest = digestOf(bytes);
    const path = this.objectPath(digest);
    // An object already there is kept only if it is intact, so rerunning a stage repairs a
    // corrupted object instead of leaving it in place.
    if (await this.intact(digest)) return digest;
    await this.writeAtomic(path, bytes, 0o444);
    return digest;
  }

  /** True when the object is present and its bytes still hash to its name. */
  async intact(digest: Digest): Promise<boolean> {
    try {
      return digestOf(await Deno.readFile(this.objectPath(digest))) === digest;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** Reads an object, checking that its bytes still hash to its name. */
  async get(digest: Digest): Promise<Uint8Array> {
    const bytes = await Deno.readFile(this.objectPath(digest));
    if (digestOf(bytes) !== digest) {
      throw new Error(
        `Cannot use object ${digest}: its bytes changed on disk (run \`deno task pipeline verify\`)`,
      );
    }
    return bytes;
  }

  /** True when the object is present. */
  has(digest: Digest): Promise<boolean> {
    return exists(this.objectPath(digest));
  }

  /**
   * The run-cache entry of a stage key, if its outputs are all still in the store and intact
   * (rehashed: a damaged object makes the stage a cache miss, and rerunning it repairs it).
   */
  async getKey(key: StageKey): Promise<KeyEntry | undefined> {
    const entry = await this.readKey(key);
    if (entry === undefined) return undefined;
    for (const digest of Object.values(entry.outputs)) {
      if (!(await this.intact(digest))) return undefined;
    }
    return entry;
  }

  /** The run-cache entry of a stage key as written, whether or not its outputs remain. */
  readKey(key: StageKey): Promise<KeyEntry | undefined> {
    return readJson<KeyEntry>(this.keyPath(key));
  }

  /** Records a stage key's outputs. */
  async putKey(key: StageKey, entry: KeyEntry): Promise<void> {
    await this.writeAtomic(this.keyPath(key), prettyJson(entry));
  }

  /** Writes a run record as the latest of its config and into the config's history. */
  async putRun(configHash: string, record: { finishedAt: string }, latest: boolean): Promise<void> {
    const bytes = prettyJson(record);
    const stamp = record.finishedAt.replace(/[:.]/g, "-");
    await this.writeAtomic(`${this.root}/runs/${configHash}/${stamp}.json`, bytes);
    if (latest) await this.writeAtomic(`${this.root}/runs/${configHash}.json`, bytes);
  }

  /** The latest run record of a config, if any. */
  getRun<T>(configHash: string): Promise<T | undefined> {
    return readJson<T>(`${this.root}/runs/${configHash}.json`);
  }

  /**
   * The latest run record of every config, newest first; with `all`, every run kept in the
   * history instead (failed runs and runs cut short by --until included).
   */
  async listRuns<T extends { finishedAt: string }>(all = false): Promise<T[]> {
    const records: T[] = [];
    for await (const e of readDirSafe(`${this.root}/runs`)) {
      if (!all && e.isFile && e.name.endsWith(".json")) {
        const record = await readJson<T>(`${this.root}/runs/${e.name}`);
        if (record !== undefined) records.push(record);
      } else if (all && e.isDirectory) {
        for await (const h of readDirSafe(`${this.root}/runs/${e.name}`)) {
          const record = await readJson<T>(`${this.root}/runs/${e.name}/${h.name}`);
          if (record !== undefined) records.push(record);
        }
      }
    }
    return records.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
  }

  /** Writes bytes to `path` through a temp file and a rename. */
  writeAtomic(path: string, bytes: Uint8Array, mode?: number): Promise<void> {
    return writeFileAtomic(path, bytes, { mode, tmpDir: `${this.root}/tmp` });
  }

  /** Work in progress of a stage key (see StageContext.resume), under `partial/<key>/`. */
  resumeState(key: StageKey): ResumeState & { clear(): Promise<void> } {
    const dir = `${this.root}/partial/${key}`;
    return {
      load: async () => {
        const current = await readJson<{ set: string; files: string[] }>(`${dir}/current.json`);
        if (current === undefined) return undefined;
        const files: Outputs = {};
        try {
          for (const name of current.files) {
            files[name] = await Deno.readFile(`${dir}/${current.set}/${name}`);
          }
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) return undefined;
          throw e;
        }
        return files;
      },
      save: async (files) => {
        // A new set of files in a folder of its own, then the pointer to it, then the old sets:
        // an interrupt at any point leaves one complete set that current.json names.
        const set = `${Date.now()}-${crypto.randomUUID().slice(0, 8)}`;
        for (const [name, bytes] of Object.entries(files)) {
          await this.writeAtomic(`${dir}/${set}/${name}`, bytes);
        }
        await this.writeAtomic(
          `${dir}/current.json`,
          prettyJson({ set, files: Object.keys(files) }),
        );
        for await (const e of readDirSafe(dir)) {
          if (e.isDirectory && e.name !== set) {
            await Deno.remove(`${dir}/${e.name}`, { recursive: true });
          }
        }
      },
      clear: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
  }

  /** Rehashes every object; returns the digests whose bytes no longer match, after removing them. */
  async verify(remove: boolean): Promise<{ checked: number; corrupt: string[] }> {
    let checked = 0;
    const corrupt: string[] = [];
    for await (const prefix of readDirSafe(`${this.root}/objects`)) {
      for await (const rest of readDirSafe(`${this.root}/objects/${prefix.name}`)) {
        const digest = `${prefix.name}${rest.name}` as Digest;
        const path = this.objectPath(digest);
        checked++;
        if (digestOf(await Deno.readFile(path)) !== digest) {
          corrupt.push(digest);
          if (remove) await Deno.remove(path);
        }
      }
    }
    return { checked, corrupt };
  }

  private keyPath(key: StageKey): string {
    return `${this.root}/keys/${key.slice(0, 2)}/${key.slice(2)}.json`;
  }
}

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

async function* readDirSafe(path: string): AsyncIterable<Deno.DirEntry> {
  try {
    yield* Deno.readDir(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** Pretty JSON bytes with a trailing newline, for records people open. */
export function prettyJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}
