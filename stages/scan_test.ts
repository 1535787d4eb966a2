import assert from "node:assert/strict";
import { sha256Hex } from "../core/hash.ts";
import { defaultConfig } from "../formats/config_schema.ts";
import { fakeContext, utf8 } from "../tests/_helpers.ts";
import { StageInputError } from "../core/stage.ts";
import { fileList } from "../formats/files.ts";
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

/** A config whose dataset.split is `split`. */
function splitConfig(split: string) {
  const config = defaultConfig();
  config.dataset.split = split;
  return config;
}

Deno.test("scan with dataset.split adds each named file's split, style and bpm; files.json without it is as before", async () => {
  const files = {
    "a/one.mid": utf8("1"),
    "a/two.mid": utf8("2"),
    "b/three.midi": utf8("3"),
    "info.csv": utf8(
      "\uFEFFdrummer,style,bpm,midi_filename,split\r\n" +
        'd1,"funk/groove1",138,a/one.mid,train\r\n' +
        'd1,"latin, ""bossa""",,a/two.mid,validation\r\n' +
        "d2,rock,90,b/three.midi,test\r\n\r\n",
    ),
  };
  const out = await scan.run({}, splitConfig("info.csv"), fakeContext(files));
  assert.deepEqual(out["files.json"], [
    {
      path: "a/one.mid",
      size: 1,
      sha256: sha256Hex("1"),
      split: "train",
      style: "funk/groove1",
      bpm: 138,
    },
    {
      path: "a/two.mid",
      size: 1,
      sha256: sha256Hex("2"),
      split: "validation",
      style: 'latin, "bossa"',
    },
    {
      path: "b/three.midi",
      size: 1,
      sha256: sha256Hex("3"),
      split: "test",
      style: "rock",
      bpm: 90,
    },
  ]);
  // Without dataset.split the entries hold no split key at all: files.json keeps its bytes.
  const plain = await scan.run({}, defaultConfig(), fakeContext(files));
  assert.equal(
    new TextDecoder().decode(fileList.encode(plain["files.json"])),
    `[\n${
      ["1", "2", "3"].map((d, i) =>
        JSON.stringify({
          path: ["a/one.mid", "a/two.mid", "b/three.midi"][i],
          size: 1,
          sha256: sha256Hex(d),
        })
      ).join(",\n")
    }\n]\n`,
  );
  // Only the two required columns: no style or bpm keys.
  const bare = await scan.run(
    {},
    splitConfig("s.csv"),
    fakeContext({
      "a/one.mid": utf8("1"),
      "s.csv": utf8("midi_filename,split\na/one.mid,train\n"),
    }),
  );
  assert.deepEqual(bare["files.json"], [
    { path: "a/one.mid", size: 1, sha256: sha256Hex("1"), split: "train" },
  ]);
});

Deno.test("scan warns once for each kind of mismatch with dataset.split, counting and naming the first few", async () => {
  const midi = Object.fromEntries(
    Array.from({ length: 6 }, (_, i) => [`f${i}.mid`, utf8(`${i}`)]),
  );
  const ctx = fakeContext({
    ...midi,
    "info.csv": utf8(
      "midi_filename,split\n" +
        "f0.mid,train\nf1.mid,validation\nf2.mid,holdout\n" +
        "gone1.mid,train\ngone2.mid,test\nf0.mid,test\n",
    ),
  });
  const out = await scan.run({}, splitConfig("info.csv"), ctx);
  const bySplit = Object.fromEntries(out["files.json"].map((f) => [f.path, f.split]));
  assert.deepEqual(bySplit, {
    "f0.mid": "train",
    "f1.mid": "validation",
    "f2.mid": undefined,
    "f3.mid": undefined,
    "f4.mid": undefined,
    "f5.mid": undefined,
  });
  assert.deepEqual(ctx.collected.warnings, [
    "3 files (f3.mid, f4.mid, f5.mid) are MIDI files that dataset.split info.csv does not name: in no split, left out",
    "2 files (gone1.mid, gone2.mid) are named in dataset.split info.csv but not a MIDI file in dataset.dir: their rows left out",
    '1 file (f2.mid ("holdout")) has a split in dataset.split info.csv other than train, validation or test: in no split, left out',
    "1 file (f0.mid) is named again in dataset.split info.csv: the first row kept",
  ]);
  assert.deepEqual(
    [ctx.collected.metrics.trainFiles, ctx.collected.metrics.validationFiles],
    [1, 1],
  );
});

Deno.test("scan stops with one sentence naming dataset.split and the file when it is missing or lacks a column", async () => {
  const midi = { "a.mid": utf8("1") };
  await assert.rejects(
    scan.run({}, splitConfig("info.csv"), fakeContext(midi)),
    (e: Error) =>
      e instanceof StageInputError &&
      e.message ===
        'dataset.split info.csv is not a file in dataset.dir data/groove (the path is relative to dataset.dir); fix the path or set dataset.split to ""',
  );
  await assert.rejects(
    scan.run(
      {},
      splitConfig("info.csv"),
      fakeContext({ ...midi, "info.csv": utf8("drummer,midi_filename,style\nx,a.mid,rock\n") }),
    ),
    (e: Error) =>
      e instanceof StageInputError &&
      /^dataset\.split info\.csv has no split column \(its header row names drummer, midi_filename, style\); it needs a header row naming midi_filename/
        .test(e.message),
  );
  await assert.rejects(
    scan.run({}, splitConfig("info.csv"), fakeContext({ ...midi, "info.csv": utf8("") })),
    /dataset\.split info\.csv has no midi_filename or split column \(it has no header row\)/,
  );
  await assert.rejects(
    scan.run({}, splitConfig("info.csv"), fakeContext({ ...midi, "info.csv": utf8('a,"b\n') })),
    /dataset\.split info\.csv cannot be read as a CSV table: a quote opened at character 2 is never closed/,
  );
  await assert.rejects(
    scan.run(
      {},
      splitConfig("info.csv"),
      fakeContext({ ...midi, "info.csv": utf8("midi_filename,split\nother.mid,train\n") }),
    ),
    /dataset\.split info\.csv names none of the 1 MIDI files in dataset\.dir \(its midi_filename paths must be relative to dataset\.dir, such as other\.mid\)/,
  );
  // A path that leaves the folder is refused before any stage runs.
  for (const path of ["../info.csv", "/etc/info.csv", "a/../../x.csv"]) {
    assert.throws(
      () => scan.check!(splitConfig(path)),
      new RegExp(`dataset\\.split .* must be a path inside dataset\\.dir`),
    );
  }
  scan.check!(splitConfig("sub/info.csv"));
});
