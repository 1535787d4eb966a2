/**
 * One connection to the remote as every part of it uses it: the JetStream handles, the retry
 * that makes every operation survive a server restart or a cluster electing a new leader (the
 * third promise in remote.ts), and the server's message size limit.
 *
 * @module
 */
import { type JetStreamClient, type JetStreamManager, type NatsConnection, NatsError } from "nats";
import { PipelineError } from "../../core/errors.ts";
import { sleep } from "../../core/sleep.ts";
import { RemoteError } from "../remote.ts";

/** How requests are timed and retried. */
export interface SessionOptions {
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
}

/** A connection, its JetStream handles, and how its requests are retried. */
export class Session {
  readonly js: JetStreamClient;
  #jsm!: JetStreamManager;
  readonly retryMs: number;
  readonly maxPayload: number;
  /** Resolves when the connection is back, while it is down (undefined while connected). */
  #down: { back: Promise<void>; resolve: () => void } | undefined;

  private constructor(
    readonly nc: NatsConnection,
    /** The server URLs, for messages. */
    readonly where: string,
    opts: SessionOptions,
  ) {
    this.js = nc.jetstream({ timeout: opts.requestTimeoutMs ?? 4000 });
    this.retryMs = opts.retryMs ?? 30_000;
    this.maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.#watchConnection();
  }

  /** Starts following the connection's state, then opens the JetStream manager. */
  static async start(nc: NatsConnection, where: string, opts: SessionOptions): Promise<Session> {
    const session = new Session(nc, where, opts);
    session.#jsm = await session.js.jetstreamManager();
    return session;
  }

  get jsm(): JetStreamManager {
    return this.#jsm;
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

  /** Runs `op`, sending it again while it fails transiently, for up to the retry time. */
  async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
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
              Math.round(this.retryMs / 1000)
            } s (${(e as Error).message})`,
            { cause: e },
          );
        }
        await sleep(wait);
        wait = Math.min(wait * 2, 2000);
      }
    }
  }

  /** `bytes`, unless they are too large for one message on this server. */
  checkSize(bytes: Uint8Array, what: string): Uint8Array {
    // Headroom for the message's headers.
    if (bytes.length > this.maxPayload - 4096) {
      throw new RemoteError(
        "too-large",
        `Cannot share ${what}: it is ${bytes.length} bytes and the remote ${this.where} takes at most ${this.maxPayload} per message (raise max_payload in its config)`,
      );
    }
    return bytes;
  }
}

/** A transient failure worth sending the request again for. */
export function transient(e: unknown): boolean {
  if (!(e instanceof NatsError)) return false;
  const code = e.code;
  if (code === "TIMEOUT" || code === "503" || code === "DISCONNECT" || code === "408") return true;
  // A cluster without a stream leader for a moment answers with these API errors.
  return /no suitable peers|cluster not available|jetstream system temporarily unavailable|not current|leader/i
    .test(e.message);
}

/** The KV / object store error "wrong last sequence": someone else changed the entry first. */
export function wrongSequence(e: unknown): boolean {
  return e instanceof NatsError &&
    (e.api_error?.err_code === 10071 || /wrong last sequence/i.test(e.message));
}
