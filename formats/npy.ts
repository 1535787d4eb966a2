/**
 * The NumPy `.npy` format, version 1.0: how the window stage stores its tensors so that numpy
 * users can `np.load` them. Layout: the magic `\x93NUMPY`, version bytes `01 00`, a little-endian
 * uint16 header length, an ASCII header dict (`descr`, `fortran_order`, `shape`) padded with
 * spaces to a multiple of 64 bytes and ended by `\n`, then the data, C order, little-endian.
 *
 * @module
 */

import { type Codec, FormatError } from "./codec.ts";

/** The element types this project stores. */
export type NpyArray =
  | { dtype: "float32"; shape: number[]; data: Float32Array }
  | { dtype: "int32"; shape: number[]; data: Int32Array };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR = { float32: "<f4", int32: "<i4" } as const;

/** Encodes an array as `.npy` bytes. */
export function encodeNpy(array: NpyArray): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new RangeError(
      `Cannot encode npy: shape [${array.shape}] holds ${count} values but data has ${array.data.length}`,
    );
  }
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(", ")})`;
  let header = `{'descr': '${DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + headerBytes.length + array.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  // Both supported dtypes are 4 bytes; this machine and every platform Deno runs on is
  // little-endian, so the typed array's bytes are already in `.npy` order.
  out.set(
    new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength),
    10 + headerBytes.length,
  );
  return out;
}

/** Decodes `.npy` bytes written by {@link encodeNpy} (or numpy, for `<f4`/`<i4` C-order arrays). */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new SyntaxError("Cannot decode npy: the bytes do not start with the \\x93NUMPY magic");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new SyntaxError(`Cannot decode npy: malformed header ${JSON.stringify(header)}`);
  }
  if (fortran === "True") {
    throw new SyntaxError("Cannot decode npy: Fortran order is not supported");
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  const dataStart = start + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  const raw = bytes.slice(dataStart, dataStart + count * 4); // copy: aligned for typed arrays
  if (raw.length !== count * 4) {
    throw new SyntaxError(
      `Cannot decode npy: expected ${count * 4} data bytes, found ${raw.length}`,
    );
  }
  if (descr === "<f4") return { dtype: "float32", shape, data: new Float32Array(raw.buffer) };
  if (descr === "<i4") return { dtype: "int32", shape, data: new Int32Array(raw.buffer) };
  throw new SyntaxError(`Cannot decode npy: dtype ${descr} is not supported (use <f4 or <i4)`);
}

/**
 * The codec of `.npy` arrays of one dtype and rank: the window stage's `x.npy` (float32,
 * `[windows, length, 1]`) and `y.npy` (int32, `[windows]`).
 */
export function npyCodec<D extends NpyArray["dtype"]>(
  dtype: D,
  rank: number,
): Codec<Extract<NpyArray, { dtype: D }>> {
  const what = `a ${rank}-dimensional ${dtype} .npy array`;
  return {
    what,
    encode: encodeNpy,
    decode(bytes) {
      let array: NpyArray;
      try {
        array = decodeNpy(bytes);
      } catch (e) {
        throw new FormatError((e as Error).message);
      }
      if (array.dtype !== dtype || array.shape.length !== rank) {
        throw new FormatError(
          `it should be ${what}, but it is ${array.dtype} of shape [${array.shape.join(", ")}]`,
        );
      }
      return array as Extract<NpyArray, { dtype: D }>;
    },
  };
}
