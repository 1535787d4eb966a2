import assert from "node:assert/strict";
import { defaultConfig } from "../core/config_schema.ts";
import { fakeContext } from "../tests/_helpers.ts";
import type { FileEntry } from "../formats/files.ts";
import { sampleFiles } from "./_sample.ts";
import { sample200 } from "./sample200.ts";

const files: FileEntry[] = Array.from(
  { length: 50 },
  (_, i) => ({ path: `f${i}.mid`, size: i, sha256: `h${i}` }),
);

Deno.test("sampleFiles() draws the same files for the same seed and others for another seed", () => {
  const a = sampleFiles(files, 10, 42);
  assert.equal(a.length, 10);
  assert.equal(new Set(a.map((f) => f.path)).size, 10);
  assert.deepEqual(sampleFiles(files, 10, 42), a);
  assert.notDeepEqual(sampleFiles(files, 10, 43), a);
});

Deno.test("sampleFiles() keeps its sample when a file outside it is edited or added", () => {
  const a = sampleFiles(files, 10, 42);
  const outside = files.find((f) => !a.includes(f))!;
  const edited = files.map((f) => (f === outside ? { ...f, sha256: "changed" } : f));
  assert.deepEqual(sampleFiles(edited, 10, 42), a);
});

Deno.test("sample200 stops with one sentence when sample.count exceeds the dataset", async () => {
  const config = defaultConfig();
  config.sample.count = 51;
  await assert.rejects(
    sample200.run({ files }, config, fakeContext()),
    /sample\.count is 51 but the dataset has only 50 MIDI files; lower sample\.count to at most 50/,
  );
  config.sample.count = 50;
  const out = await sample200.run(
    { files },
    config,
    fakeContext(),
  );
  assert.equal(out["files.json"].length, 50);
});
