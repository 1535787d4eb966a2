/**
 * A codec turns one kind of artifact into bytes and back. Stages declare the codec of each
 * output they write and each input they read, and the runner encodes and decodes: a stage works
 * on typed values, and bytes that are not what a codec expects are found at the boundary with one
 * sentence, not deep inside a stage as `undefined`.
 *
 * @module
 */

/** How one kind of artifact is written and read. */
export interface Codec<T> {
  /** What the bytes hold, for messages: "a list of token strings". */
  readonly what: string;
  encode(value: T): Uint8Array;
  /** @throws {FormatError} when the bytes are not such an artifact */
  decode(bytes: Uint8Array): T;
}

/** Bytes that are not the artifact a codec reads; the message says what is wrong. */
export class FormatError extends Error {
  override name = "FormatError";
}

/** Bytes as they are: MIDI files, SVG drawings, weights. */
export const rawBytes: Codec<Uint8Array> = {
  what: "bytes",
  encode: (value) => value,
  decode: (bytes) => bytes,
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text: SVG drawings, small values. */
export const text: Codec<string> = {
  what: "UTF-8 text",
  encode: (value) => new TextEncoder().encode(value),
  decode(bytes) {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new FormatError("it is not UTF-8 text");
    }
  },
};

/**
 * A JSON artifact, compact (so equal values give equal bytes), whose decoded value `check`
 * validates: it returns nothing when the value is right, or what is wrong with it.
 */
export function jsonCodec<T>(
  what: string,
  check: (value: unknown) => string | undefined,
  encode: (value: T) => string = JSON.stringify,
): Codec<T> {
  return {
    what,
    encode: (value) => new TextEncoder().encode(encode(value)),
    decode(bytes) {
      let value: unknown;
      try {
        value = JSON.parse(utf8.decode(bytes));
      } catch (e) {
        throw new FormatError(`it is not UTF-8 JSON (${(e as Error).message})`);
      }
      const problem = check(value);
      if (problem !== undefined) throw new FormatError(`it should be ${what}, but ${problem}`);
      return value as T;
    },
  };
}

/** `undefined` when `value` is an array of strings, else what is wrong with it. */
export function checkStrings(value: unknown): string | undefined {
  if (!Array.isArray(value)) return "it is not a list";
  const bad = value.findIndex((t) => typeof t !== "string");
  return bad === -1 ? undefined : `item ${bad} is ${JSON.stringify(value[bad])}`;
}
