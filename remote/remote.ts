/**
 * The shared store as the rest of the pipeline sees it: the {@link Remote} interface, what its
 * operations take and give, and {@link RemoteError}. Nothing here talks to a server; this module
 * imports no client, so the store and the CLI depend on the interface alone.
 *
 * The one implementation keeps everything on a NATS JetStream server (nats/, one module per
 * concern; `connectRemote` in nats/connect.ts opens it):
 *
 * ```
 * object store dlm_objects   the store's objects, named by their sha256 (verified both ways)
 *                            nats/objects.ts
 * KV dlm_keys                stage key → its run-cache entry ({outputs, …}), created once, never
 *                            overwritten (unless it is not an entry: then it is repaired)
 *                            nats/stage_keys.ts
 * KV dlm_runs                <config-hash>.<finished-at> → a run record (JSON)
 *                            nats/run_records.ts
 * KV dlm_resume              stage key → the set of work-in-progress files of an interrupted stage
 * object store dlm_partial   those files, in two slots per stage key
 *                            nats/resume.ts
 * KV dlm_locks               stage key → who computes it now (refreshed while it works)
 *                            nats/locks.ts
 * stream DLM_JOBS            the sweep's jobs, a work queue (each job acked once, by one worker)
 *                            nats/job_queue.ts
 * ```
 *
 * The local store stays the working copy; the runner decides what to fetch and push. A remote
 * only moves bytes and answers questions, and keeps three promises:
 *
 * - **Nothing half-written is ever used.** The object store writes an object's chunks first and
 *   its metadata last, so a put cut half way (a killed process, a dropped connection) leaves
 *   chunks that no metadata names: the object is absent. Every object read is rehashed and
 *   compared with its name, and an object whose metadata names another digest, or whose chunks
 *   are not all there, is absent too.
 * - **Nothing is overwritten by accident.** Stage keys are created if absent (a different value
 *   already there is a conflict, reported, never replaced); locks, resume pointers and object
 *   metadata are changed by compare-and-set on the KV revision (a subject's last sequence).
 * - **Every operation can be retried.** Objects are named by content, keys are create-if-absent,
 *   run records are named by config and time, and jobs carry a message id the server deduplicates,
 *   so a request that timed out while a cluster elected a new leader is simply sent again
 *   (nats/session.ts).
 *
 * Credentials (remote/credentials.ts) are handed to the client only; no message a remote makes
 * contains them.
 *
 * @module
 */
import type { ConfigHash, Digest, StageKey } from "../core/hash.ts";
import { PipelineError } from "../core/errors.ts";

/** A stage key's entry: at least its output digests; the runner may keep more (metrics…). */
export type RemoteKeyEntry = { outputs: Record<string, Digest> } & Record<string, unknown>;

/**
 * A stage key's entry that is not one (damaged, or written by someone else: output names or
 * digests that are not names): as good as absent, and `problem` says why.
 */
export interface MalformedEntry {
  malformed: string;
}

/** What {@link Remote.putKey} did. */
export type PutKeyResult =
  /** The key was new and now holds this entry. */
  | { status: "created" }
  /** Another machine had recorded the same outputs; its entry is kept. */
  | { status: "exists" }
  /** Another machine had recorded different outputs for this key; its entry is kept. */
  | { status: "conflict"; existing: Record<string, Digest> | undefined }
  /** The entry there was not an entry ({@link MalformedEntry}); ours replaced it. */
  | { status: "repaired" };

/** One run record kept on the remote. */
export interface RemoteRun {
  configHash: string;
  finishedAt: string;
  /** The record as the runner wrote it (JSON). */
  json: string;
}

/** Who holds a remote lock, as its entry says. */
export interface RemoteLockHolder {
  host: string;
  pid: number;
  startedAt: string;
  /** How long the entry stays valid without a refresh. */
  ttlMs: number;
  /** Unique per lock taken: tells a holder its own entry from a successor's. */
  owner: string;
}

/** How to take a lock. */
export interface LockOptions {
  /** An entry not refreshed for this long is taken over (default 30 s; refreshed every third). */
  ttlMs?: number;
  /** Stops waiting (the signal's reason is thrown). */
  signal?: AbortSignal;
  /** Told once, if the lock is held elsewhere and this call has to wait. */
  onWait?: (holder: RemoteLockHolder | undefined) => void;
  /** Told when the lock is taken over from a holder that stopped refreshing it. */
  onTakeover?: (previous: RemoteLockHolder | undefined) => void;
  /** How often a waiter looks again (default ttl/6, at most 1 s). */
  pollMs?: number;
}

/** A held remote lock. */
export interface RemoteLock {
  /**
   * Aborted if the lock was lost: refreshing failed for longer than its ttl, or another machine
   * took it over. Work done under a lost lock is still correct (keys are create-if-absent), but
   * may be done twice.
   */
  readonly lost: AbortSignal;
  /** Stops refreshing and removes the entry if it is still this holder's. */
  release(): Promise<void>;
}

/** A job taken from the work queue. */
export interface Job {
  /** What {@link Remote.enqueue} was given. */
  data: unknown;
  /** The id it was enqueued with (deduplication). */
  id: string;
  /** 1 the first time; more when it was redelivered (its worker died, or it failed). */
  delivery: number;
}

/** How a worker takes jobs. */
export interface ConsumeOptions {
  /**
   * A job whose worker sends no heartbeat for this long is given to another worker (a killed
   * worker sends none; a live one sends one every third of it). Stored on the shared consumer.
   */
  ackWaitMs: number;
  /** Deliveries of a failing job before it is dropped (default 3). */
  maxDeliver?: number;
  /** Stops taking jobs; a job running then is handed back for another worker. */
  signal?: AbortSignal;
  /**
   * Returns once no job has come for this long and none is waiting (default: wait for jobs
   * until `signal`).
   */
  idleStopMs?: number;
  /** How long a failed job waits before it is delivered again (default 2 s). */
  retryDelayMs?: number;
  /** Told what happens, for the CLI to print. */
  onEvent?: (e: QueueEvent) => void;
}

/** What happens while a worker consumes jobs. */
export type QueueEvent =
  | { type: "started"; job: Job }
  | { type: "done"; job: Job; seconds: number }
  | { type: "failed"; job: Job; error: string; retry: boolean }
  | { type: "handed-back"; job: Job }
  | { type: "trouble"; message: string };

/** How a worker's consuming ended. */
export interface ConsumeSummary {
  done: number;
  failed: number;
  /** Stopped by the signal and handed back to the queue for another worker. */
  handedBack: number;
}

/** The shared store as the runner and the sweep use it. */
export interface Remote {
  /** Where the remote is, for messages and run records: URLs and auth kind, no credentials. */
  readonly description: string;
  /** True when an intact object with this digest is on the remote. */
  has(digest: Digest): Promise<boolean>;
  /** Uploads bytes under their digest, unless an intact copy is there (`present`). */
  put(digest: Digest, bytes: Uint8Array): Promise<"stored" | "present">;
  /** The object's bytes, verified, or undefined when it is absent, incomplete or corrupt. */
  get(digest: Digest): Promise<Uint8Array | undefined>;
  /** A stage key's entry, if any machine recorded one (or what is wrong with the one there). */
  getKey(key: StageKey): Promise<RemoteKeyEntry | MalformedEntry | undefined>;
  /** Records a stage key's entry if none is there; never replaces one, only a malformed one. */
  putKey(key: StageKey, entry: RemoteKeyEntry): Promise<PutKeyResult>;
  /** Keeps a run record (every run of a config, named by its finishedAt). */
  putRun(configHash: ConfigHash | string, recordJson: string): Promise<void>;
  /** Every run record kept, newest first. */
  listRuns(): Promise<RemoteRun[]>;
  /** Replaces a stage key's work in progress (all files, as one set). */
  putResume(key: StageKey, files: Record<string, Uint8Array>): Promise<void>;
  /** The last complete set of work in progress saved for a stage key, verified. */
  getResume(key: StageKey): Promise<Record<string, Uint8Array> | undefined>;
  /** Removes a stage key's work in progress (the stage finished). */
  dropResume(key: StageKey): Promise<void>;
  /** Takes the lock of a stage key, waiting while a live holder elsewhere has it. */
  lock(key: StageKey, opts?: LockOptions): Promise<RemoteLock>;
  /** Puts a job on the work queue; the same `id` twice within 10 minutes is one job. */
  enqueue(job: object, opts?: { id?: string }): Promise<{ duplicate: boolean }>;
  /** Takes jobs one at a time and runs `handler` on each; see {@link ConsumeOptions}. */
  consume(
    opts: ConsumeOptions,
    handler: (job: Job, signal: AbortSignal) => Promise<void>,
  ): Promise<ConsumeSummary>;
  /** Jobs waiting for a worker, and jobs a worker has taken and not finished. */
  queueState(): Promise<{ waiting: number; running: number }>;
  /** Closes the connection (a consume in progress ends; held locks stop refreshing). */
  close(): Promise<void>;
}

/** Why a remote operation failed, as a kebab-case reason (STYLE: failures are values). */
export type RemoteFailure =
  | "unreachable"
  | "unauthorized"
  | "no-jetstream"
  | "bad-settings"
  | "too-large"
  | "replicas"
  | "timeout"
  | "closed"
  | "server-error";

/** A remote that cannot be used: one sentence naming the URL, never a secret. */
export class RemoteError extends PipelineError {
  override name = "RemoteError";
  constructor(readonly reason: RemoteFailure, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
