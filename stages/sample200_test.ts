import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import { fakeContext } from "../tests/_helpers.ts";
import type { FileEntry } from "../formats/files.ts";
import { sampleFiles } from "./support/sample.ts";
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

/** 30 files split as the dataset's own table puts them: 20 train, 6 validation, 4 test. */
const split: FileEntry[] = files.slice(0, 30).map((f, i) => ({
  ...f,
  split: i % 3 !== 2 ? "train" : i < 20 ? "validation" : "test",
}));

Deno.test("sample200 with the dataset's split draws only train files, by sample.seed, or all of them", async () => {
  const train = split.filter((f) => f.split === "train");
  assert.equal(train.length, 20);
  const config = defaultConfig();
  config.sample.count = 8;
  const ctx = fakeContext();
  const drawn = (await sample200.run({ files: split }, config, ctx))["files.json"];
  assert.equal(drawn.length, 8);
  assert.ok(drawn.every((f) => f.split === "train"), "only train files");
  assert.deepEqual(drawn, sampleFiles(train, 8, 42), "drawn by sample.seed among the train files");
  assert.deepEqual(ctx.collected.infos, [
    "8 of the 20 train files of dataset.split drawn by sample.seed 42",
  ]);
  // sample.count at or above their number takes every train file (no error, unlike without a split).
  config.sample.count = 897;
  const all = (await sample200.run({ files: split }, config, fakeContext()))["files.json"];
  assert.deepEqual(new Set(all.map((f) => f.path)), new Set(train.map((f) => f.path)));
  // A split with no train file at all is one sentence.
  await assert.rejects(
    sample200.run(
      { files: split.map((f) => ({ ...f, split: "test" as const })) },
      config,
      fakeContext(),
    ),
    /dataset\.split puts none of the 30 MIDI files in the train split/,
  );
});
