/**
 * A sweep job: what `sweep --queue` puts on the remote's work queue for each combination and a
 * worker takes. The queue can be filled by anyone who can write to the remote, so a job is
 * checked where it is decoded: its config hash becomes a file name in the worker's store.
 *
 * @module
 */
import { type ConfigHash, isConfigHash, quoteName } from "./names.ts";

/** One combination of a sweep, as queued. */
export interface SweepJob {
  /** The config hash the run must produce (checked by the worker). */
  configHash: ConfigHash;
  /** The resolved config, every key present. */
  config: Record<string, unknown>;
  /** The combination, for messages (`train.epochs=2 generate.temperature=0.8`). */
  label: string;
}

/** `undefined` when `value` is a sweep job, else what is wrong with it. */
export function sweepJobProblem(value: unknown): string | undefined {
  const job = value as Partial<Record<keyof SweepJob, unknown>> | null;
  if (typeof job !== "object" || job === null) return "it is not a JSON object";
  if (!isConfigHash(job.configHash)) {
    return `its config hash ${quoteName(job.configHash)} is not a config hash`;
  }
  if (typeof job.label !== "string") return "it has no label";
  if (typeof job.config !== "object" || job.config === null || Array.isArray(job.config)) {
    return "it has no config";
  }
  return undefined;
}
