/**
 * Objects on the remote, verified both ways: the first promise in remote.ts ("nothing
 * half-written is ever used"). An object is present only if its metadata names its digest and
 * all its chunks are on the server; every download is rehashed; an upload is named last, with
 * compare-and-set, so two machines uploading the same object cannot interleave.
 *
 * {@link VerifiedObjects} does this for any object store and any name (the work in progress
 * uses it too); {@link SharedObjects} is the store's objects, named by their digest.
 *
 * @module
 */
import { NatsError, type ObjectStore } from "nats";
import { type Digest, digestOf } from "../../core/hash.ts";
import type { Remote } from "../remote.ts";
import { type Session, transient, wrongSequence } from "./session.ts";

/** A download whose chunks stop coming for this long is given up. */
const GET_IDLE_MS = 20_000;

/** The store's objects (dlm_objects), named by their sha256. */
export class SharedObjects implements Pick<Remote, "has" | "put" | "get"> {
  #session: Session;
  #objects: VerifiedObjects;

  constructor(session: Session, os: ObjectStore) {
    this.#session = session;
    this.#objects = new VerifiedObjects(session, os);
  }

  has(digest: Digest): Promise<boolean> {
    return this.#session.retry(
      `look for object ${digest}`,
      async () => (await this.#objects.intact(digest, digest)) !== undefined,
    );
  }

  async put(digest: Digest, bytes: Uint8Array): Promise<"stored" | "present"> {
    if (digestOf(bytes) !== digest) {
      throw new TypeError(`Cannot upload object ${digest}: the bytes given hash to another digest`);
    }
    return await this.#session.retry(
      `upload object ${digest}`,
      () => this.#objects.put(digest, digest, bytes),
    );
  }

  async get(digest: Digest): Promise<Uint8Array | undefined> {
    return await this.#session.retry(
      `download object ${digest}`,
      () => this.#objects.get(digest, digest),
    );
  }
}

/** Objects in one object store, under any name, checked against the digest they should have. */
export class VerifiedObjects {
  constructor(readonly session: Session, readonly os: ObjectStore) {}

  /**
   * The object's info if its metadata names `digest` and all its chunks are on the server;
   * undefined otherwise (absent, deleted, written under the wrong name, chunks missing).
   */
  async intact(name: string, digest: Digest) {
    const info = await this.os.info(name);
    if (info === null || info.deleted) return undefined;
    if (!sameDigest(info.digest, digest)) return undefined;
    if (info.chunks === 0) return info.size === 0 ? info : undefined;
    // The chunks a reader would get: a purge or a lost write shows here as a short count.
    const subject = `$O.${info.bucket}.C.${info.nuid}`;
    const si = await this.session.jsm.streams.info(`OBJ_${info.bucket}`, {
      subjects_filter: subject,
    });
    const count = si.state.subjects?.[subject] ?? 0;
    return count === info.chunks ? info : undefined;
  }

  /**
   * Uploads under `name` unless an intact copy is there. The metadata is written with
   * compare-and-set on the name's last revision, so two machines uploading the same object at
   * once cannot interleave: the second one's write fails, and it finds the first one's copy.
   */
  async put(name: string, digest: Digest, bytes: Uint8Array): Promise<"stored" | "present"> {
    for (let attempt = 0;; attempt++) {
      if ((await this.intact(name, digest)) !== undefined) return "present";
      const previous = await this.os.info(name);
      try {
        await this.os.putBlob(
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
  async get(name: string, digest: Digest): Promise<Uint8Array | undefined> {
    const info = await this.intact(name, digest);
    if (info === undefined) return undefined;
    const result = await this.os.get(name);
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
