/**
 * Digests and canonical JSON. A digest is the hex sha256 of bytes; its branded type and shape
 * live with the store's other names in formats/names.ts.
 *
 * @module
 */
import { createHash } from "node:crypto";

export type { ConfigHash, Digest, StageKey } from "../formats/names.ts";
import type { Digest } from "../formats/names.ts";

/** sha256 of bytes (or of a string's UTF-8 bytes), as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The digest under which `bytes` is stored. */
export function digestOf(bytes: Uint8Array): Digest {
  return sha256Hex(bytes) as Digest;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so equal values always give
 * equal text and therefore equal hashes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new TypeError(`Cannot hash ${value}: only finite numbers have a canonical form`);
    }
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** sha256 of a value's canonical JSON. */
export function hashJson(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
