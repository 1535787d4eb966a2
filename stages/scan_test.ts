import assert from "node:assert/strict";
import { sha256Hex } from "../core/hash.ts";
import { defaultConfig } from "../core/config_schema.ts";
import { fakeContext, utf8 } from "../tests/_helpers.ts";
import { scan } from "./scan.ts";

Deno.test("scan lists only .mid and .midi files, sorted, with their sha256", async () => {
  const ctx = fakeContext({
    "b/two.MIDI": utf8("2"),
    "a/one.mid": utf8("1"),
    "info.csv": utf8("x"),
  });
  const out = await scan.run({}, defaultConfig(), ctx);
  assert.deepEqual(out["files.json"], [
    { path: "a/one.mid", size: 1, sha256: sha256Hex("1") },
    { path: "b/two.MIDI", size: 1, sha256: sha256Hex("2") },
  ]);
  assert.equal(ctx.collected.metrics.files, 2);
});

Deno.test("scan stops with one sentence naming dataset.dir when it holds no MIDI files", async () => {
  await assert.rejects(
    scan.run({}, defaultConfig(), fakeContext({ "readme.txt": utf8("") })),
    /dataset\.dir data\/groove holds no \.mid or \.midi files/,
  );
});
