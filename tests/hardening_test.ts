/**
 * What a careless or hostile user can point the pipeline at, end to end through the CLI: folders
 * that are not stores, stray files, full and read-only disks, configs that reach JavaScript
 * internals or ask for the impossible, and two runs of one config at once. Each case once
 * deleted files, crashed with a raw error or did the work twice.
 */
import assert from "node:assert/strict";
import { applyOverride, loadConfig, resolveConfig } from "../core/config.ts";
import { defaultConfig } from "../formats/config_schema.ts";
import { LocalStore, STORE_MARKER } from "../store/store.ts";
import { assertOneLine, pipeline, SMALL_RUN, tempConfig } from "./_helpers.ts";

/** A fast slice of quick.yaml: up to the scan, or a small whole run. */
const UNTIL_SCAN = ["--config", "quick.yaml", "--until", "scan"];
const SMALL = [...SMALL_RUN, "--set", "generate.length=16"];

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

Deno.test("store: a folder that is not a store is refused and nothing in it is touched", async () => {
  // The reproduction from the issue: an old entry under DIR/tmp was deleted.
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/tmp/old`, { recursive: true });
  await Deno.writeTextFile(`${dir}/tmp/old/thesis.txt`, "years of work");
  await Deno.utime(`${dir}/tmp/old`, daysAgo(3), daysAgo(3));
  await Deno.utime(`${dir}/tmp/old/thesis.txt`, daysAgo(3), daysAgo(3));
  const r = await pipeline(...UNTIL_SCAN, "--store", dir);
  assert.equal(r.code, 1);
  assertOneLine(r.stderr, new RegExp(`${dir} is not a pipeline store .*new or empty folder`));
  assert.equal(await Deno.readTextFile(`${dir}/tmp/old/thesis.txt`), "years of work");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["tmp"], "nothing added");
});

Deno.test("store: made only in a missing or empty folder, with a marker naming its format", async () => {
  const parent = await Deno.makeTempDir();
  for (const dir of [`${parent}/new/store`, await Deno.makeTempDir()]) {
    const r = await pipeline(...UNTIL_SCAN, "--store", dir);
    assert.equal(r.code, 0, r.stderr);
    const marker = JSON.parse(await Deno.readTextFile(`${dir}/${STORE_MARKER}`));
    assert.equal(marker.format, "deep-lstm-midi store");
    assert.equal(marker.version, 1);
  }
});

Deno.test("store: a store made before the marker existed is recognised and kept", async () => {
  const dir = await Deno.makeTempDir();
  for (const sub of ["objects", "keys", "runs", "tmp", "out"]) await Deno.mkdir(`${dir}/${sub}`);
  await Deno.writeTextFile(`${dir}/keys/note`, "kept");
  const r = await pipeline(...UNTIL_SCAN, "--store", dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await Deno.stat(`${dir}/${STORE_MARKER}`)).isFile);
  assert.equal(await Deno.readTextFile(`${dir}/keys/note`), "kept");
});

Deno.test("store: only the store's own old temp files are swept; anything else in tmp/ stays", async () => {
  const store = new LocalStore(await Deno.makeTempDir());
  await store.init();
  const own = `${store.root}/tmp/.tmp-${crypto.randomUUID()}`;
  const fresh = `${store.root}/tmp/.tmp-${crypto.randomUUID()}`;
  const foreign = `${store.root}/tmp/notes.txt`;
  const foreignDir = `${store.root}/tmp/old`;
  for (const path of [own, fresh, foreign]) await Deno.writeTextFile(path, "x");
  await Deno.mkdir(foreignDir);
  for (const path of [own, foreign, foreignDir]) await Deno.utime(path, daysAgo(3), daysAgo(3));
  await store.init();
  const left = [...Deno.readDirSync(`${store.root}/tmp`)].map((e) => e.name).sort();
  assert.deepEqual(left, [fresh.split("/").pop()!, "notes.txt", "old"].sort());
});

Deno.test("cli: an empty --store, --out or --config is a usage error, exit 2", async () => {
  for (const flag of ["--store", "--out", "--config"]) {
    const r = await pipeline("--config", "quick.yaml", flag, "");
    assert.equal(r.code, 2, flag);
    assertOneLine(r.stderr, new RegExp(`^error: ${flag} is empty; give it a path`));
  }
});

Deno.test("cli: a file as --store or --out gets one sentence naming it, before any stage runs", async () => {
  const file = await Deno.makeTempFile();
  const store = await pipeline(...UNTIL_SCAN, "--store", file);
  assert.equal(store.code, 1);
  assertOneLine(store.stderr, new RegExp(`The store ${file} is a file, not a folder`));
  const out = await pipeline(...UNTIL_SCAN, "--store", await Deno.makeTempDir(), "--out", file);
  assert.equal(out.code, 2);
  assertOneLine(out.stderr, new RegExp(`--out ${file} is a file, not a folder`));
  assert.doesNotMatch(out.stdout, /▶/, "no stage ran");
});

Deno.test("cli: a stray JSON file in runs/ is skipped with a warning naming it", async () => {
  const store = await Deno.makeTempDir();
  const run = await pipeline(...SMALL, "--store", store);
  assert.equal(run.code, 0, run.stderr);
  const hash = /config hash ([0-9a-f]{16})/.exec(run.stdout)?.[1];
  assert.ok(hash, run.stdout);
  await Deno.writeTextFile(`${store}/runs/x.json`, "{}");
  await Deno.writeTextFile(`${store}/runs/broken.json`, "{ not json");
  // reproduce finds its record as show does (cli/runs.ts's findRun), and would train again.
  for (const args of [["runs"], ["show", hash], ["compare", hash, hash]]) {
    const r = await pipeline(...args, "--store", store);
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(`warning: skipped ${store}/runs/x\\.json: it is not a run record`),
    );
    assert.match(r.stderr, /broken\.json: it is not a run record/);
    assert.doesNotMatch(r.stderr, /localeCompare|\n\s+at /);
  }
});

Deno.test("cli: verify on a folder with no store says so and fails", async () => {
  const missing = `${await Deno.makeTempDir()}/nothing-here`;
  const r = await pipeline("verify", "--store", missing);
  assert.equal(r.code, 1);
  assertOneLine(r.stderr, new RegExp(`There is no store at ${missing}`));
  const runs = await pipeline("runs", "--store", missing);
  assert.equal(runs.code, 1);
  await assert.rejects(Deno.stat(missing), Deno.errors.NotFound, "nothing was created");
});

Deno.test("config: keys that name JavaScript internals are unknown keys, not lookups", async () => {
  for (const key of ["constructor.keys", "train.constructor", "train.toString", "sample.valueOf"]) {
    const config = defaultConfig();
    assert.throws(
      () => applyOverride(config, `${key}=1`),
      new RegExp(`--set: unknown key ${key.replace(".", "\\.")}`),
    );
  }
  assert.equal(typeof Object.keys, "function", "Object.keys is untouched");
  for (
    const raw of [
      { constructor: { keys: 1 } },
      { train: { constructor: 1 } },
      { sample: { valueOf: 1 } },
      JSON.parse('{"__proto__": {"polluted": 1}}'),
    ]
  ) {
    assert.throws(() => resolveConfig(raw, "bad.yaml"), /bad\.yaml: unknown (section|key)/);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const r = await pipeline("--config", "quick.yaml", "--set", "constructor.keys=1");
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, /--set: unknown key constructor\.keys/);
});

Deno.test("config: an empty config file is an error naming it, not the hours-long recipe", async () => {
  for (const text of ["", "# only a comment\n", "{}\n"]) {
    const path = await tempConfig(text);
    await assert.rejects(loadConfig(path), new RegExp(`${path} sets nothing`));
  }
  const r = await pipeline("--config", await tempConfig(""), "--store", await Deno.makeTempDir());
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, /sets nothing; write the sections you mean/);
});

Deno.test("config: a model too big for the machine names the key before any stage runs", async () => {
  const store = await Deno.makeTempDir();
  for (
    const [set, key] of [
      ["train.lstmUnits=1000000", /train\.lstmUnits/],
      ["train.lstmUnits=20000", /lower train\.lstmUnits or train\.lstmLayers/],
    ] as const
  ) {
    const r = await pipeline("--config", "quick.yaml", "--set", set, "--store", store);
    assert.equal(r.code, 2, r.stderr);
    assertOneLine(r.stderr, key);
    assert.doesNotMatch(r.stdout, /▶/, "no stage ran");
  }
});

Deno.test("runs: two runs of one config on one store compute each stage once", async () => {
  const store = await Deno.makeTempDir();
  const [a, b] = await Promise.all([
    pipeline(...SMALL, "--store", store),
    pipeline(...SMALL, "--store", store),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(a.stdout + b.stdout, /waiting for another run computing it \(pid \d+ on /);
  const history = await new LocalStore(store).listRuns({ all: true });
  assert.equal(history.length, 2);
  for (const stage of ["scan", "parse", "train", "generate", "render"]) {
    const executed = history.filter((r) => r.stages[stage]?.cached === false).length;
    assert.equal(executed, 1, `${stage} executed once`);
  }
  assert.deepEqual(
    history[0]!.stages.render!.outputs,
    history[1]!.stages.render!.outputs,
    "both runs end with the same MIDI",
  );
  const locks = [...Deno.readDirSync(`${store}/locks`)].map((e) => e.name);
  assert.deepEqual(locks, ["store.lock"], "no stage lock left behind");
});

/** A small tmpfs we can fill or make read-only; tests that need one say why when there is none. */
async function mountTmpfs(size: string): Promise<string | undefined> {
  const dir = await Deno.makeTempDir();
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stderr: "piped",
  }).output().catch(() => undefined);
  return out?.success ? dir : undefined;
}

async function mountOptions(dir: string, options: string) {
  const out = await new Deno.Command("mount", { args: ["-o", `remount,${options}`, dir] })
    .output();
  assert.ok(out.success, `remount ${options}`);
}

async function unmount(dir: string) {
  await new Deno.Command("umount", { args: [dir] }).output();
}

const canMount = await (async () => {
  const dir = await mountTmpfs("64k");
  if (dir !== undefined) await unmount(dir);
  return dir !== undefined;
})();
const NO_MOUNT = "needs `mount -t tmpfs` (root): skipped";

Deno.test({
  name: "disk: a full disk stops the run with one sentence naming the stage and the store",
  ignore: !canMount,
  async fn() {
    const disk = (await mountTmpfs("400k"))!;
    try {
      const store = `${disk}/store`;
      const r = await pipeline(...SMALL, "--store", store);
      assert.equal(r.code, 1);
      assertOneLine(
        r.stderr,
        new RegExp(`^error: \\w+: the disk is full at the store ${store}; free some space`),
      );
      assert.deepEqual([...Deno.readDirSync(`${store}/tmp`)], [], "no temp file left");
      const verify = await pipeline("verify", "--store", store);
      assert.match(verify.stdout, / 0 corrupt/);
      // Room made: the same command finishes, reusing what completed before the disk filled.
      await mountOptions(disk, "size=16m");
      const again = await pipeline(...SMALL, "--store", store);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /✔ scan: cached/);
    } finally {
      await unmount(disk);
    }
  },
});

Deno.test({
  name: "disk: a store that cannot be written is found before any stage runs",
  ignore: !canMount,
  async fn() {
    const disk = (await mountTmpfs("1m"))!;
    try {
      const store = `${disk}/store`;
      await new LocalStore(store).init();
      await mountOptions(disk, "ro");
      const r = await pipeline(...SMALL, "--store", store);
      assert.equal(r.code, 1);
      assertOneLine(
        r.stderr,
        new RegExp(`Cannot write to the store ${store}: the file system is read-only`),
      );
      assert.doesNotMatch(r.stdout, /▶/, "no stage ran");
    } finally {
      await unmount(disk);
    }
  },
});

if (!canMount) console.error(`tests/hardening_test.ts: disk tests ${NO_MOUNT}`);
