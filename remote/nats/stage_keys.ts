/**
 * Stage keys on the remote (dlm_keys): the run cache every machine shares. An entry is created
 * if absent and never replaced by another (the second promise in remote.ts: a different one
 * already there is a conflict, reported); only an entry that is not one (damaged, or written by
 * someone else) is repaired, by compare-and-set, so a good entry written meanwhile stays.
 *
 * @module
 */
import type { KV, KvEntry } from "nats";
import { canonicalJson, type StageKey } from "../../core/hash.ts";
import { outputsProblem } from "../../formats/records.ts";
import type { MalformedEntry, PutKeyResult, Remote, RemoteKeyEntry } from "../remote.ts";
import { type Session, wrongSequence } from "./session.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Each stage key's run-cache entry, created once. */
export class StageKeys implements Pick<Remote, "getKey" | "putKey"> {
  constructor(readonly session: Session, readonly kv: KV) {}

  getKey(key: StageKey): Promise<RemoteKeyEntry | MalformedEntry | undefined> {
    return this.session.retry(`read stage key ${key}`, async () => {
      const entry = await this.kv.get(key);
      return parseEntry(entry);
    });
  }

  async putKey(key: StageKey, entry: RemoteKeyEntry): Promise<PutKeyResult> {
    const bytes = this.session.checkSize(encoder.encode(JSON.stringify(entry)), `stage key ${key}`);
    return await this.session.retry(`record stage key ${key}`, async () => {
      try {
        await this.kv.create(key, bytes);
        return { status: "created" };
      } catch (e) {
        if (!wrongSequence(e)) throw e;
      }
      // Someone recorded this key first (or our own earlier attempt did, and its answer was lost).
      const current = await this.kv.get(key);
      const existing = parseEntry(current);
      if (existing !== undefined && "malformed" in existing) {
        // Compare-and-set: a good entry another machine wrote meanwhile is never replaced.
        await this.kv.update(key, bytes, current!.revision);
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
