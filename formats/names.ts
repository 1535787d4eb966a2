/**
 * The names the store files things under, and their exact shapes. A name read from a file or
 * from the remote (a run record's config hash, a key entry's digests, a stage's output names)
 * becomes part of a path, so it is checked here, where it is decoded, and a value that fails is
 * never used: `../../victim` is not a config hash, and nothing downstream has to know why.
 *
 * The branded types keep a path from being passed where a digest belongs (as wireit does); a
 * value gets its brand only from a check here or from hashing.
 *
 * @module
 */

/** Hex sha256 of an object's bytes: its name in the store. */
export type Digest = string & { readonly __brand: "Digest" };
/** Hex sha256 of a stage's key components. */
export type StageKey = string & { readonly __brand: "StageKey" };
/** The first 16 hex characters of a resolved config's sha256: the id runs are recorded under. */
export type ConfigHash = string & { readonly __brand: "ConfigHash" };

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CONFIG_HASH = /^[0-9a-f]{16}$/;
/** Stage names are lowercase words (`sample200`, `datastats`). */
const STAGE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
/** An output's file name: one path segment that cannot be `.`, `..` or hidden. */
const OUTPUT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** `Date.prototype.toISOString`'s shape: run records are named by it in runs/<hash>/. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** A compare page's folder: the config hashes it shows joined by `-` (report/comparison.ts). */
const COMPARE_PAGE = /^[0-9a-f]{16}(-[0-9a-z]+)*$/;

/** True for a 64-character lowercase hex sha256. */
export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && SHA256_HEX.test(value);
}

/** True for a stage key (a 64-character lowercase hex sha256). */
export function isStageKey(value: unknown): value is StageKey {
  return typeof value === "string" && SHA256_HEX.test(value);
}

/** True for a config hash (16 lowercase hex characters). */
export function isConfigHash(value: unknown): value is ConfigHash {
  return typeof value === "string" && CONFIG_HASH.test(value);
}

/** True for a stage's name. */
export function isStageName(value: unknown): value is string {
  return typeof value === "string" && STAGE_NAME.test(value);
}

/** True for an output's file name (one path segment, no dot first). */
export function isOutputName(value: unknown): value is string {
  return typeof value === "string" && OUTPUT_NAME.test(value);
}

/** True for the name of a compare page's folder. */
export function isComparePage(value: unknown): value is string {
  return typeof value === "string" && value.length <= 255 && COMPARE_PAGE.test(value);
}

/**
 * True for a relative path of output names (`best/model.json`): what work in progress is saved
 * under (store/store.ts resumeState).
 */
export function isRelativeName(value: unknown): value is string {
  return typeof value === "string" && value.length <= 1024 &&
    value.split("/").every((segment) => OUTPUT_NAME.test(segment));
}

/** True for an ISO 8601 UTC timestamp as `toISOString` writes it. */
export function isTimestamp(value: unknown): value is string {
  return typeof value === "string" && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * A value read from outside, shown in a message: quoted, control characters escaped by JSON, and
 * cut to 80 characters, so a hostile name can neither drive the terminal nor flood it.
 */
export function quoteName(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const cut = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  // JSON leaves DEL and the C1 controls as they are; the terminal would not.
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
