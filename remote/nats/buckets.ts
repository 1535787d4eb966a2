/**
 * What the remote keeps on the server, by name, and opening it: every bucket and the job stream
 * are created by the first machine that connects, with the replicas it asks for.
 *
 * @module
 */
import { type KV, nanos, NatsError, type ObjectStore, RetentionPolicy, StorageType } from "nats";
import { RemoteError } from "../remote.ts";
import type { Session } from "./session.ts";

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

/** The buckets, opened (the job stream is reached by name, through the session). */
export interface Buckets {
  objects: ObjectStore;
  partial: ObjectStore;
  keys: KV;
  runs: KV;
  resume: KV;
  locks: KV;
}

/**
 * Opens (creating if needed) every bucket and the job stream.
 *
 * @throws {RemoteError} `replicas` when the server cannot keep that many copies
 */
export async function openBuckets(session: Session, replicas: number): Promise<Buckets> {
  try {
    // Retried: a cluster that has just started answers "no suitable peers" for a moment.
    return await session.retry("open the shared buckets", () => openAll(session, replicas));
  } catch (e) {
    const message = (e as Error).message ?? "";
    if (/replicas|insufficient resources|no suitable peers/i.test(message)) {
      throw new RemoteError(
        "replicas",
        `Cannot create the buckets on the remote ${session.where} with ${replicas} replicas (${
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
async function openAll(session: Session, replicas: number): Promise<Buckets> {
  const { js, jsm } = session;
  const storage = StorageType.File;
  // Reads go to each stream's leader (allow_direct off): a machine reads what another has
  // just written, even in a cluster where a follower may lag.
  const kv = (name: string) =>
    js.views.kv(name, { history: 1, replicas, storage, allow_direct: false });
  const buckets: Buckets = {
    objects: await js.views.os(REMOTE_NAMES.objects, { replicas, storage }),
    partial: await js.views.os(REMOTE_NAMES.partial, { replicas, storage }),
    keys: await kv(REMOTE_NAMES.keys),
    runs: await kv(REMOTE_NAMES.runs),
    resume: await kv(REMOTE_NAMES.resume),
    locks: await kv(REMOTE_NAMES.locks),
  };
  await jsm.streams.info(REMOTE_NAMES.jobs).catch(async (e) => {
    if (!(e instanceof NatsError) || !/stream not found/i.test(e.message)) throw e;
    await jsm.streams.add({
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
  return buckets;
}
