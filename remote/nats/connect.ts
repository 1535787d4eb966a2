/**
 * Connecting to the remote on a NATS JetStream server: {@link connectRemote}, and the
 * {@link Remote} it gives, which composes one part per concern (objects, stage keys, run
 * records, work in progress, locks, the job queue) over one {@link Session}.
 *
 * @module
 */
import { type NatsConnection, NatsError, nkeyAuthenticator } from "nats";
import { hostname } from "node:os";
import type { ConfigHash, Digest, StageKey } from "../../core/hash.ts";
import type { RemoteCredentials } from "../credentials.ts";
import {
  type ConsumeOptions,
  type ConsumeSummary,
  type Job,
  type LockOptions,
  type MalformedEntry,
  type PutKeyResult,
  type Remote,
  RemoteError,
  type RemoteKeyEntry,
  type RemoteLock,
  type RemoteRun,
} from "../remote.ts";
import { describeRemote } from "../settings.ts";
import { type Buckets, openBuckets } from "./buckets.ts";
import { JobQueue } from "./job_queue.ts";
import { StageLocks } from "./locks.ts";
import { SharedObjects } from "./objects.ts";
import { WorkInProgress } from "./resume.ts";
import { RunRecords } from "./run_records.ts";
import { Session, type SessionOptions } from "./session.ts";
import { StageKeys } from "./stage_keys.ts";
import { connectNats } from "./transport.ts";

/** How to connect. */
export interface ConnectOptions extends SessionOptions {
  /** How long to try before saying the remote is unreachable (default 5 s). */
  timeoutMs?: number;
  /**
   * Copies the server keeps of each bucket: 1 for a single server, 3 for a three-server cluster
   * (default 1). Applies when this connection creates the buckets; existing ones keep theirs.
   */
  replicas?: number;
  /** Shown in the server's connection list (default `deep-lstm-midi <host> <pid>`). */
  name?: string;
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
  const authenticator = await nkeyFrom(credentials.nkeySeedFile, where);
  let nc: NatsConnection;
  try {
    nc = await connectNats({
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
  const description = describeRemote({ url: where, credentials });
  let remote: NatsRemote;
  try {
    const session = await Session.start(nc, where, opts);
    remote = new NatsRemote(session, await openBuckets(session, opts.replicas ?? 1), description);
  } catch (e) {
    await nc.close().catch(() => {});
    throw e instanceof RemoteError ? e : connectError(e, where, timeoutMs);
  }
  return remote;
}

/** The authenticator for an nkey seed file, read now; undefined without one. */
async function nkeyFrom(seedFile: string | undefined, where: string) {
  if (seedFile === undefined) return undefined;
  let seed: Uint8Array;
  try {
    seed = new TextEncoder().encode((await Deno.readTextFile(seedFile)).trim());
  } catch (e) {
    throw new RemoteError(
      "bad-settings",
      `Cannot read the nkey seed file ${seedFile} for the remote ${where}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return nkeyAuthenticator(seed);
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

/** The JetStream implementation of {@link Remote}: each concern's part, on one connection. */
class NatsRemote implements Remote {
  /** The connection (tests reach for it to kill the server it is connected to). */
  readonly nc: NatsConnection;
  #session: Session;
  #objects: SharedObjects;
  #keys: StageKeys;
  #runs: RunRecords;
  #resume: WorkInProgress;
  #locks: StageLocks;
  #jobs: JobQueue;

  constructor(session: Session, buckets: Buckets, readonly description: string) {
    this.nc = session.nc;
    this.#session = session;
    this.#objects = new SharedObjects(session, buckets.objects);
    this.#keys = new StageKeys(session, buckets.keys);
    this.#runs = new RunRecords(session, buckets.runs);
    this.#resume = new WorkInProgress(session, buckets.resume, buckets.partial);
    this.#locks = new StageLocks(session, buckets.locks);
    this.#jobs = new JobQueue(session);
  }

  has(digest: Digest): Promise<boolean> {
    return this.#objects.has(digest);
  }

  put(digest: Digest, bytes: Uint8Array): Promise<"stored" | "present"> {
    return this.#objects.put(digest, bytes);
  }

  get(digest: Digest): Promise<Uint8Array | undefined> {
    return this.#objects.get(digest);
  }

  getKey(key: StageKey): Promise<RemoteKeyEntry | MalformedEntry | undefined> {
    return this.#keys.getKey(key);
  }

  putKey(key: StageKey, entry: RemoteKeyEntry): Promise<PutKeyResult> {
    return this.#keys.putKey(key, entry);
  }

  putRun(configHash: ConfigHash | string, recordJson: string): Promise<void> {
    return this.#runs.putRun(configHash, recordJson);
  }

  listRuns(): Promise<RemoteRun[]> {
    return this.#runs.listRuns();
  }

  putResume(key: StageKey, files: Record<string, Uint8Array>): Promise<void> {
    return this.#resume.putResume(key, files);
  }

  getResume(key: StageKey): Promise<Record<string, Uint8Array> | undefined> {
    return this.#resume.getResume(key);
  }

  dropResume(key: StageKey): Promise<void> {
    return this.#resume.dropResume(key);
  }

  lock(key: StageKey, opts?: LockOptions): Promise<RemoteLock> {
    return this.#locks.lock(key, opts);
  }

  enqueue(job: object, opts?: { id?: string }): Promise<{ duplicate: boolean }> {
    return this.#jobs.enqueue(job, opts);
  }

  consume(
    opts: ConsumeOptions,
    handler: (job: Job, signal: AbortSignal) => Promise<void>,
  ): Promise<ConsumeSummary> {
    return this.#jobs.consume(opts, handler);
  }

  queueState(): Promise<{ waiting: number; running: number }> {
    return this.#jobs.queueState();
  }

  async close(): Promise<void> {
    this.#locks.stopAll();
    if (!this.#session.nc.isClosed()) await this.#session.nc.close();
  }
}
