/**
 * Work in progress on the remote: the last finished epoch of an interrupted training, so that
 * another machine resumes it. The files of a set go to the object store dlm_partial, verified
 * like every object; a pointer in the KV dlm_resume (moved by compare-and-set) names the last
 * complete set.
 *
 * @module
 */
import type { KV, KvEntry, ObjectStore } from "nats";
import { type Digest, digestOf, type StageKey } from "../../core/hash.ts";
import { outputsProblem } from "../../formats/records.ts";
import type { Remote } from "../remote.ts";
import { VerifiedObjects } from "./objects.ts";
import type { Session } from "./session.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Each stage key's work in progress, in two slots. */
export class WorkInProgress implements Pick<Remote, "putResume" | "getResume" | "dropResume"> {
  #session: Session;
  /** The pointers: stage key → which slot holds the last complete set, and its files. */
  #resume: KV;
  /** The slots' files. */
  #partial: VerifiedObjects;

  constructor(session: Session, resume: KV, partial: ObjectStore) {
    this.#session = session;
    this.#resume = resume;
    this.#partial = new VerifiedObjects(session, partial);
  }

  /**
   * Work in progress is written in two slots per stage key, `a` and `b`: a new set goes into the
   * slot the pointer does not name, then the pointer (a KV entry, compare-and-set) moves to it.
   * A reader always finds one complete set, the remote keeps at most two per key, and nothing
   * has to be deleted per epoch.
   */
  async putResume(key: StageKey, files: Record<string, Uint8Array>): Promise<void> {
    await this.#session.retry(`save work in progress of ${key}`, async () => {
      const current = await this.#resume.get(key);
      const pointer = parsePointer(current);
      const slot = pointer?.slot === "a" ? "b" : "a";
      const digests: Record<string, Digest> = {};
      for (const [name, bytes] of Object.entries(files)) {
        const digest = digestOf(bytes);
        digests[name] = digest;
        await this.#partial.put(partialName(key, slot, name), digest, bytes);
      }
      const value = encoder.encode(
        JSON.stringify({ slot, files: digests, savedAt: new Date().toISOString() }),
      );
      if (current === null) await this.#resume.create(key, value);
      else await this.#resume.update(key, value, current.revision);
    });
  }

  async getResume(key: StageKey): Promise<Record<string, Uint8Array> | undefined> {
    return await this.#session.retry(`read work in progress of ${key}`, async () => {
      const pointer = parsePointer(await this.#resume.get(key));
      if (pointer === undefined) return undefined;
      const files: Record<string, Uint8Array> = {};
      for (const [name, digest] of Object.entries(pointer.files)) {
        const bytes = await this.#partial.get(partialName(key, pointer.slot, name), digest);
        if (bytes === undefined) return undefined;
        files[name] = bytes;
      }
      return files;
    });
  }

  async dropResume(key: StageKey): Promise<void> {
    await this.#session.retry(`remove work in progress of ${key}`, async () => {
      const current = await this.#resume.get(key);
      const pointer = parsePointer(current);
      if (current === null || pointer === undefined) return;
      await this.#resume.purge(key);
      for (const slot of ["a", "b"] as const) {
        for (const name of Object.keys(pointer.files)) {
          await this.#partial.os.delete(partialName(key, slot, name)).catch(() => {});
        }
      }
    });
  }
}

/** The name of a work-in-progress file in its slot. */
function partialName(key: StageKey, slot: "a" | "b", name: string): string {
  return `${key}/${slot}/${name}`;
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
