/**
 * Run records on the remote (dlm_runs): every run of every machine, one entry per run, named
 * `<config-hash>.<finished-at>` like the local history, so sending one again is harmless.
 *
 * @module
 */
import type { KV } from "nats";
import type { ConfigHash } from "../../core/hash.ts";
import { isConfigHash } from "../../formats/names.ts";
import type { Remote, RemoteRun } from "../remote.ts";
import type { Session } from "./session.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every run record shared. */
export class RunRecords implements Pick<Remote, "putRun" | "listRuns"> {
  constructor(readonly session: Session, readonly kv: KV) {}

  async putRun(configHash: ConfigHash | string, recordJson: string): Promise<void> {
    if (!isConfigHash(configHash)) {
      throw new TypeError(`Cannot share run record: ${configHash} is not a config hash`);
    }
    const finishedAt = finishedAtOf(recordJson);
    const bytes = this.session.checkSize(
      encoder.encode(recordJson),
      `the run record of ${configHash}`,
    );
    // One entry per run, named like the local history (runs/<hash>/<time>.json).
    const name = `${configHash}.${finishedAt.replace(/[^0-9A-Za-z]/g, "-")}`;
    await this.session.retry(
      `share the run record of ${configHash}`,
      () => this.kv.put(name, bytes),
    );
  }

  async listRuns(): Promise<RemoteRun[]> {
    return await this.session.retry("list run records", async () => {
      const names: string[] = [];
      for await (const name of await this.kv.keys()) names.push(name);
      const runs: RemoteRun[] = [];
      // A few at a time: one round trip each, overlapped.
      for (let i = 0; i < names.length; i += 16) {
        const entries = await Promise.all(names.slice(i, i + 16).map((n) => this.kv.get(n)));
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
