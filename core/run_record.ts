/**
 * The run record: what one run of a config did, as `<store>/runs/<config-hash>.json` keeps it.
 * Its own module because the runner writes it, the store lists it and the CLI reads it.
 *
 * @module
 */
import { runRecordProblem } from "../formats/records.ts";
import type { Config } from "../formats/config_schema.ts";
import type { ConfigHash, Digest, StageKey } from "./hash.ts";
import type { Metric } from "./stage.ts";

/** One stage's part of a run record. */
export interface StageRecord {
  key: StageKey;
  cached: boolean;
  /** Seconds this run spent on the stage (a cache lookup when cached). */
  seconds: number;
  /** Seconds the stage took when it last executed for this key. */
  executedSeconds: number;
  outputs: Record<string, Digest>;
  warnings: string[];
}

/** `<store>/runs/<config-hash>.json`: what one run did. */
export interface RunRecord {
  configHash: ConfigHash;
  configPath: string;
  config: Config;
  status: "ok" | "failed";
  error?: string;
  /** The stage a failed run stopped in, whose work in progress the next run resumes. */
  interrupted?: { stage: string; key: StageKey };
  startedAt: string;
  finishedAt: string;
  seconds: number;
  until?: string;
  runtime: { deno: string; v8: string; os: string };
  stages: Record<string, StageRecord>;
  /** Stage → metric name → value (files parsed, tokens, vocab size, windows, loss, …). */
  metrics: Record<string, Record<string, Metric>>;
}

/**
 * True for a run record whose names can be used as paths (a file in runs/ or an entry on the
 * remote may be anything; formats/records.ts says what is checked).
 */
export function isRunRecord(v: unknown): v is RunRecord {
  return runRecordProblem(v) === undefined;
}
