/**
 * The shapes of the store's two kinds of record, as read back from runs/, keys/ or the remote: a
 * run record and a stage key's cache entry. Every name in them that the store turns into a path
 * (config hash, stage keys, stage and output names, digests, the time a run's history file is
 * named by) is checked against its exact shape (formats/names.ts); the rest only as far as the
 * readers rely on it. A record that fails is skipped with a warning by whoever reads it.
 *
 * The types themselves live with their writers in core/ (run_record.ts, store.ts).
 *
 * @module
 */
import {
  isConfigHash,
  isDigest,
  isOutputName,
  isRelativeName,
  isStageKey,
  isStageName,
  isTimestamp,
  quoteName,
} from "./names.ts";

/** `undefined` when `value` is a run record whose names can be used, else what is wrong. */
export function runRecordProblem(value: unknown): string | undefined {
  if (!isObject(value)) return "it is not a JSON object";
  if (!isConfigHash(value.configHash)) {
    return `its configHash ${quoteName(value.configHash)} is not a config hash`;
  }
  if (!isTimestamp(value.finishedAt)) {
    return `its finishedAt ${quoteName(value.finishedAt)} is not a time`;
  }
  if (value.status !== "ok" && value.status !== "failed") return "its status is not ok or failed";
  if (!isObject(value.config)) return "it has no config";
  if (!isObject(value.metrics)) return "it has no metrics";
  if (!isObject(value.stages)) return "it has no stages";
  for (const [stage, record] of Object.entries(value.stages)) {
    if (!isStageName(stage)) return `its stage ${quoteName(stage)} is not a stage name`;
    if (!isObject(record) || !isStageKey(record.key)) {
      return `stage ${stage} has no stage key`;
    }
    const outputs = outputsProblem(record.outputs);
    if (outputs !== undefined) return `stage ${stage}: ${outputs}`;
  }
  if (value.interrupted !== undefined) {
    const i = value.interrupted;
    if (!isObject(i) || !isStageName(i.stage) || !isStageKey(i.key)) {
      return "its interrupted stage is not a stage name and key";
    }
  }
  return undefined;
}

/** `undefined` when `value` is a stage key's cache entry whose names can be used, else what is wrong. */
export function keyEntryProblem(value: unknown): string | undefined {
  if (!isObject(value)) return "it is not a JSON object";
  if (!isStageName(value.stage)) return `its stage ${quoteName(value.stage)} is not a stage name`;
  const outputs = outputsProblem(value.outputs);
  if (outputs !== undefined) return outputs;
  if (!isObject(value.components)) return "it has no key components";
  const dataset = value.components.dataset;
  if (dataset !== undefined && !isDigest(dataset)) {
    return `its dataset digest ${quoteName(dataset)} is not a digest`;
  }
  if (!isObject(value.metrics)) return "it has no metrics";
  if (!Array.isArray(value.warnings) || !value.warnings.every((w) => typeof w === "string")) {
    return "its warnings are not a list of strings";
  }
  return undefined;
}

/**
 * `undefined` when `value` maps output names to digests, else what is wrong. With `nested`, a
 * name may be a relative path of names (work in progress: `best/model.json`).
 */
export function outputsProblem(value: unknown, nested = false): string | undefined {
  if (!isObject(value)) return "it has no outputs";
  for (const [name, digest] of Object.entries(value)) {
    if (!(nested ? isRelativeName(name) : isOutputName(name))) {
      return `its output ${quoteName(name)} is not an output name`;
    }
    if (!isDigest(digest)) {
      return `its output ${name}'s digest ${quoteName(digest)} is not a digest`;
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
