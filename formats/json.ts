/**
 * JSON artifacts (notes.json, vocab.json, tokens.json, history.json): compact UTF-8 JSON, so
 * the same value always gives the same bytes and the same digest.
 *
 * @module
 */

/** Compact JSON bytes of a value. */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Reads JSON bytes. */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

/** Indented JSON bytes with a trailing newline, for records people open (run records, keys). */
export function prettyJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}
