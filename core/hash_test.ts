import assert from "node:assert/strict";
import { canonicalJson, digestOf, hashJson } from "./hash.ts";

Deno.test("digestOf() is the hex sha256 of the bytes", () => {
  assert.equal(
    digestOf(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("canonicalJson() sorts keys at every level and drops undefined", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: undefined } }),
    '{"a":{"d":[1,{"y":1,"z":0}]},"b":1}',
  );
  assert.equal(hashJson({ x: 1, y: 2 }), hashJson({ y: 2, x: 1 }));
});

Deno.test("canonicalJson() refuses numbers without a canonical form", () => {
  assert.throws(() => canonicalJson({ loss: NaN }), /only finite numbers/);
});
