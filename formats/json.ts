/**
 * Indented JSON for the records people open (run records, stage keys): the same value always
 * gives the same bytes. Stage outputs are compact JSON, written by formats/codec.ts's codecs.
 *
 * @module
 */

/** Indented JSON bytes with a trailing newline, for records people open (run records, keys). */
export function prettyJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}
