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
 * <store>/locks/<stage-key>.lock           held while a run computes that stage key
 * <store>/tmp/.tmp-<uuid>                  temp files, renamed into place when complete
 * <store>/store.json                       the marker: this folder is a store, and its format
 * ```
 *
 * Every write goes to tmp/ first and is renamed into place, so a failed or interrupted run never
 * leaves a half-written object, key or record behind.
 *
 * The pipeline deletes files, so it must be sure where it is: it makes a store only in a missing
 * or empty folder, writes the marker there, and refuses any other folder. Inside a store it
 * deletes only names it makes itself (temp files `.tmp-<uuid>`, its own partial sets, folders
 * named by a config hash or stage key), never whatever else a user put there. Every name it
 * reads back from a record (runs/, keys/, partial/ or the remote) is checked against its exact
 * shape where it is decoded (formats/records.ts), and every path it writes, reads or removes by
 * name is made by one function, {@link Store.pathOf}, which refuses anything but plain names.
 *
 * @module
 */
import { resolve, sep } from "node:path";
import { prettyJson } from "../formats/json.ts";
import {
  isComparePage,
  isConfigHash,
  isDigest,
  isRelativeName,
  isStageKey,
  quoteName,
} from "../formats/names.ts";
import { keyEntryProblem } from "../formats/records.ts";
import { PipelineError } from "../core/errors.ts";
import { describeFsError, fsErrorAdvice, isFsError } from "../core/fs_errors.ts";
import { type ConfigHash, type Digest, digestOf, type StageKey } from "../core/hash.ts";
import { acquireLock } from "./lock.ts";
import { writeFileAtomic } from "../core/atomic_file.ts";
import { FileDigests } from "../core/file_digests.ts";
import type { RunRecord } from "../core/run_record.ts";
import { runRecordProblem } from "../formats/records.ts";
import type { Outputs, ResumeState } from "../core/stage.ts";
import type {
  HeldLock,
  KeyEntry,
  LockHolder,
  OnStray,
  Store,
  StoreFolder,
} from "../core/storage.ts";

/** The marker file that makes a folder a store. */
export const STORE_MARKER = "store.json";
/** What the marker says; a newer format version is refused rather than misread. */
const STORE_FORMAT = "deep-lstm-midi store";
const STORE_VERSION = 1;
/** The folders of a store; a folder holding only these (with objects/ and keys/) is a store
 * made before the marker existed, and is adopted. */
const LAYOUT = ["objects", "keys", "runs", "tmp", "out", "partial", "locks"];

/** Where the store remembers its files' digests by stat (see core/file_digests.ts). */
const DIGESTS_FILE = "cache/file-digests.json";
/** Temp file names the store makes: only these are ever swept from tmp/. */
const TEMP_NAME = /^\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A temp file this old belongs to a run that was killed (a live run renames its temps in
 * seconds; a day leaves room for a run on a slow disk beside this one). */
const STALE_TEMP_MS = 86_400_000;

/** Names of the sets of work in progress under partial/<key>/ (see resumeState). */
const PARTIAL_SET = /^\d+-[0-9a-f]{8}$/;

/** A content-addressed store rooted at one folder. */
export class LocalStore implements Store {
  /**
   * The sha256 of the store's files remembered by their stat (cache/file-digests.json), so a
   * cached rerun does not reread and rehash the objects it checked before; opened on first use,
   * saved by {@link saveDigests}.
   */
  #digests?: Promise<FileDigests>;
  /** Records already warned about, so each damaged one is said once. */
  readonly #warned = new Set<string>();

  /**
   * @param warn told, once each, of a record that is skipped because it is damaged or planted
   */
  constructor(readonly root: string, readonly warn: (message: string) => void = () => {}) {
    if (root === "") throw new PipelineError("the store folder is empty; give one with --store");
  }

  /**
   * The path of `segments` under the store's root: the one way the store names a place it
   * writes, reads or removes. Each segment must be one plain name (not empty, `.` or `..`, no
   * `/`, NUL or control character), and the result must resolve inside the root.
   * @throws {PipelineError} naming the segment otherwise: a name read from outside got past its
   * check, and nothing is touched
   */
  pathOf(...segments: string[]): string {
    for (const segment of segments) {
      if (segment === "" || segment === "." || segment === ".." || UNSAFE_SEGMENT.test(segment)) {
        throw new PipelineError(
          `Refusing to use ${
            quoteName(segment)
          } as a name in the store ${this.root}: it is not a plain file name`,
        );
      }
    }
    const root = resolve(this.root);
    if (!resolve(root, ...segments).startsWith(root + sep)) {
      throw new PipelineError(`Refusing a path outside the store ${this.root}`);
    }
    return [this.root, ...segments].join("/");
  }

  /** Says once that `what` was skipped and why. */
  #skip(what: string, why: string): void {
    if (this.#warned.has(what)) return;
    this.#warned.add(what);
    this.warn(`skipped ${what}: ${why}`);
  }

  #fileDigests(): Promise<FileDigests> {
    return this.#digests ??= FileDigests.open(this.root, {
      cacheFile: `${this.root}/${DIGESTS_FILE}`,
      tmpDir: `${this.root}/tmp`,
    });
  }

  /**
   * Keeps what this process learnt about the store's files for the next one. A cache is never
   * worth a failure: one that cannot be written costs only time.
   */
  async saveDigests(): Promise<void> {
    const digests = await this.#digests?.catch(() => undefined);
    await digests?.save(false);
  }

  /**
   * Opens the store for writing: creates it in a missing or empty folder, checks that any other
   * folder is a store, checks that it can be written, and sweeps temp files left by killed runs.
   * Called before any stage runs, so a store that cannot be used fails the run at once.
   */
  async init(): Promise<void> {
    const state = await this.inspect();
    if (state === "not-a-store") throw this.notAStore();
    try {
      if (state !== "store") {
        await Deno.mkdir(this.root, { recursive: true });
        await writeFileAtomic(
          `${this.root}/${STORE_MARKER}`,
          prettyJson({ format: STORE_FORMAT, version: STORE_VERSION }),
        );
      }
      for (const dir of LAYOUT) await Deno.mkdir(`${this.root}/${dir}`, { recursive: true });
      // Found now rather than after hours of training: a temp file can be made and removed.
      const probe = `${this.root}/tmp/.tmp-${crypto.randomUUID()}`;
      await Deno.writeFile(probe, new Uint8Array(1));
      await Deno.remove(probe);
      await this.sweepTemps();
    } catch (e) {
      if (e instanceof PipelineError || !isFsError(e)) throw e;
      throw new PipelineError(
        `Cannot write to the store ${this.root}: ${describeFsError(e)}; ${
          fsErrorAdvice(e)
        } or choose another store with --store`,
        { cause: e },
      );
    }
  }

  /**
   * Checks that the store exists and is one, for commands that only read it.
   * @throws {PipelineError} naming the folder when there is no store there
   */
  async requireExisting(): Promise<void> {
    const state = await this.inspect();
    if (state === "missing" || state === "empty") {
      throw new PipelineError(
        `There is no store at ${this.root}: run the pipeline first, or point --store at a store`,
      );
    }
    if (state === "not-a-store") throw this.notAStore();
  }

  /** What the folder is: a store (or a pre-marker store), missing, empty, or something else. */
  private async inspect(): Promise<"store" | "legacy" | "missing" | "empty" | "not-a-store"> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(this.root);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return "missing";
      throw new PipelineError(
        `Cannot use the store ${this.root}: ${describeFsError(e)}; ${
          fsErrorAdvice(e)
        } or choose another store with --store`,
        { cause: e },
      );
    }
    if (!info.isDirectory) {
      throw new PipelineError(
        `The store ${this.root} is a file, not a folder: give --store a new or empty folder`,
      );
    }
    // Listed before the marker is read: another run may be creating this store right now, and
    // its marker, once renamed into place, stays. A listing without it is an empty folder or a
    // store being made (only our temp file there); a listing with it finds the whole marker.
    const names: string[] = [];
    for await (const e of Deno.readDir(this.root)) {
      // A .gitkeep is how a repository ships an empty folder (this one once shipped artifacts/).
      if (e.name !== ".gitkeep" && !TEMP_NAME.test(e.name)) names.push(e.name);
    }
    if (names.includes(STORE_MARKER)) {
      const marker = await readJson<{ format?: unknown; version?: unknown }>(
        `${this.root}/${STORE_MARKER}`,
      );
      if (marker?.format === STORE_FORMAT) {
        if (typeof marker.version === "number" && marker.version > STORE_VERSION) {
          throw new PipelineError(
            `The store ${this.root} was made by a newer version of the pipeline (format ${marker.version}); update the pipeline or choose another store with --store`,
          );
        }
        return "store";
      }
    }
    if (names.length === 0) return "empty";
    const legacy = names.every((n) => LAYOUT.includes(n)) && names.includes("objects") &&
      names.includes("keys");
    return legacy ? "legacy" : "not-a-store";
  }

  private notAStore(): PipelineError {
    return new PipelineError(
      `${this.root} is not a pipeline store (it has no ${STORE_MARKER}) and is not empty; the pipeline only writes into a store it made, so give --store a new or empty folder`,
    );
  }

  /** Removes temp files that killed runs left; only names the store makes, only old ones. */
  private async sweepTemps(): Promise<void> {
    const before = Date.now() - STALE_TEMP_MS;
    for await (const e of Deno.readDir(`${this.root}/tmp`)) {
      if (!e.isFile || !TEMP_NAME.test(e.name)) continue;
      const path = `${this.root}/tmp/${e.name}`;
      const mtime = (await Deno.lstat(path).catch(() => undefined))?.mtime?.getTime();
      if (mtime !== undefined && mtime < before) await Deno.remove(path).catch(() => {});
    }
  }

  /**
   * Takes the lock of a stage key, waiting while another run computes it.
   * @param onWait told who holds it, once, if the run has to wait
   */
  lock(
    key: StageKey,
    onWait: (holder: LockHolder | undefined) => void,
    signal?: AbortSignal,
  ): Promise<HeldLock> {
    return acquireLock(this.pathOf("locks", `${checkedKey(key)}.lock`), onWait, signal);
  }

  /** Where the object with this digest lives. */
  objectPath(digest: Digest): string {
    return this.pathOf(...objectRel(digest).split("/"));
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

  /**
   * True when the object is present and its bytes still hash to its name (rehashed unless its
   * stat is what it was when last hashed; see core/file_digests.ts).
   */
  async intact(digest: Digest): Promise<boolean> {
    return (await this.fileDigest(objectRel(digest))) === digest;
  }

  /** The sha256 of the store file at `rel` (relative to the root), or undefined if missing. */
  async fileDigest(rel: string): Promise<string | undefined> {
    try {
      return await (await this.#fileDigests()).sha256(rel);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** Reads an object, checking that its bytes still hash to its name. */
  async get(digest: Digest): Promise<Uint8Array> {
    const { bytes, sha256 } = await (await this.#fileDigests()).read(objectRel(digest));
    if (sha256 !== digest) {
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

  /**
   * The run-cache entry of a stage key as written, whether or not its outputs remain; an entry
   * that is not one (damaged, or names that are not names) is as good as none, said once.
   */
  async readKey(key: StageKey): Promise<KeyEntry | undefined> {
    const path = this.keyPath(key);
    const value = await readJson<unknown>(path);
    if (value === undefined) return undefined;
    const problem = keyEntryProblem(value);
    if (problem === undefined) return value as KeyEntry;
    this.#skip(path, `it is not a stage key's entry (${problem}); the stage is computed again`);
    return undefined;
  }

  /** Records a stage key's outputs. */
  async putKey(key: StageKey, entry: KeyEntry): Promise<void> {
    await this.writeAtomic(this.keyPath(key), prettyJson(entry));
  }

  /** Writes a run record as the latest of its config and into the config's history. */
  async putRun(configHash: string, record: RunRecord, latest: boolean): Promise<void> {
    const problem = runRecordProblem(record);
    if (problem !== undefined || record.configHash !== configHash) {
      throw new TypeError(
        `Cannot record run ${quoteName(configHash)}: ${problem ?? "hash differs"}`,
      );
    }
    const bytes = prettyJson(record);
    const stamp = record.finishedAt.replace(/[:.]/g, "-");
    await this.writeAtomic(this.pathOf("runs", configHash, `${stamp}.json`), bytes);
    if (latest) await this.writeAtomic(this.pathOf("runs", `${configHash}.json`), bytes);
  }

  /**
   * The latest run record of a config, if any.
   * @throws {PipelineError} naming the file when it is not a run record
   */
  async getRun(configHash: string): Promise<RunRecord | undefined> {
    if (!isConfigHash(configHash)) return undefined;
    const path = this.pathOf("runs", `${configHash}.json`);
    const value = await readJson<unknown>(path);
    if (value === undefined) return undefined;
    const problem = runRecordProblem(value);
    if (problem !== undefined || (value as RunRecord).configHash !== configHash) {
      throw new PipelineError(
        `${path} is not a run record of ${configHash} (${
          problem ?? "it names another config"
        }); move it out of runs/ or remove it`,
      );
    }
    return value as RunRecord;
  }

  /**
   * The latest run record of every config, newest first; with `all`, every run kept in the
   * history instead (failed runs and runs cut short by --until included). A file in runs/ that
   * is not a run record, or whose names cannot be used (a config hash that is not one, or that is
   * not the file's own name), is left out, and `onStray` is told its path and why.
   */
  async listRuns(opts: { all?: boolean; onStray?: OnStray } = {}): Promise<RunRecord[]> {
    const paths: string[] = [];
    for await (const e of readDirSafe(`${this.root}/runs`)) {
      if (!opts.all && e.isFile && e.name.endsWith(".json")) {
        paths.push(`${this.root}/runs/${e.name}`);
      } else if (opts.all && e.isDirectory) {
        for await (const h of readDirSafe(`${this.root}/runs/${e.name}`)) {
          if (h.isFile && h.name.endsWith(".json")) {
            paths.push(`${this.root}/runs/${e.name}/${h.name}`);
          }
        }
      }
    }
    const records: RunRecord[] = [];
    for (const path of paths.sort()) {
      const value = await readJson<unknown>(path);
      const problem = value === undefined ? "it is not JSON" : runRecordProblem(value) ??
        // A record stands for the config its file is named after (runs/<hash>.json or
        // runs/<hash>/<time>.json), so gc and compare act on the name they see.
        (path.slice(this.root.length + "/runs/".length).startsWith(
            (value as RunRecord).configHash,
          )
          ? undefined
          : "its configHash is not its file's name");
      if (problem === undefined) records.push(value as RunRecord);
      else opts.onStray?.(path, problem);
    }
    return records.sort((a, b) =>
      a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0
    );
  }

  /** Writes bytes to `path` through a temp file and a rename. */
  writeAtomic(path: string, bytes: Uint8Array, mode?: number): Promise<void> {
    return writeFileAtomic(path, bytes, { mode, tmpDir: `${this.root}/tmp` });
  }

  /** Work in progress of a stage key (see StageContext.resume), under `partial/<key>/`. */
  resumeState(key: StageKey): ResumeState & { clear(): Promise<void> } {
    const dir = this.pathOf("partial", checkedKey(key));
    return {
      load: async () => {
        const current = await readJson<{ set: unknown; files: unknown }>(`${dir}/current.json`);
        if (current === undefined) return undefined;
        if (
          typeof current.set !== "string" || !PARTIAL_SET.test(current.set) ||
          !Array.isArray(current.files) || !current.files.every(isRelativeName)
        ) {
          this.#skip(`${dir}/current.json`, "it does not name a set of files; starting afresh");
          return undefined;
        }
        const files: Outputs = {};
        try {
          for (const name of current.files) {
            files[name] = await Deno.readFile(
              this.pathOf("partial", key, current.set, ...name.split("/")),
            );
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
          await this.writeAtomic(this.pathOf("partial", key, set, ...name.split("/")), bytes);
        }
        await this.writeAtomic(
          `${dir}/current.json`,
          prettyJson({ set, files: Object.keys(files) }),
        );
        for await (const e of readDirSafe(dir)) {
          if (e.isDirectory && e.name !== set && PARTIAL_SET.test(e.name)) {
            await Deno.remove(`${dir}/${e.name}`, { recursive: true });
          }
        }
      },
      clear: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
  }

  /**
   * Marks the store as in use for the life of a run (a shared lock, `locks/store.lock`), so that
   * `gc` never removes what a run is writing. Many runs may hold it at once.
   */
  async use(): Promise<{ release(): void }> {
    const file = await Deno.open(`${this.root}/locks/store.lock`, {
      read: true,
      write: true,
      create: true,
    });
    await file.lock(false);
    return { release: () => file.close() };
  }

  /**
   * Takes the store for itself (the exclusive side of {@link use}), or returns undefined when a
   * run is using it.
   */
  async useAlone(): Promise<{ release(): void } | undefined> {
    const file = await Deno.open(`${this.root}/locks/store.lock`, {
      read: true,
      write: true,
      create: true,
    });
    if (await file.tryLock(true)) return { release: () => file.close() };
    file.close();
    return undefined;
  }

  /** Every object's digest and size (a file whose name is no digest is not the store's). */
  async *objects(): AsyncIterable<{ digest: Digest; size: number }> {
    for await (const digest of this.#named("objects", "", isDigest)) {
      const info = await Deno.lstat(this.objectPath(digest));
      yield { digest, size: info.size };
    }
  }

  /** Every stage key in the run cache. */
  keys(): AsyncIterable<StageKey> {
    return this.#named("keys", ".json", isStageKey);
  }

  /** The names under `dir`'s two-letter folders that are the store's own (`ab` + `cdef…`). */
  async *#named<T extends string>(
    dir: "objects" | "keys",
    suffix: string,
    is: (name: string) => name is T,
  ): AsyncIterable<T> {
    for await (const prefix of readDirSafe(this.pathOf(dir))) {
      if (!prefix.isDirectory || prefix.name.length !== 2) continue;
      for await (const rest of readDirSafe(this.pathOf(dir, prefix.name))) {
        if (!rest.isFile || !rest.name.endsWith(suffix)) continue;
        const name = `${prefix.name}${rest.name.slice(0, rest.name.length - suffix.length)}`;
        if (is(name)) yield name;
      }
    }
  }

  /** The names of the folders directly under `dir` (partial/, out/, runs/, compare/). */
  async *folders(dir: StoreFolder): AsyncIterable<string> {
    for await (const e of readDirSafe(this.pathOf(dir))) if (e.isDirectory) yield e.name;
  }

  /**
   * Removes an object, a key entry, a run's records, its exports, a key's partial work or a
   * compare page.
   */
  async remove(
    what:
      | { object: Digest }
      | { key: StageKey }
      | { partial: StageKey }
      | { out: ConfigHash }
      | { runs: ConfigHash }
      | { compare: string },
  ): Promise<void> {
    if ("object" in what || "key" in what) {
      const path = "object" in what ? this.objectPath(what.object) : this.keyPath(what.key);
      await Deno.remove(path);
      // The two-letter folder goes with its last entry (removing a folder that is not empty
      // fails, and that is fine).
      return await Deno.remove(path.slice(0, path.lastIndexOf("/"))).catch(() => {});
    }
    if ("runs" in what) {
      const hash = checkedConfigHash(what.runs);
      await Deno.remove(this.pathOf("runs", `${hash}.json`)).catch(ignoreNotFound);
      return await Deno.remove(this.pathOf("runs", hash), { recursive: true })
        .catch(ignoreNotFound);
    }
    // Only folders the store names itself: a stage key's partial work, a config's exports, a
    // compare page (named by config hashes, report/comparison.ts).
    const path = "partial" in what
      ? this.pathOf("partial", checkedKey(what.partial))
      : "out" in what
      ? this.pathOf("out", checkedConfigHash(what.out))
      : this.pathOf("compare", checkedComparePage(what.compare));
    await Deno.remove(path, { recursive: true });
  }

  /** True when an interrupted run left work in progress for this stage key. */
  hasResumeState(key: StageKey): Promise<boolean> {
    return exists(this.pathOf("partial", checkedKey(key), "current.json"));
  }

  /** Rehashes every object; returns the digests whose bytes no longer match, after removing them. */
  async verify(remove: boolean): Promise<{ checked: number; corrupt: string[] }> {
    let checked = 0;
    const corrupt: string[] = [];
    for await (const { digest } of this.objects()) {
      const path = this.objectPath(digest);
      checked++;
      if (digestOf(await Deno.readFile(path)) !== digest) {
        corrupt.push(digest);
        if (remove) await Deno.remove(path);
      }
    }
    // Damage that left the stat as it was (bit rot) would still be remembered as intact: forget
    // every remembered digest, so the next run hashes what it uses.
    if (corrupt.length > 0) {
      this.#digests = undefined;
      await Deno.remove(`${this.root}/${DIGESTS_FILE}`).catch(ignoreNotFound);
    }
    return { checked, corrupt };
  }

  private keyPath(key: StageKey): string {
    checkedKey(key);
    return this.pathOf("keys", key.slice(0, 2), `${key.slice(2)}.json`);
  }
}

async function* readDirSafe(path: string): AsyncIterable<Deno.DirEntry> {
  try {
    yield* Deno.readDir(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
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

/** Characters no name of the store's holds: path separators, NUL and the other controls. */
// deno-lint-ignore no-control-regex
const UNSAFE_SEGMENT = /[/\\\u0000-\u001f\u007f]/;

/** Where the object with this digest lives, relative to the store's root. */
function objectRel(digest: Digest): string {
  if (!isDigest(digest)) throw new TypeError(`${quoteName(digest)} is not a digest`);
  return `objects/${digest.slice(0, 2)}/${digest.slice(2)}`;
}

function checkedKey(key: string): StageKey {
  if (!isStageKey(key)) throw new TypeError(`${quoteName(key)} is not a stage key`);
  return key;
}

function checkedConfigHash(hash: string): ConfigHash {
  if (!isConfigHash(hash)) throw new TypeError(`${quoteName(hash)} is not a config hash`);
  return hash;
}

function checkedComparePage(name: string): string {
  if (!isComparePage(name)) throw new TypeError(`${quoteName(name)} is not a compare page`);
  return name;
}
