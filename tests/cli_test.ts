/**
 * The CLI as a user meets it: bad input gets one line naming the file or key, exit status 2 for
 * usage and config errors, and no stack trace.
 */
import assert from "node:assert/strict";
import { LocalStore } from "../store/store.ts";
import { assertOneLine, pipeline, tempConfig } from "./_helpers.ts";

Deno.test("cli: an unknown config key gets one line naming it and the closest key, exit 2", async () => {
  const path = await tempConfig("train:\n  epoch: 3\n");
  const r = await pipeline("--config", path);
  assert.equal(r.code, 2);
  assertOneLine(
    r.stderr,
    new RegExp(`^error: ${path}: unknown key train\\.epoch \\(did you mean train\\.epochs\\?\\)$`),
  );
});

Deno.test("cli: a value out of range gets one line naming the key, exit 2", async () => {
  const path = await tempConfig("train:\n  epochs: -3\n");
  const r = await pipeline("--config", path);
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, /train\.epochs must be an integer at least 1 \(found -3\)/);
});

Deno.test("cli: a missing config file and an unreadable one each get one line, exit 2", async () => {
  const missing = await pipeline("--config", "no-such-config.yaml");
  assert.equal(missing.code, 2);
  assertOneLine(missing.stderr, /Cannot find config no-such-config\.yaml/);
  const garbled = await pipeline("--config", await tempConfig("train: [unclosed\n"));
  assert.equal(garbled.code, 2);
  assertOneLine(garbled.stderr, /^error: Cannot parse config /);
});

Deno.test("cli: a missing dataset folder stops the run with one line naming dataset.dir", async () => {
  const store = await Deno.makeTempDir();
  const r = await pipeline(
    "--config",
    "quick.yaml",
    "--set",
    "dataset.dir=/no/such/dir",
    "--store",
    store,
  );
  assert.equal(r.code, 1);
  assertOneLine(r.stderr, /dataset\.dir \/no\/such\/dir does not exist/);
});

Deno.test("cli: a sample larger than the dataset stops the run and keeps the scan in the store", async () => {
  const store = await Deno.makeTempDir();
  const r = await pipeline(
    "--config",
    "quick.yaml",
    "--set",
    "sample.count=5000",
    "--store",
    store,
    "--quiet",
  );
  assert.equal(r.code, 1);
  assertOneLine(r.stderr, /sample\.count is 5000 but the dataset has only 1150 MIDI files/);
  const status = await pipeline(
    "status",
    "--config",
    "quick.yaml",
    "--set",
    "sample.count=5000",
    "--store",
    store,
    "--json",
  );
  const stages = JSON.parse(status.stdout).stages as { stage: string; state: string }[];
  assert.equal(stages.find((s) => s.stage === "scan")?.state, "cached");
});

Deno.test("cli: unknown flags, commands and stages are usage errors, exit 2", async () => {
  assertOneLine((await pipeline("--confg", "quick.yaml")).stderr, /Unknown option '--confg'/);
  const r = await pipeline("--config", "quick.yaml", "--until", "trian");
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, /--until trian: no such stage/);
  assert.equal((await pipeline("frobnicate")).code, 2);
});

Deno.test("cli: a flag without its value, extra arguments and an unknown run hash each get one line, exit 2", async () => {
  const noValue = await pipeline("--config");
  assert.equal(noValue.code, 2);
  assertOneLine(noValue.stderr, /^error: --config needs a value/);
  const extra = await pipeline("status", "--config", "quick.yaml", "surplus");
  assert.equal(extra.code, 2);
  assertOneLine(extra.stderr, /status takes no arguments, but got: surplus/);
  const store = await Deno.makeTempDir();
  await new LocalStore(store).init();
  const unknown = await pipeline("reproduce", "ffff", "--store", store);
  assert.equal(unknown.code, 2);
  assertOneLine(
    unknown.stderr,
    new RegExp(`no recorded run has a config hash starting ffff in ${store}`),
  );
});
