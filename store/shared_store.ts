/**
 * The local store with a remote behind it (`--remote`, remote/remote.ts): the local store stays the
 * working copy, and the remote is what every machine shares.
 *
 * - A stage key the local store lacks is looked up on the remote; when a machine recorded it,
 *   its outputs are fetched (each verified by its digest) into the local store and the stage is
 *   cached, not computed.
 * - A computed stage is pushed: its outputs first, then its key, so no machine ever sees a key
 *   whose objects are missing. A key another machine recorded first is kept (create-if-absent).
 * - Locks are taken on the remote too, so a stage key being computed anywhere is waited for.
 * - Work in progress (training's last finished epoch) and run records are shared, so a job
 *   another worker takes over resumes where the first stopped, and `runs` lists every machine's.
 *
 * The runner sees a Store: nothing in it knows about the remote. When the remote stops answering
 * mid-run, the run says so once and goes on locally, unless the remote is required
 * (`--remote-required`), which makes it stop with that sentence.
 *
 * @module
 */
import type { Digest, StageKey } from "../core/hash.ts";
import type { HeldLock, KeyEntry, LockHolder, OnStray } from "../core/storage.ts";
import { type Remote, RemoteError } from "../remote/remote.ts";
import type { RunRecord } from "../core/run_record.ts";
import { keyEntryProblem, runRecordProblem } from "../formats/records.ts";
import { quoteName } from "../formats/names.ts";
import type { Outputs, ResumeState } from "../core/stage.ts";
import { LocalStore } from "./store.ts";

/** What the shared store tells the CLI. */
export interface SharedStoreEvents {
  /** A one-line warning (the remote stopped answering, a key conflict). */
  warn(message: string): void;
  /** A stage key was fetched from the remote: `objects` fetched, `bytes` in all. */
  fetched?(key: StageKey, objects: number, bytes: number): void;
}

/** A {@link Store} whose misses are looked up on `remote` and whose results are pushed to it. */
export class SharedStore extends LocalStore {
  #remote: Remote | undefined;

  constructor(
    root: string,
    remote: Remote,
    readonly required: boolean,
    private readonly events: SharedStoreEvents,
    /**
     * How long a lock whose holder stopped refreshing it (a machine that died) blocks the key
     * before another machine takes it over; refreshed every third of it while held.
     */
    readonly lockTtlMs = 30_000,
  ) {
    super(root, events.warn);
    this.#remote = remote;
  }

  /** The remote, while it answers. */
  get remote(): Remote | undefined {
    return this.#remote;
  }

  /**
   * Runs `op` on the remote. A remote failure is thrown when the remote is required, else said
   * once and the remote is dropped for the rest of the process (the run goes on locally).
   */
  async #onRemote<T>(what: string, op: (remote: Remote) => Promise<T>): Promise<T | undefined> {
    const remote = this.#remote;
    if (remote === undefined) return undefined;
    try {
      return await op(remote);
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      if (this.required) throw e;
      this.#remote = undefined;
      this.events.warn(
        `the remote ${remote.description} stopped answering (${e.message}) while ${what}; ` +
          "going on with the local store only",
      );
      await remote.close().catch(() => {});
      return undefined;
    }
  }

  /**
   * With a remote there is always something to read (every machine's runs), so a missing local
   * store is made, as the working copy, instead of refused.
   */
  override async requireExisting(): Promise<void> {
    await this.init();
  }

  override async getKey(key: StageKey): Promise<KeyEntry | undefined> {
    const local = await super.getKey(key);
    if (local !== undefined) return local;
    return await this.#onRemote("looking up a stage key", async (remote) => {
      const entry = await remote.getKey(key);
      if (entry === undefined) return undefined;
      // Not an entry (damaged, or planted: digests that are paths): as if absent. The stage is
      // computed here, and pushing it repairs the entry.
      const problem = "malformed" in entry ? entry.malformed : keyEntryProblem(entry);
      if ("malformed" in entry || problem !== undefined) {
        this.#warnOnce(
          `key ${key}`,
          `the remote's entry for stage key ${
            key.slice(0, 12)
          } is not an entry (${problem}); computing the stage here`,
        );
        return undefined;
      }
      let objects = 0, bytes = 0;
      for (const digest of Object.values(entry.outputs)) {
        if (await super.intact(digest)) continue;
        const got = await remote.get(digest);
        // An object the remote lost or never finished: compute the stage here instead.
        if (got === undefined) return undefined;
        await super.put(got);
        objects++;
        bytes += got.length;
      }
      const fetched = entry as unknown as KeyEntry;
      await super.putKey(key, fetched);
      this.events.fetched?.(key, objects, bytes);
      return fetched;
    });
  }

  override async get(digest: Digest): Promise<Uint8Array> {
    if (!(await super.has(digest)) && this.#remote !== undefined) {
      const got = await this.#onRemote("fetching an object", (remote) => remote.get(digest));
      if (got !== undefined) await super.put(got);
    }
    return await super.get(digest);
  }

  override async putKey(key: StageKey, entry: KeyEntry): Promise<void> {
    await super.putKey(key, entry);
    await this.#onRemote("pushing a stage's outputs", async (remote) => {
      for (const digest of Object.values(entry.outputs)) {
        await remote.put(digest, await super.get(digest));
      }
      const result = await remote.putKey(key, { ...entry });
      if (result.status === "repaired") {
        this.events.warn(
          `stage ${entry.stage}: repaired the remote's entry for key ${key.slice(0, 12)}`,
        );
      }
      if (result.status === "conflict") {
        this.events.warn(
          `stage ${entry.stage}: another machine recorded other outputs for key ${
            key.slice(0, 12)
          }; its entry is kept on the remote (the stage is not deterministic across machines)`,
        );
      }
    });
  }

  override async lock(
    key: StageKey,
    onWait: (holder: LockHolder | undefined) => void,
    signal?: AbortSignal,
  ): Promise<HeldLock> {
    const local = await super.lock(key, onWait, signal);
    try {
      const remote = await this.#onRemote("taking a stage's lock", (r) =>
        r.lock(key, {
          ttlMs: this.lockTtlMs,
          signal,
          onWait: (holder) =>
            onWait(holder && { host: holder.host, pid: holder.pid, startedAt: holder.startedAt }),
        }));
      return {
        release: async () => {
          await remote?.release().catch(() => {});
          await local.release();
        },
      };
    } catch (e) {
      await local.release();
      throw e;
    }
  }

  override resumeState(key: StageKey): ResumeState & { clear(): Promise<void> } {
    const local = super.resumeState(key);
    return {
      load: async () =>
        await local.load() ??
          await this.#onRemote("reading work in progress", (r) => r.getResume(key)) as
            | Outputs
            | undefined,
      save: async (files) => {
        await local.save(files);
        await this.#onRemote("saving work in progress", (r) => r.putResume(key, files));
      },
      clear: async () => {
        await local.clear();
        await this.#onRemote("dropping work in progress", (r) => r.dropResume(key));
      },
    };
  }

  override async putRun(configHash: string, record: RunRecord, latest: boolean): Promise<void> {
    await super.putRun(configHash, record, latest);
    // Only the records that stand for their config (a cached rerun's stays local, DECISIONS 11).
    if (!latest) return;
    await this.#onRemote(
      "sharing the run record",
      (r) => r.putRun(configHash, JSON.stringify(record)),
    );
  }

  /**
   * Every machine's run records on the remote, newest first (none when it does not answer); an
   * entry that is not a run record, or that is filed under another config hash, is left out and
   * said once.
   */
  async #remoteRuns(): Promise<RunRecord[]> {
    const runs = await this.#onRemote("listing runs", (r) => r.listRuns()) ?? [];
    return runs.flatMap((r) => {
      let record: unknown;
      try {
        record = JSON.parse(r.json);
      } catch {
        record = undefined;
      }
      const problem = record === undefined ? "it is not JSON" : runRecordProblem(record) ??
        ((record as RunRecord).configHash === r.configHash
          ? undefined
          : "it is filed under another config hash");
      if (problem === undefined) return [record as RunRecord];
      this.#warnOnce(
        `run ${r.configHash} ${r.finishedAt}`,
        `skipped the remote's run record ${
          quoteName(r.configHash)
        }: it is not a run record (${problem})`,
      );
      return [];
    });
  }

  readonly #warned = new Set<string>();

  #warnOnce(what: string, message: string): void {
    if (this.#warned.has(what)) return;
    this.#warned.add(what);
    this.events.warn(message);
  }

  /** The local runs and every machine's on the remote, once each; see {@link Store.listRuns}. */
  override async listRuns(
    opts: { all?: boolean; onStray?: OnStray } = {},
  ): Promise<RunRecord[]> {
    const local = await super.listRuns(opts);
    const id = (r: RunRecord) => opts.all ? `${r.configHash} ${r.finishedAt}` : r.configHash;
    const seen = new Set(local.map(id));
    const merged = [...local];
    // The remote lists each config's runs newest first: without --all, the first is its latest.
    for (const r of await this.#remoteRuns()) {
      if (seen.has(id(r))) continue;
      seen.add(id(r));
      merged.push(r);
    }
    return merged.sort((a, b) =>
      a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0
    );
  }

  /** The latest run of a config, here or on any machine. */
  override async getRun(configHash: string): Promise<RunRecord | undefined> {
    const local = await super.getRun(configHash);
    if (local !== undefined) return local;
    return (await this.#remoteRuns()).find((r) => r.configHash === configHash);
  }

  /** Closes the connection to the remote. */
  async close(): Promise<void> {
    await this.#remote?.close().catch(() => {});
  }
}
