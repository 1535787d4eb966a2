/**
 * The shared store on a NATS JetStream server: what several machines running the pipeline share.
 *
 * ```
 * object store dlm_objects   the store's objects, named by their sha256 (verified both ways)
 * KV dlm_keys                stage key → its run-cache entry ({outputs, …}), created once, never
 *                            overwritten (unless it is not an entry: then it is repaired)
 * KV dlm_runs                <config-hash>.<finished-at> → a run record (JSON)
 * KV dlm_resume              stage key → the set of work-in-progress files of an interrupted stage
 * object store dlm_partial   those files, in two slots per stage key (see putResume)
 * KV dlm_locks               stage key → who computes it now (refreshed while it works)
 * stream DLM_JOBS            the sweep's jobs, a work queue (each job acked once, by one worker)
 * ```
 *
 * The local store stays the working copy; the runner decides what to fetch and push. This module
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
 *   so a request that timed out while a cluster elected a new leader is simply sent again.
 *
 * Credentials come in through {@link RemoteCredentials} and are handed to the client only; no
 * message this module makes contains them.
 *
 * @module
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type KV,
  type KvEntry,
  nanos,
  type NatsConnection,
  NatsError,
  nkeyAuthenticator,
  type ObjectStore,
  RetentionPolicy,
  StorageType,
} from "nats";
import { hostname } from "node:os";
import {
  canonicalJson,
  type ConfigHash,
  type Digest,
  digestOf,
  type StageKey,
} from "../core/hash.ts";
import { PipelineError } from "../core/errors.ts";
import { sleep } from "../core/sleep.ts";
import { isConfigHash } from "../formats/names.ts";
import { outputsProblem } from "../formats/records.ts";
import { describeRemote } from "./settings.ts";
import { guardSocketErrors } from "./socket_errors.ts";

/** Names of what the remote keeps (fixed, so that every machine finds the same buckets). */
export const REMOTE_NAMES = {
  objects: "dlm_objects",
  keys: "dlm_keys",
  runs: "dlm_runs",
  resume: "dlm_resume",
  partial: "dlm_partial",
  locks: "dlm_locks",
  jobs: "DLM_JOBS",
  jobSubject: "dlm.jobs",
  workers: "dlm-workers",
} as const;

/** How to prove who we are to the server. Never logged, never written to a run record. */
export interface RemoteCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** A file holding an nkey seed (`SU…`); read at connect time only. */
  nkeySeedFile?: string;
  /** TLS: the CA that signed the server's certificate, and a client certificate if required. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** How to connect. */
export interface ConnectOptions {
  /** How long to try before saying the remote is unreachable (default 5 s). */
  timeoutMs?: number;
  /**
   * Copies the server keeps of each bucket: 1 for a single server, 3 for a three-server cluster
   * (default 1). Applies when this connection creates the buckets; existing ones keep theirs.
   */
  replicas?: number;
  /**
   * How long one JetStream request may take (default 4 s). Short, because a request sent while
   * the server restarts or a cluster elects a new leader gets no answer at all: it is better
   * sent again soon than waited for.
   */
  requestTimeoutMs?: number;
  /**
   * How long a transient failure (a timeout, no responder while a cluster elects a leader, a
   * reconnect) is retried before an operation gives up (default 30 s).
   */
  retryMs?: number;
  /** Shown in the server's connection list (default `deep-lstm-midi <host> <pid>`). */
  name?: string;
}

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

/**
 * Connects to the remote at `url` (one URL or several, comma-separated, for a cluster) and
 * makes sure its buckets and the job stream exist.
 *
 * @throws {RemoteError} one sentence naming the URL: unreachable, credentials refused, JetStream
 *   not enabled, or a cluster too small for the replicas asked for
 */
export async function connectRemote(
  url: string,
  credentials: RemoteCredentials,
  opts: ConnectOptions = {},
): Promise<Remote> {
  const servers = splitServers(url);
  const where = servers.join(",");
  const timeoutMs = opts.timeoutMs ?? 5000;
  let authenticator;
  if (credentials.nkeySeedFile !== undefined) {
    let seed: Uint8Array;
    try {
      seed = new TextEncoder().encode((await Deno.readTextFile(credentials.nkeySeedFile)).trim());
    } catch (e) {
      throw new RemoteError(
        "bad-settings",
        `Cannot read the nkey seed file ${credentials.nkeySeedFile} for the remote ${where}: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    authenticator = nkeyAuthenticator(seed);
  }
  guardSocketErrors();
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: opts.name ?? `deep-lstm-midi ${hostname()} ${Deno.pid}`,
      user: credentials.user,
      pass: credentials.password,
      token: credentials.token,
      authenticator,
      tls: credentials.tls === undefined && !servers.some((s) => s.startsWith("tls://"))
        ? undefined
        : { ...credentials.tls },
      timeout: timeoutMs,
      // Keep trying through a server restart or a cluster failover: jobs and locks outlive one
      // server; an operation that waits too long fails on its own timeout instead.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // A server that vanished without closing the socket (a cut network) is noticed in ~1 min.
      pingInterval: 20_000,
      maxPingOut: 3,
    });
  } catch (e) {
    throw connectError(e, where, timeoutMs);
  }
  const remote = new NatsRemote(nc, where, credentials, opts);
  try {
    await remote.init(opts.replicas ?? 1);
  } catch (e) {
    await nc.close().catch(() => {});
    throw e instanceof RemoteError ? e : connectError(e, where, timeoutMs);
  }
  return remote;
}

/** `nats://host:port` URLs from a comma-separated list, each checked. */
function splitServers(url: string): string[] {
  const servers = url.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (servers.length === 0) {
    throw new RemoteError("bad-settings", "The remote URL is empty; give it as nats://HOST:PORT");
  }
  for (const s of servers) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new RemoteError(
        "bad-settings",
        `The remote URL ${s} is not a URL; give it as nats://HOST:PORT`,
      );
    }
    if (u.protocol !== "nats:" && u.protocol !== "tls:") {
      throw new RemoteError(
        "bad-settings",
        `The remote URL ${u.protocol}//${u.host} is not a NATS URL; give it as nats://HOST:PORT (or tls://HOST:PORT)`,
      );
    }
    if (u.username !== "" || u.password !== "") {
      // Credentials in a URL end up in shell history, process lists and logs.
      throw new RemoteError(
        "bad-settings",
        `The remote URL ${u.protocol}//${u.host} carries credentials; put them in the settings file or DLM_REMOTE_USER/DLM_REMOTE_PASSWORD/DLM_REMOTE_TOKEN instead`,
      );
    }
  }
  return servers;
}

/** One sentence for a failed connection: what happened, where, and what to check. */
function connectError(e: unknown, where: string, timeoutMs: number): RemoteError {
  const code = e instanceof NatsError ? e.code : undefined;
  const message = (e as Error)?.message ?? String(e);
  if (code === "AUTHORIZATION_VIOLATION" || /authorization|authentication/i.test(message)) {
    return new RemoteError(
      "unauthorized",
      `The remote ${where} refused the credentials (authorization violation); check the user and password, token or nkey in the settings file or DLM_REMOTE_* variables`,
      { cause: e },
    );
  }
  if (code === "503" || /jetstream not enabled/i.test(message)) {
    return new RemoteError(
      "no-jetstream",
      `The remote ${where} answers but has no JetStream; start nats-server with -js (or a jetstream block in its config)`,
      { cause: e },
    );
  }
  if (code === "TLS" || /tls|certificate/i.test(message)) {
    return new RemoteError(
      "unreachable",
      `Cannot connect to the remote ${where}: TLS failed (${message}); check the tls settings (caFile, certFile, keyFile)`,
      { cause: e },
    );
  }
  if (code === "CONNECTION_REFUSED" || code === "TIMEOUT" || code === "CONNECTION_TIMEOUT") {
    return new RemoteError(
      "unreachable",
      `Cannot reach the remote ${where} (${
        code === "CONNECTION_REFUSED" ? "connection refused" : `no answer in ${timeoutMs} ms`
      }); check that nats-server runs there and the port is open`,
      { cause: e },
    );
  }
  if (/ENOTFOUND|getaddrinfo|EAI_AGAIN/.test(message)) {
    return new RemoteError(
      "unreachable",
      `Cannot reach the remote ${where}: its host name is not known here (${message}); check the URL`,
      { cause: e },
    );
  }
  return new RemoteError(
    "unreachable",
    `Cannot use the remote ${where}: ${message}`,
    { cause: e },
  );
}

/** A transient failure worth sending the request again for. */
function transient(e: unknown): boolean {
  if (!(e instanceof NatsError)) return false;
  const code = e.code;
  if (code === "TIMEOUT" || code === "503" || code === "DISCONNECT" || code === "408") return true;
  // A cluster without a stream leader for a moment answers with these API errors.
  return /no suitable peers|cluster not available|jetstream system temporarily unavailable|not current|leader/i
    .test(e.message);
}

/** The KV / object store error "wrong last sequence": someone else changed the entry first. */
function wrongSequence(e: unknown): boolean {
  return e instanceof NatsError &&
    (e.api_error?.err_code === 10071 || /wrong last sequence/i.test(e.message));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The JetStream implementation of {@link Remote}. */
class NatsRemote implements Remote {
  readonly description: string;
  #js: JetStreamClient;
  #jsm!: JetStreamManager;
  #objects!: ObjectStore;
  #partial!: ObjectStore;
  #keys!: KV;
  #runs!: KV;
  #resume!: KV;
  #locks!: KV;
  #retryMs: number;
  #maxPayload: number;
  /** Timers of held locks, stopped by close(). */
  #held = new Set<{ stop(): void }>();
  /** Resolves when the connection is back, while it is down (undefined while connected). */
  #down: { back: Promise<void>; resolve: () => void } | undefined;

  constructor(
    readonly nc: NatsConnection,
    readonly where: string,
    credentials: RemoteCredentials,
    opts: ConnectOptions,
  ) {
    this.description = describeRemote({ url: where, credentials });
    this.#js = nc.jetstream({ timeout: opts.requestTimeoutMs ?? 4000 });
    this.#retryMs = opts.retryMs ?? 30_000;
    this.#maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.#watchConnection();
  }

  /**
   * Follows the connection's state. A request sent while the client is disconnected is queued
   * and sent on reconnect, but its answer is often lost, costing a whole request timeout; so
   * while the connection is down, operations wait for it to come back instead.
   */
  async #watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect" && this.#down === undefined) {
        let resolve!: () => void;
        const back = new Promise<void>((r) => (resolve = r));
        this.#down = { back, resolve };
      } else if (s.type === "reconnect" && this.#down !== undefined) {
        this.#down.resolve();
        this.#down = undefined;
      }
    }
    // Closed: nobody waits for a reconnect that will not come.
    this.#down?.resolve();
    this.#down = undefined;
  }

  /** Opens (creating if needed) every bucket and the job stream. */
  async init(replicas: number): Promise<void> {
    this.#jsm = await this.#js.jetstreamManager();
    try {
      // Retried: a cluster that has just started answers "no suitable peers" for a moment.
      await this.#retry("open the shared buckets", () => this.#openBuckets(replicas));
    } catch (e) {
      const message = (e as Error).message ?? "";
      if (/replicas|insufficient resources|no suitable peers/i.test(message)) {
        throw new RemoteError(
          "replicas",
          `Cannot create the buckets on the remote ${this.where} with ${replicas} replicas (${
            (e as RemoteError).cause instanceof Error
              ? ((e as RemoteError).cause as Error).message
              : message
          }); use replicas 1 for a single server, 3 for a three-server cluster`,
          { cause: e },
        );
      }
      throw e;
    }
  }

  /** Opens each bucket and the job stream, creating what is missing. */
  async #openBuckets(replicas: number): Promise<void> {
    const storage = StorageType.File;
    // Reads go to each stream's leader (allow_direct off): a machine reads what another has
    // just written, even in a cluster where a follower may lag.
    const kv = (name: string) =>
      this.#js.views.kv(name, { history: 1, replicas, storage, allow_direct: false });
    this.#objects = await this.#js.views.os(REMOTE_NAMES.objects, { replicas, storage });
    this.#partial = await this.#js.views.os(REMOTE_NAMES.partial, { replicas, storage });
    this.#keys = await kv(REMOTE_NAMES.keys);
    this.#runs = await kv(REMOTE_NAMES.runs);
    this.#resume = await kv(REMOTE_NAMES.resume);
    this.#locks = await kv(REMOTE_NAMES.locks);
    await this.#jsm.streams.info(REMOTE_NAMES.jobs).catch(async (e) => {
      if (!(e instanceof NatsError) || !/stream not found/i.test(e.message)) throw e;
      await this.#jsm.streams.add({
        name: REMOTE_NAMES.jobs,
        subjects: [REMOTE_NAMES.jobSubject],
        retention: RetentionPolicy.Workqueue,
        storage,
        num_replicas: replicas,
        // A job enqueued twice within this window (a retried request, a sweep started twice)
        // is one job.
        duplicate_window: nanos(10 * 60_000),
      });
    });
  }

  /** Runs `op`, sending it again while it fails transiently, for up to the retry time. */
  async #retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#retryMs;
    let wait = 200;
    for (;;) {
      if (this.#down !== undefined) {
        const stop = new AbortController();
        await Promise.race([
          this.#down.back,
          sleep(Math.max(0, deadline - Date.now()), stop.signal).catch(() => {}),
        ]);
        stop.abort();
      }
      try {
        return await op();
      } catch (e) {
        if (this.nc.isClosed()) {
          throw new RemoteError(
            "closed",
            `Cannot ${what}: the connection to ${this.where} is closed`,
            {
              cause: e,
            },
          );
        }
        if (!transient(e)) {
          if (e instanceof PipelineError) throw e;
          throw new RemoteError(
            "server-error",
            `Cannot ${what} on the remote ${this.where}: ${(e as Error).message}`,
            { cause: e },
          );
        }
        if (Date.now() + wait > deadline) {
          throw new RemoteError(
            "timeout",
            `Cannot ${what}: the remote ${this.where} did not answer for ${
              Math.round(this.#retryMs / 1000)
            } s (${(e as Error).message})`,
            { cause: e },
          );
        }
        await sleep(wait);
        wait = Math.min(wait * 2, 2000);
      }
    }
  }

  // ---- objects -------------------------------------------------------------------------------

  has(digest: Digest): Promise<boolean> {
    return this.#retry(
      `look for object ${digest}`,
      async () => (await this.#intactInfo(this.#objects, digest, digest)) !== undefined,
    );
  }

  async put(digest: Digest, bytes: Uint8Array): Promise<"stored" | "present"> {
    if (digestOf(bytes) !== digest) {
      throw new TypeError(`Cannot upload object ${digest}: the bytes given hash to another digest`);
    }
    return await this.#retry(
      `upload object ${digest}`,
      () => this.#putVerified(this.#objects, digest, digest, bytes),
    );
  }

  async get(digest: Digest): Promise<Uint8Array | undefined> {
    return await this.#retry(
      `download object ${digest}`,
      () => this.#getVerified(this.#objects, digest, digest),
    );
  }

  /**
   * The object's info if its metadata names `digest` and all its chunks are on the server;
   * undefined otherwise (absent, deleted, written under the wrong name, chunks missing).
   */
  async #intactInfo(os: ObjectStore, name: string, digest: Digest) {
    const info = await os.info(name);
    if (info === null || info.deleted) return undefined;
    if (!sameDigest(info.digest, digest)) return undefined;
    if (info.chunks === 0) return info.size === 0 ? info : undefined;
    // The chunks a reader would get: a purge or a lost write shows here as a short count.
    const subject = `$O.${info.bucket}.C.${info.nuid}`;
    const si = await this.#jsm.streams.info(`OBJ_${info.bucket}`, { subjects_filter: subject });
    const count = si.state.subjects?.[subject] ?? 0;
    return count === info.chunks ? info : undefined;
  }

  /**
   * Uploads under `name` unless an intact copy is there. The metadata is written with
   * compare-and-set on the name's last revision, so two machines uploading the same object at
   * once cannot interleave: the second one's write fails, and it finds the first one's copy.
   */
  async #putVerified(
    os: ObjectStore,
    name: string,
    digest: Digest,
    bytes: Uint8Array,
  ): Promise<"stored" | "present"> {
    for (let attempt = 0;; attempt++) {
      if ((await this.#intactInfo(os, name, digest)) !== undefined) return "present";
      const previous = await os.info(name);
      try {
        await os.putBlob(
          // Chunks of the client's default 128 KiB, published without waiting for each ack (a
          // larger size measured no faster).
          { name },
          bytes,
          { previousRevision: previous?.revision ?? 0 },
        );
        return "stored";
      } catch (e) {
        // Another machine wrote the name first (the client has purged our chunks): look again.
        if (wrongSequence(e) && attempt < 3) continue;
        throw e;
      }
    }
  }

  /** Downloads `name` and returns it if it hashes to `digest`; undefined if not intact. */
  async #getVerified(
    os: ObjectStore,
    name: string,
    digest: Digest,
  ): Promise<Uint8Array | undefined> {
    const info = await this.#intactInfo(os, name, digest);
    if (info === undefined) return undefined;
    const result = await os.get(name);
    if (result === null) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = await readAll(result.data, GET_IDLE_MS);
      await result.error;
    } catch (e) {
      // The client's own digest check failed, or chunks stopped coming: not a usable object.
      if (e instanceof NatsError && transient(e)) throw e;
      if (e instanceof IdleError) return undefined;
      if (/digests do not match|corrupt/i.test((e as Error).message)) return undefined;
      throw e;
    }
    return digestOf(bytes) === digest ? bytes : undefined;
  }

  // ---- stage keys and run records --------------------------------------------------------------

  getKey(key: StageKey): Promise<RemoteKeyEntry | MalformedEntry | undefined> {
    return this.#retry(`read stage key ${key}`, async () => {
      const entry = await this.#keys.get(key);
      return parseEntry(entry);
    });
  }

  async putKey(key: StageKey, entry: RemoteKeyEntry): Promise<PutKeyResult> {
    const bytes = this.#checkSize(encoder.encode(JSON.stringify(entry)), `stage key ${key}`);
    return await this.#retry(`record stage key ${key}`, async () => {
      try {
        await this.#keys.create(key, bytes);
        return { status: "created" };
      } catch (e) {
        if (!wrongSequence(e)) throw e;
      }
      // Someone recorded this key first (or our own earlier attempt did, and its answer was lost).
      const current = await this.#keys.get(key);
      const existing = parseEntry(current);
      if (existing !== undefined && "malformed" in existing) {
        // Compare-and-set: a good entry another machine wrote meanwhile is never replaced.
        await this.#keys.update(key, bytes, current!.revision);
        return { status: "repaired" };
      }
      if (
        existing !== undefined && canonicalJson(existing.outputs) === canonicalJson(entry.outputs)
      ) {
        return { status: "exists" };
      }
      return { status: "conflict", existing: existing?.outputs };
    });
  }

  async putRun(configHash: ConfigHash | string, recordJson: string): Promise<void> {
    if (!isConfigHash(configHash)) {
      throw new TypeError(`Cannot share run record: ${configHash} is not a config hash`);
    }
    const finishedAt = finishedAtOf(recordJson);
    const bytes = this.#checkSize(encoder.encode(recordJson), `the run record of ${configHash}`);
    // One entry per run, named like the local history (runs/<hash>/<time>.json).
    const name = `${configHash}.${finishedAt.replace(/[^0-9A-Za-z]/g, "-")}`;
    await this.#retry(`share the run record of ${configHash}`, () => this.#runs.put(name, bytes));
  }

  async listRuns(): Promise<RemoteRun[]> {
    return await this.#retry("list run records", async () => {
      const names: string[] = [];
      for await (const name of await this.#runs.keys()) names.push(name);
      const runs: RemoteRun[] = [];
      // A few at a time: one round trip each, overlapped.
      for (let i = 0; i < names.length; i += 16) {
        const entries = await Promise.all(names.slice(i, i + 16).map((n) => this.#runs.get(n)));
        for (const [k, entry] of entries.entries()) {
          if (entry === null || entry.operation !== "PUT") continue;
          const json = decoder.decode(entry.value);
          const finishedAt = finishedAtOf(json, "");
          runs.push({ configHash: names[i + k]!.split(".")[0]!, finishedAt, json });
        }
      }
      return runs.sort((
        a,
        b,
      ) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0));
    });
  }

  #checkSize(bytes: Uint8Array, what: string): Uint8Array {
    // Headroom for the message's headers.
    if (bytes.length > this.#maxPayload - 4096) {
      throw new RemoteError(
        "too-large",
        `Cannot share ${what}: it is ${bytes.length} bytes and the remote ${this.where} takes at most ${this.#maxPayload} per message (raise max_payload in its config)`,
      );
    }
    return bytes;
  }

  // ---- resume state --------------------------------------------------------------------------

  /**
   * Work in progress is written in two slots per stage key, `a` and `b`: a new set goes into the
   * slot the pointer does not name, then the pointer (a KV entry, compare-and-set) moves to it.
   * A reader always finds one complete set, the remote keeps at most two per key, and nothing
   * has to be deleted per epoch.
   */
  async putResume(key: StageKey, files: Record<string, Uint8Array>): Promise<void> {
    await this.#retry(`save work in progress of ${key}`, async () => {
      const current = await this.#resume.get(key);
      const pointer = parsePointer(current);
      const slot = pointer?.slot === "a" ? "b" : "a";
      const digests: Record<string, Digest> = {};
      for (const [name, bytes] of Object.entries(files)) {
        const digest = digestOf(bytes);
        digests[name] = digest;
        await this.#putVerified(this.#partial, partialName(key, slot, name), digest, bytes);
      }
      const value = encoder.encode(
        JSON.stringify({ slot, files: digests, savedAt: new Date().toISOString() }),
      );
      if (current === null) await this.#resume.create(key, value);
      else await this.#resume.update(key, value, current.revision);
    });
  }

  async getResume(key: StageKey): Promise<Record<string, Uint8Array> | undefined> {
    return await this.#retry(`read work in progress of ${key}`, async () => {
      const pointer = parsePointer(await this.#resume.get(key));
      if (pointer === undefined) return undefined;
      const files: Record<string, Uint8Array> = {};
      for (const [name, digest] of Object.entries(pointer.files)) {
        const bytes = await this.#getVerified(
          this.#partial,
          partialName(key, pointer.slot, name),
          digest,
        );
        if (bytes === undefined) return undefined;
        files[name] = bytes;
      }
      return files;
    });
  }

  async dropResume(key: StageKey): Promise<void> {
    await this.#retry(`remove work in progress of ${key}`, async () => {
      const current = await this.#resume.get(key);
      const pointer = parsePointer(current);
      if (current === null || pointer === undefined) return;
      await this.#resume.purge(key);
      for (const slot of ["a", "b"] as const) {
        for (const name of Object.keys(pointer.files)) {
          await this.#partial.delete(partialName(key, slot, name)).catch(() => {});
        }
      }
    });
  }

  // ---- locks ---------------------------------------------------------------------------------

  async lock(key: StageKey, opts: LockOptions = {}): Promise<RemoteLock> {
    const ttlMs = opts.ttlMs ?? 30_000;
    const pollMs = opts.pollMs ?? Math.min(1000, Math.max(50, Math.floor(ttlMs / 6)));
    const me: RemoteLockHolder = {
      host: hostname(),
      pid: Deno.pid,
      startedAt: new Date().toISOString(),
      ttlMs,
      owner: crypto.randomUUID(),
    };
    const value = encoder.encode(JSON.stringify(me));
    let waited = false;
    // The holder's entry as this waiter last saw it, and when (this machine's clock): an entry
    // whose revision has not moved for its ttl was not refreshed, so its holder is gone. Timing
    // it here, not from the server's timestamps, keeps clock skew between machines out of it.
    let seen: { revision: number; since: number } | undefined;
    for (;;) {
      opts.signal?.throwIfAborted();
      const entry = await this.#retry(`read the lock of ${key}`, () => this.#locks.get(key));
      let revision: number | undefined;
      try {
        if (entry === null || entry.operation !== "PUT") {
          revision = await this.#locks.create(key, value);
        } else {
          const holder = parseHolder(entry);
          if (holder?.owner === me.owner) {
            // Our own create, whose answer was lost (a timeout): we hold it already.
            return this.#holdLock(key, value, entry.revision, ttlMs);
          }
          if (seen?.revision !== entry.revision) {
            seen = { revision: entry.revision, since: Date.now() };
          } else if (Date.now() - seen.since > (holder?.ttlMs ?? ttlMs)) {
            revision = await this.#locks.update(key, value, entry.revision);
            opts.onTakeover?.(holder);
          }
          if (revision === undefined && !waited) {
            waited = true;
            opts.onWait?.(holder);
          }
        }
      } catch (e) {
        // Another waiter got there first; anything else is the remote's trouble.
        if (!wrongSequence(e) && !transient(e)) {
          throw new RemoteError(
            "server-error",
            `Cannot take the lock of ${key} on the remote ${this.where}: ${(e as Error).message}`,
            { cause: e },
          );
        }
      }
      if (revision !== undefined) return this.#holdLock(key, value, revision, ttlMs);
      await sleep(pollMs, opts.signal);
    }
  }

  /** The handle of a lock just taken: refreshes it every third of its ttl until released. */
  #holdLock(key: StageKey, value: Uint8Array, revision: number, ttlMs: number): RemoteLock {
    const owner = JSON.parse(decoder.decode(value)).owner as string;
    const lost = new AbortController();
    let lastRefresh = Date.now();
    let inFlight: Promise<void> | undefined;
    let stopped = false;
    /** The entry's revision if it is still ours (a write whose answer was lost moved it on). */
    const ours = async (): Promise<number | undefined> => {
      const entry = await this.#locks.get(key).catch(() => null);
      return entry?.operation === "PUT" && parseHolder(entry)?.owner === owner
        ? entry.revision
        : undefined;
    };
    const refresh = async () => {
      try {
        revision = await this.#locks.update(key, value, revision);
        lastRefresh = Date.now();
      } catch (e) {
        if (wrongSequence(e)) {
          const current = await ours();
          if (current !== undefined) {
            revision = current;
            return;
          }
          lost.abort(new Error(`the lock of ${key} was taken over by another machine`));
        } else if (Date.now() - lastRefresh > ttlMs) {
          lost.abort(
            new Error(
              `the lock of ${key} could not be refreshed for ${ttlMs} ms; it may be taken over`,
            ),
          );
        }
      }
    };
    const timer = setInterval(() => {
      // One refresh at a time: while the server does not answer, requests must not pile up.
      if (stopped || lost.signal.aborted || inFlight !== undefined) return;
      inFlight = refresh().finally(() => (inFlight = undefined));
    }, Math.max(10, Math.floor(ttlMs / 3)));
    const handle = {
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
    this.#held.add(handle);
    return {
      lost: lost.signal,
      release: async () => {
        handle.stop();
        this.#held.delete(handle);
        await inFlight;
        if (lost.signal.aborted || this.nc.isClosed()) return;
        // Only our own entry: if it was taken over meanwhile, the successor's stays. A waiter
        // would otherwise wait out the ttl, so a lost answer is checked, not ignored.
        try {
          await this.#locks.delete(key, { previousSeq: revision });
        } catch {
          const current = await ours();
          if (current !== undefined) {
            await this.#locks.delete(key, { previousSeq: current }).catch(() => {});
          }
        }
      },
    };
  }

  // ---- work queue ----------------------------------------------------------------------------

  async enqueue(job: object, opts: { id?: string } = {}): Promise<{ duplicate: boolean }> {
    const id = opts.id ?? crypto.randomUUID();
    const bytes = this.#checkSize(encoder.encode(JSON.stringify(job)), `job ${id}`);
    // The message id makes a resend after a lost answer the same job, not a second one.
    const ack = await this.#retry(
      `enqueue job ${id}`,
      () => this.#js.publish(REMOTE_NAMES.jobSubject, bytes, { msgID: id }),
    );
    return { duplicate: ack.duplicate };
  }

  async queueState(): Promise<{ waiting: number; running: number }> {
    return await this.#retry("read the job queue", async () => {
      const stream = await this.#jsm.streams.info(REMOTE_NAMES.jobs);
      const consumer = await this.#jsm.consumers.info(REMOTE_NAMES.jobs, REMOTE_NAMES.workers)
        .catch(() => undefined);
      const running = consumer?.num_ack_pending ?? 0;
      // A work queue keeps a message until it is acked: what is stored and not running waits.
      return { waiting: Math.max(0, stream.state.messages - running), running };
    });
  }

  async consume(
    opts: ConsumeOptions,
    handler: (job: Job, signal: AbortSignal) => Promise<void>,
  ): Promise<ConsumeSummary> {
    const maxDeliver = opts.maxDeliver ?? 3;
    const say = opts.onEvent ?? (() => {});
    await this.#retry("open the job queue", () => this.#ensureWorkers(opts.ackWaitMs, maxDeliver));
    const consumer = await this.#retry(
      "open the job queue",
      () => this.#js.consumers.get(REMOTE_NAMES.jobs, REMOTE_NAMES.workers),
    );
    const summary: ConsumeSummary = { done: 0, failed: 0, handedBack: 0 };
    let idleSince = Date.now();
    const stopping = () => opts.signal?.aborted === true || this.nc.isClosed();
    while (!stopping()) {
      if (opts.idleStopMs !== undefined && Date.now() - idleSince >= opts.idleStopMs) {
        // An empty pull is not an empty queue (a consumer whose leader is being elected gives
        // nothing for a while): stop only when the stream holds no job waiting for a worker.
        const state = await this.queueState().catch(() => undefined);
        if (state?.waiting === 0) break;
      }
      let msg: JsMsg | null;
      try {
        // Short pulls, so that a stop request or the idle limit is noticed within ~1 s.
        msg = await consumer.next({ expires: 1000 });
      } catch (e) {
        if (stopping()) break;
        say({
          type: "trouble",
          message: `cannot take a job from ${this.where}: ${(e as Error).message}`,
        });
        await sleep(1000, opts.signal).catch(() => {});
        continue;
      }
      if (msg === null) continue;
      if (stopping()) {
        this.#settle(() => msg.nak(), say);
        break;
      }
      const job = toJob(msg);
      if (job === undefined) {
        // Not JSON: no worker can run it, so it must not go round forever.
        this.#settle(() => msg.term("not a JSON job"), say);
        say({ type: "trouble", message: `dropped job ${msg.seq}: it is not JSON` });
        continue;
      }
      summary[await this.#runJob(msg, job, opts, maxDeliver, handler)]++;
      idleSince = Date.now();
    }
    return summary;
  }

  /** Runs one job with heartbeats; acks, hands back or naks it. */
  async #runJob(
    msg: JsMsg,
    job: Job,
    opts: ConsumeOptions,
    maxDeliver: number,
    handler: (job: Job, signal: AbortSignal) => Promise<void>,
  ): Promise<keyof ConsumeSummary> {
    const say = opts.onEvent ?? (() => {});
    const abort = new AbortController();
    const onStop = () => abort.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onStop, { once: true });
    // "Still working": without it the server gives the job to another worker after ackWait.
    // (It runs on the event loop: a handler that blocks it longer than ackWait loses the job.)
    const heartbeat = setInterval(
      () => this.#settle(() => msg.working(), say),
      Math.max(10, Math.floor(opts.ackWaitMs / 3)),
    );
    say({ type: "started", job });
    const t0 = performance.now();
    let error: unknown;
    let ok = false;
    try {
      await handler(job, abort.signal);
      ok = true;
    } catch (e) {
      error = e;
    } finally {
      clearInterval(heartbeat);
      opts.signal?.removeEventListener("abort", onStop);
    }
    if (ok) {
      // Wait for the server to confirm: a job is done only when it will not come back. If the
      // ack is lost the job comes back, and its rerun finds every stage in the shared store.
      const acked = await msg.ackAck().catch(() => false);
      if (!acked) {
        say({ type: "trouble", message: `job ${job.id} finished but its ack was not confirmed` });
      }
      say({ type: "done", job, seconds: (performance.now() - t0) / 1000 });
      return "done";
    }
    if (abort.signal.aborted) {
      // Stopped, not failed: another worker takes it at once (and resumes its training).
      this.#settle(() => msg.nak(), say);
      say({ type: "handed-back", job });
      return "handedBack";
    }
    const retry = job.delivery < maxDeliver;
    this.#settle(
      () => retry ? msg.nak(opts.retryDelayMs ?? 2000) : msg.term(`failed ${job.delivery} times`),
      say,
    );
    say({ type: "failed", job, error: (error as Error)?.message ?? String(error), retry });
    return "failed";
  }

  /** Sends an ack-type message; on a lost connection the server redelivers anyway. */
  #settle(send: () => void, say: (e: QueueEvent) => void): void {
    try {
      send();
    } catch (e) {
      say({ type: "trouble", message: `cannot reach ${this.where}: ${(e as Error).message}` });
    }
  }

  /** Creates the workers' shared consumer, or brings its ack wait and deliveries up to date. */
  async #ensureWorkers(ackWaitMs: number, maxDeliver: number): Promise<void> {
    const config = {
      durable_name: REMOTE_NAMES.workers,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      deliver_policy: DeliverPolicy.All,
    };
    const info = await this.#jsm.consumers.info(REMOTE_NAMES.jobs, REMOTE_NAMES.workers).catch(
      (e) => {
        if (e instanceof NatsError && /consumer not found/i.test(e.message)) return undefined;
        throw e;
      },
    );
    if (info === undefined) {
      await this.#jsm.consumers.add(REMOTE_NAMES.jobs, config);
    } else if (info.config.ack_wait !== config.ack_wait || info.config.max_deliver !== maxDeliver) {
      await this.#jsm.consumers.update(REMOTE_NAMES.jobs, REMOTE_NAMES.workers, {
        ack_wait: config.ack_wait,
        max_deliver: maxDeliver,
      });
    }
  }

  async close(): Promise<void> {
    for (const h of this.#held) h.stop();
    this.#held.clear();
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

/** A download whose chunks stop coming for this long is given up. */
const GET_IDLE_MS = 20_000;

/** The name of a work-in-progress file in its slot. */
function partialName(key: StageKey, slot: "a" | "b", name: string): string {
  return `${key}/${slot}/${name}`;
}

/** True when the object store's `SHA-256=<base64url>` digest is the sha256 named by `hex`. */
function sameDigest(objectDigest: string | undefined, hex: string): boolean {
  if (objectDigest === undefined || !objectDigest.startsWith("SHA-256=")) return false;
  const b64 = objectDigest.slice("SHA-256=".length).replace(/-/g, "+").replace(/_/g, "/")
    .replace(/=+$/, "");
  let binary: string;
  try {
    binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  } catch {
    return false;
  }
  let out = "";
  for (let i = 0; i < binary.length; i++) out += binary.charCodeAt(i).toString(16).padStart(2, "0");
  return out === hex;
}

/** A stage key's entry, or what is wrong with it: its output names and digests become paths. */
function parseEntry(entry: KvEntry | null): RemoteKeyEntry | MalformedEntry | undefined {
  if (entry === null || entry.operation !== "PUT") return undefined;
  let value: { outputs?: unknown };
  try {
    value = JSON.parse(decoder.decode(entry.value));
  } catch {
    return { malformed: "it is not JSON" };
  }
  const problem = typeof value === "object" && value !== null
    ? outputsProblem(value.outputs)
    : "it is not a JSON object";
  return problem === undefined ? value as RemoteKeyEntry : { malformed: problem };
}

function parsePointer(
  entry: KvEntry | null,
): { slot: "a" | "b"; files: Record<string, Digest> } | undefined {
  if (entry === null || entry.operation !== "PUT") return undefined;
  try {
    const value = JSON.parse(decoder.decode(entry.value));
    // The file names become paths in the local store's partial/: only names and digests.
    if (
      (value?.slot === "a" || value?.slot === "b") &&
      outputsProblem(value.files, true) === undefined
    ) {
      return value;
    }
  } catch {
    // A damaged pointer: as if there were no work in progress.
  }
  return undefined;
}

function parseHolder(entry: KvEntry): RemoteLockHolder | undefined {
  try {
    const value = JSON.parse(decoder.decode(entry.value));
    return typeof value?.owner === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

function finishedAtOf(json: string, fallback?: string): string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    if (fallback !== undefined) return fallback;
    throw new TypeError(`Cannot share a run record that is not JSON: ${(e as Error).message}`);
  }
  const at = (value as { finishedAt?: unknown })?.finishedAt;
  if (typeof at === "string" && at !== "") return at;
  if (fallback !== undefined) return fallback;
  throw new TypeError("Cannot share a run record without finishedAt");
}

function toJob(msg: JsMsg): Job | undefined {
  try {
    const data = JSON.parse(decoder.decode(msg.data));
    return {
      data,
      id: msg.headers?.get("Nats-Msg-Id") ?? String(msg.seq),
      delivery: msg.info.deliveryCount,
    };
  } catch {
    return undefined;
  }
}

/** A download that stalled. */
class IdleError extends Error {
  override name = "IdleError";
}

/** Reads a stream to the end, giving up when no chunk comes for `idleMs`. */
async function readAll(stream: ReadableStream<Uint8Array>, idleMs: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new IdleError(`no data for ${idleMs} ms`)), idleMs);
      });
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await Promise.race([reader.read(), idle]);
      } finally {
        clearTimeout(timer);
      }
      if (r.done) break;
      parts.push(r.value);
      total += r.value.length;
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
