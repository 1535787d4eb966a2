import assert from "node:assert/strict";
import { decodeNpy, encodeNpy } from "./npy.ts";

Deno.test("encodeNpy() writes a version 1.0 header padded to 64 bytes that numpy accepts", () => {
  const bytes = encodeNpy({ dtype: "float32", shape: [2, 3, 1], data: new Float32Array(6) });
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + bytes[8]!));
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  assert.equal((10 + bytes[8]!) % 64, 0);
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 1\), \} *\n$/);
  assert.equal(bytes.length, 10 + bytes[8]! + 24);
});

Deno.test("decodeNpy() reads back what encodeNpy() wrote", () => {
  const data = Int32Array.from([3, -1, 7]);
  const back = decodeNpy(encodeNpy({ dtype: "int32", shape: [3], data }));
  assert.deepEqual(back, { dtype: "int32", shape: [3], data });
});

Deno.test("decodeNpy() rejects bytes that are not .npy", () => {
  assert.throws(() => decodeNpy(new Uint8Array(20)), /magic/);
});
