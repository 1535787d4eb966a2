/**
 * Stage locks on the remote (dlm_locks): one computation per stage key, anywhere. A lock is an
 * entry its holder refreshes every third of its ttl; an entry whose revision has not moved for
 * its ttl (its machine died, or lost the network) is taken over, by compare-and-set, so two
 * waiters never both take it.
 *
 * @module
 */
import type { KV, KvEntry } from "nats";
import { hostname } from "node:os";
import type { StageKey } from "../../core/hash.ts";
import { sleep } from "../../core/sleep.ts";
import {
  type LockOptions,
  type Remote,
  RemoteError,
  type RemoteLock,
  type RemoteLockHolder,
} from "../remote.ts";
import { type Session, transient, wrongSequence } from "./session.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The locks of stage keys. */
export class StageLocks implements Pick<Remote, "lock"> {
  #session: Session;
  #locks: KV;
  /** Timers of held locks, stopped by {@link stopAll}. */
  #held = new Set<{ stop(): void }>();

  constructor(session: Session, locks: KV) {
    this.#session = session;
    this.#locks = locks;
  }

  /** Stops refreshing every lock held (the connection is closing). */
  stopAll(): void {
    for (const h of this.#held) h.stop();
    this.#held.clear();
  }

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
      const entry = await this.#session.retry(
        `read the lock of ${key}`,
        () => this.#locks.get(key),
      );
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
            `Cannot take the lock of ${key} on the remote ${this.#session.where}: ${
              (e as Error).message
            }`,
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
        if (lost.signal.aborted || this.#session.nc.isClosed()) return;
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
}

function parseHolder(entry: KvEntry): RemoteLockHolder | undefined {
  try {
    const value = JSON.parse(decoder.decode(entry.value));
    return typeof value?.owner === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
