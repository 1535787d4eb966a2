/**
 * Several named files as one stage output: a POSIX tar archive (ustar), so a run's `pieces.tar`
 * opens with any `tar -xf`. Used where the number of files depends on the config
 * (`generate.count` pieces), which a stage's fixed list of outputs cannot name one by one.
 *
 * Written deterministically: entries in the order given, mtime 0, mode 0644, owner 0, so one set
 * of files is always the same bytes (and the same digest in the store).
 *
 * @module
 */
import { type Codec, FormatError } from "./codec.ts";

/** File name → bytes, in archive order. */
export type Bundle = Map<string, Uint8Array>;

const BLOCK = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, size: number): Uint8Array {
  const nameBytes = encoder.encode(name);
  if (nameBytes.length > 100 || name.includes("/") || name === "" || name.startsWith(".")) {
    throw new RangeError(`Cannot bundle ${JSON.stringify(name)}: use a plain file name`);
  }
  const h = new Uint8Array(BLOCK);
  const put = (offset: number, s: string) => h.set(encoder.encode(s), offset);
  h.set(nameBytes, 0);
  put(100, octal(0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(0, 12));
  put(148, "        "); // the checksum counts its own field as spaces
  put(156, "0");
  put(257, "ustar\x0000");
  const sum = h.reduce((a, b) => a + b, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** The tar archive of `files`. */
export function writeBundle(files: Bundle): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, bytes] of files) {
    parts.push(header(name, bytes.length), bytes);
    const pad = (BLOCK - bytes.length % BLOCK) % BLOCK;
    if (pad > 0) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The files of a tar archive {@link writeBundle} wrote (regular files only).
 * @throws {FormatError} when the bytes are not such an archive
 */
export function readBundle(bytes: Uint8Array): Bundle {
  const files: Bundle = new Map();
  let at = 0;
  while (at + BLOCK <= bytes.length) {
    const h = bytes.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return files;
    const field = (offset: number, length: number) =>
      decoder.decode(h.subarray(offset, offset + length)).replace(/\0.*$/s, "").trim();
    const stored = parseInt(field(148, 8), 8);
    const sum = h.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    if (stored !== sum) throw new FormatError(`the tar header at byte ${at} is damaged`);
    const name = field(0, 100);
    const size = parseInt(field(124, 12), 8);
    if (!Number.isFinite(size) || at + BLOCK + size > bytes.length) {
      throw new FormatError(`the tar entry ${JSON.stringify(name)} is cut short`);
    }
    if (field(156, 1) === "0" || field(156, 1) === "") {
      files.set(name, bytes.slice(at + BLOCK, at + BLOCK + size));
    }
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new FormatError("the tar archive has no end marker");
}

/** A stage output holding several files (see the module comment). */
export const bundle: Codec<Bundle> = {
  what: "a tar archive of files",
  encode: writeBundle,
  decode: readBundle,
};

/**
 * A bundle that may hold nothing, written then as no bytes at all: an output that says "none
 * here", which exports skip (perform's loops without a humanizer).
 */
export const optionalBundle: Codec<Bundle> = {
  what: "a tar archive of files, or nothing",
  encode: (files) => (files.size === 0 ? new Uint8Array() : writeBundle(files)),
  decode: (bytes) => (bytes.length === 0 ? new Map() : readBundle(bytes)),
};

/** The name of piece `n` (1-based) with `extension`, as the bundles name them: `piece-01.mid`. */
export function pieceName(n: number, extension: string): string {
  return `piece-${String(n).padStart(2, "0")}.${extension}`;
}
