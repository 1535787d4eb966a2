/**
 * What the engine and the commands need of a store: a content-addressed place for objects, the
 * run cache (stage key → outputs), run records, work in progress and locks. store/ implements it
 * on a local folder (`LocalStore`), and with a shared remote behind that folder (`SharedStore`);
 * nothing here knows which.
 *
 * @module
 */
import type { ConfigHash, Digest, StageKey } from "./hash.ts";
import type { RunRecord } from "./run_record.ts";
import type { Metric, ResumeState } from "./stage.ts";
import type { KeyComponents } from "./stage_key.ts";

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

/** Who holds a stage key's lock, as the lock says. */
export interface LockHolder {
  host: string;
  pid: number;
  startedAt: string;
}

/** A held lock. */
export interface HeldLock {
  release(): Promise<void>;
}

/** What a reader is told of a file it skipped: its path and why. */
export type OnStray = (path: string, why: string) => void;

/** The folders of a store listed by name. */
export type StoreFolder = "partial" | "out" | "runs" | "compare";

/** A store, as the runner and the commands use it. */
export interface Store {
  /** The local folder (the working copy when a remote is behind it). */
  readonly root: string;
  /**
   * The path of `segments` under the root, refusing any segment that is not a plain name: the
   * one way a place in the store is named.
   */
  pathOf(...segments: string[]): string;
  /** Creates the store or checks that the folder is one, before any stage runs. */
  init(): Promise<void>;
  /** Checks that there is a store, for commands that only read it. */
  requireExisting(): Promise<void>;

  /** Stores bytes under their digest and returns it. */
  put(bytes: Uint8Array): Promise<Digest>;
  /** An object's bytes, checked against its digest. */
  get(digest: Digest): Promise<Uint8Array>;
  has(digest: Digest): Promise<boolean>;
  /** True when the object is present and its bytes still hash to its name. */
  intact(digest: Digest): Promise<boolean>;
  /** The sha256 of a store file (relative to the root), or undefined if missing. */
  fileDigest(rel: string): Promise<string | undefined>;
  /** Writes bytes to a path through a temp file and a rename. */
  writeAtomic(path: string, bytes: Uint8Array, mode?: number): Promise<void>;

  /** A stage key's entry, if every output it names is present and intact. */
  getKey(key: StageKey): Promise<KeyEntry | undefined>;
  /** A stage key's entry as written, whether or not its outputs remain. */
  readKey(key: StageKey): Promise<KeyEntry | undefined>;
  putKey(key: StageKey, entry: KeyEntry): Promise<void>;
  /** Takes a stage key's lock, waiting while another run computes it. */
  lock(
    key: StageKey,
    onWait: (holder: LockHolder | undefined) => void,
    signal?: AbortSignal,
  ): Promise<HeldLock>;
  /** A stage key's work in progress. */
  resumeState(key: StageKey): ResumeState & { clear(): Promise<void> };
  hasResumeState(key: StageKey): Promise<boolean>;

  /** Records a run as its config's latest (with `latest`) and in its history. */
  putRun(configHash: ConfigHash, record: RunRecord, latest: boolean): Promise<void>;
  getRun(configHash: string): Promise<RunRecord | undefined>;
  /** Every config's latest run (or with `all` every run kept), newest first. */
  listRuns(opts?: { all?: boolean; onStray?: OnStray }): Promise<RunRecord[]>;

  /** Holds the store in use for a run (gc waits); many runs may hold it. */
  use(): Promise<{ release(): void }>;
  /** Takes the store for itself, or undefined while a run uses it. */
  useAlone(): Promise<{ release(): void } | undefined>;
  objects(): AsyncIterable<{ digest: Digest; size: number }>;
  keys(): AsyncIterable<StageKey>;
  folders(dir: StoreFolder): AsyncIterable<string>;
  remove(
    what:
      | { object: Digest }
      | { key: StageKey }
      | { partial: StageKey }
      | { out: ConfigHash }
      | { runs: ConfigHash }
      | { compare: string },
  ): Promise<void>;
  /** Rehashes every object; with `remove`, removes the corrupt ones. */
  verify(remove: boolean): Promise<{ checked: number; corrupt: string[] }>;
  /** Keeps what this process learnt of the store's files' digests for the next. */
  saveDigests(): Promise<void>;
}
