import assert from "node:assert/strict";
import { applyOverride, configHash, loadConfig, resolveConfig } from "./config.ts";
import { defaultConfig } from "../formats/config_schema.ts";
import { ConfigError } from "./errors.ts";

Deno.test("resolveConfig() fills every key the file leaves out with its default", () => {
  const config = resolveConfig({ train: { epochs: 2 } }, "x.yaml");
  assert.equal(config.train.epochs, 2);
  assert.equal(config.train.lstmUnits, 256);
  assert.equal(config.window.length, 100);
});

Deno.test("resolveConfig() names an unknown key and the closest valid one", () => {
  assert.throws(
    () => resolveConfig({ train: { epoch: 2 } }, "x.yaml"),
    (e: Error) =>
      e instanceof ConfigError &&
      /x\.yaml: unknown key train\.epoch \(did you mean train\.epochs\?\)/.test(e.message),
  );
  assert.throws(
    () => resolveConfig({ trian: {} }, "x.yaml"),
    /unknown section trian \(did you mean train\?\)/,
  );
});

Deno.test("resolveConfig() names the key of a wrong type or an out-of-range value", () => {
  assert.throws(
    () => resolveConfig({ train: { epochs: -3 } }, "x.yaml"),
    /x\.yaml: train\.epochs must be an integer at least 1 \(found -3\)/,
  );
  assert.throws(
    () => resolveConfig({ train: { epochs: "ten" } }, "x.yaml"),
    /train\.epochs must be an integer \(found "ten"\)/,
  );
  assert.throws(
    () => resolveConfig({ train: { dropout: 1.5 } }, "x.yaml"),
    /train\.dropout must be a number between 0 and 0\.95/,
  );
  assert.throws(
    () => resolveConfig({ train: { backend: "gpu" } }, "x.yaml"),
    /train\.backend must be one of auto, tensorflow-gpu, tensorflow, wasm, cpu/,
  );
  assert.throws(
    () => resolveConfig({ parse: { onError: "ignore" } }, "x.yaml"),
    /parse\.onError must be one of skip, fail/,
  );
  assert.throws(() => resolveConfig([1, 2], "x.yaml"), /must be a mapping of sections/);
});

Deno.test("applyOverride() sets a typed value and rejects an unknown key", () => {
  const config = defaultConfig();
  applyOverride(config, "generate.length=64");
  assert.equal(config.generate.length, 64);
  applyOverride(config, "train.shuffle=false");
  assert.equal(config.train.shuffle, false);
  assert.throws(
    () => applyOverride(config, "generate.lenght=64"),
    /unknown key generate\.lenght \(did you mean generate\.length\?\)/,
  );
  assert.throws(() => applyOverride(config, "generate.length"), /section\.key=value/);
});

Deno.test("configHash() ignores key order and changes with any value", () => {
  const a = resolveConfig({ sample: { count: 5, seed: 1 } }, "a");
  const b = resolveConfig({ sample: { seed: 1, count: 5 } }, "b");
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(resolveConfig({ sample: { count: 6, seed: 1 } }, "c")));
});

Deno.test("loadConfig() finds a bare name in configs/ and says so clearly when it cannot", async () => {
  const loaded = await loadConfig("deep-lstm.yaml");
  assert.equal(loaded.path, "./configs/deep-lstm.yaml");
  assert.deepEqual(
    loaded.config,
    defaultConfig(),
    "deep-lstm.yaml spells out the tutorial's recipe",
  );
  await assert.rejects(loadConfig("nope.yaml"), /Cannot find config nope\.yaml/);
});

Deno.test("loadConfig() reports a YAML syntax error with the file name", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.yaml`, "train:\n  epochs: [1,\n");
  await assert.rejects(
    loadConfig(`${dir}/bad.yaml`),
    (e: Error) =>
      e instanceof ConfigError && e.message.startsWith(`Cannot parse config ${dir}/bad.yaml`),
  );
});

Deno.test("resolveConfig() names generate.temperature when it is out of range", () => {
  assert.throws(
    () => resolveConfig({ generate: { temperature: -1 } }, "x.yaml"),
    /x\.yaml: generate\.temperature must be a number between 0 and 10 \(found -1\)/,
  );
});

Deno.test("configHash() leaves out options added since the recipe while they are at their defaults", async () => {
  // quick.yaml's runs were named fe99352e5a2f444e before any option was added; they keep the name.
  const loaded = await loadConfig("quick.yaml");
  assert.equal(loaded.hash, "fe99352e5a2f444e");
  // Set away from its default, an added option names another experiment.
  loaded.config.validation.count = 10;
  assert.notEqual(configHash(loaded.config), "fe99352e5a2f444e");
});

Deno.test("generate.prime: an optional path, empty (or left blank) for none, never a number", () => {
  assert.equal(resolveConfig({ generate: { prime: "" } }, "t.yaml").generate.prime, "");
  assert.equal(resolveConfig({ generate: { prime: null } }, "t.yaml").generate.prime, "");
  assert.equal(resolveConfig({ generate: { prime: "a.mid" } }, "t.yaml").generate.prime, "a.mid");
  const config = defaultConfig();
  applyOverride(config, "generate.prime=");
  assert.equal(config.generate.prime, "");
  assert.throws(
    () => resolveConfig({ generate: { prime: 3 } }, "t.yaml"),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 't.yaml: generate.prime must be a string ("" for none) (found 3)',
  );
  // A required string still refuses "".
  assert.throws(() => resolveConfig({ dataset: { dir: "" } }, "t.yaml"), /non-empty string/);
});

Deno.test("parse.maxQuarters: a positive integer, named in one sentence when it is not", () => {
  assert.equal(defaultConfig().parse.maxQuarters, 18_000);
  assert.equal(resolveConfig({ parse: { maxQuarters: 60 } }, "x.yaml").parse.maxQuarters, 60);
  for (
    const [value, found] of [[0, "0"], [-5, "-5"], [2.5, "2.5"], ["ten", '"ten"']] as const
  ) {
    assert.throws(
      () => resolveConfig({ parse: { maxQuarters: value } }, "x.yaml"),
      (e: unknown) =>
        e instanceof ConfigError &&
        new RegExp(
          `^x\\.yaml: parse\\.maxQuarters must be an integer( at least 1)? \\(found ${
            found.replace(".", "\\.")
          }\\)$`,
        ).test(e.message),
      `${value}`,
    );
  }
  assert.throws(
    () => applyOverride(defaultConfig(), "parse.maxQuarters=0"),
    /parse\.maxQuarters must be an integer at least 1 \(found 0\)/,
  );
});

Deno.test("parse.maxQuarters left at its default changes no config hash; set, it does", async () => {
  // quick-drums.yaml's hash before parse.maxQuarters was added.
  const loaded = await loadConfig("quick-drums.yaml");
  assert.equal(loaded.hash, "249cdcda893652c6");
  loaded.config.parse.maxQuarters = 100;
  assert.notEqual(configHash(loaded.config), "249cdcda893652c6");
});

Deno.test("dataset.split and vocab.minCount left at their defaults change no config hash; set, they do", async () => {
  const quick = await loadConfig("quick.yaml");
  assert.equal(quick.config.dataset.split, "");
  assert.equal(quick.config.vocab.minCount, 1);
  assert.equal(quick.hash, "fe99352e5a2f444e");
  const drums = await loadConfig("quick-drums.yaml", ["dataset.split=", "vocab.minCount=1"]);
  assert.equal(drums.hash, "249cdcda893652c6", "written at their defaults, they are left out too");
  const split = await loadConfig("quick.yaml", ["dataset.split=info.csv"]);
  const minCount = await loadConfig("quick.yaml", ["vocab.minCount=2"]);
  assert.notEqual(split.hash, quick.hash);
  assert.notEqual(minCount.hash, quick.hash);
  assert.notEqual(split.hash, minCount.hash);
});

Deno.test("vocab.minCount: an integer at least 1, named in one sentence when it is not", () => {
  assert.equal(resolveConfig({ vocab: { minCount: 3 } }, "x.yaml").vocab.minCount, 3);
  for (const [value, found] of [[0, "0"], [-1, "-1"], [1.5, "1.5"], ["two", '"two"']] as const) {
    assert.throws(
      () => resolveConfig({ vocab: { minCount: value } }, "x.yaml"),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.startsWith("x.yaml: vocab.minCount must be an integer") &&
        e.message.endsWith(`(found ${found})`),
      `${value}`,
    );
  }
  assert.throws(
    () => applyOverride(defaultConfig(), "vocab.minCount=0"),
    /--set: vocab\.minCount must be an integer at least 1 \(found 0\)/,
  );
});

Deno.test("dataset.split: an optional path, empty (or left blank) for none, never a number", () => {
  assert.equal(resolveConfig({ dataset: { split: null } }, "t.yaml").dataset.split, "");
  assert.equal(
    resolveConfig({ dataset: { split: "info.csv" } }, "t.yaml").dataset.split,
    "info.csv",
  );
  assert.throws(
    () => resolveConfig({ dataset: { split: 3 } }, "t.yaml"),
    /t\.yaml: dataset\.split must be a string \("" for none\) \(found 3\)/,
  );
});

Deno.test("the sequence network's, the groove recipe's and the humanizer's keys refuse wrong values in one sentence", () => {
  const cases: [string, RegExp][] = [
    ["train.network=gru", /train\.network must be one of tutorial, sequence, transformer/],
    ["render.tempo=slow", /render\.tempo must be one of fixed, primer/],
    ["train.blocks=0", /train\.blocks must be an integer between 1 and 32/],
    ["train.heads=0", /train\.heads must be an integer between 1 and 64/],
    ["train.width=0.5", /train\.width must be an integer \(found 0\.5\)/],
    ["train.embedding=0", /train\.embedding must be an integer between 1 and 1024/],
    ["train.lookbackBars=9", /train\.lookbackBars must be an integer between 0 and 8/],
    ["train.cropLength=1", /train\.cropLength must be an integer between 2 and 4096/],
    ["train.weightDecay=-1", /train\.weightDecay must be a number between 0 and 1/],
    ["train.schedule=step", /train\.schedule must be one of constant, cosine/],
    ["generate.bars=-1", /generate\.bars must be an integer between 0 and 256/],
    ["generate.primeBars=0", /generate\.primeBars must be an integer between 1 and 64/],
    ["humanize.epochs=-1", /humanize\.epochs must be an integer between 0 and 1000/],
    ["humanize.hidden=0", /humanize\.hidden must be an integer between 1 and 4096/],
    ["humanize.context=-2", /humanize\.context must be an integer between 0 and 256/],
    ["humanize.dropout=0.95", /humanize\.dropout must be a number between 0 and 0\.9/],
    ["humanize.learningRate=0", /humanize\.learningRate must be a number between/],
    ["humanize.batchSize=0", /humanize\.batchSize must be an integer between 1 and 65536/],
    ["humanize.seed=-1", /humanize\.seed must be an integer/],
    ["humanize.temperature=11", /humanize\.temperature must be a number between 0 and 10/],
    ["humanize.style=2", /humanize\.style must be/],
    ["generate.style=3", /generate\.style must be/],
  ];
  for (const [override, message] of cases) {
    const config = resolveConfig({}, "x.yaml");
    assert.throws(() => applyOverride(config, override, "x.yaml"), message, override);
  }
});
