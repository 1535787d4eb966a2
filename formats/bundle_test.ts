import assert from "node:assert/strict";
import { FormatError } from "./codec.ts";
import { bundle, pieceName, readBundle, writeBundle } from "./bundle.ts";

Deno.test("bundle: files round-trip, in order, as the same bytes every time", () => {
  const files = new Map([
    [pieceName(1, "mid"), new Uint8Array([1, 2, 3])],
    [pieceName(2, "mid"), new Uint8Array(1000).fill(7)],
  ]);
  const tar = writeBundle(files);
  assert.deepEqual(readBundle(tar), files);
  assert.deepEqual(bundle.encode(files), tar);
  assert.equal(pieceName(3, "flac"), "piece-03.flac");
});

Deno.test("bundle: damaged or cut archives are FormatErrors in one sentence; odd names refused", () => {
  const tar = writeBundle(new Map([["a.mid", new Uint8Array(600)]]));
  const damaged = tar.slice();
  damaged[10] = 0x41;
  assert.throws(
    () => readBundle(damaged),
    (e) => e instanceof FormatError && /damaged/.test(e.message),
  );
  assert.throws(
    () => readBundle(tar.slice(0, 700)),
    (e) => e instanceof FormatError && /cut short/.test(e.message),
  );
  assert.throws(() => readBundle(tar.slice(0, 512 + 1024)), FormatError);
  assert.throws(() => writeBundle(new Map([["../x", new Uint8Array(1)]])), /plain file name/);
});
