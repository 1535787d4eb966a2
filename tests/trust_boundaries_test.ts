/**
 * What a record, a remote entry or a careless folder choice can make the pipeline do to files it
 * does not own. Each case once deleted, wrote or read outside the store: a planted run record
 * whose config hash is a path made gc delete a folder beside the store; a dataset inside the
 * store was removed by gc; a store inside the dataset was scanned as training data; `--out`
 * inside the store broke `verify` and `gc`; a remote key entry whose digest is a path failed
 * every client's run of that config.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { GROOVE, pipeline } from "./_helpers.ts";
import { connectRemote } from "../remote/nats/connect.ts";
import type { StageKey } from "../core/hash.ts";
import { type NatsSetup, skipWithoutNats, startNats } from "./_nats.ts";
import { PERMISSIONS } from "../cli/permissions.ts";

const UNTIL_SCAN = ["--config", "quick.yaml", "--until", "scan"];

/** A store in a folder of its own, with `victim/` beside it holding a file someone cares about. */
async function storeBesideVictim() {
  const parent = await Deno.makeTempDir();
  const store = `${parent}/store`;
  const victim = `${parent}/victim`;
  await Deno.mkdir(victim);
  await Deno.writeTextFile(`${victim}/thesis.txt`, "years of work");
  return { parent, store, victim };
}

/** A small dataset: four Groove files copied into a folder of its own. */
async function smallDataset(): Promise<string> {
  const dir = await Deno.makeTempDir();
  const files = [...Deno.readDirSync(`${GROOVE}/drummer1/session1`)]
    .filter((e) => e.name.endsWith(".mid")).map((e) => e.name).sort().slice(0, 4);
  for (const f of files) await Deno.copyFile(`${GROOVE}/drummer1/session1/${f}`, `${dir}/${f}`);
  return dir;
}

/**
 * A run of quick.yaml up to scan on `store`, recorded as its config's latest run (a run cut by
 * --until is kept only in the history); its config hash and record.
 */
async function scanRun(store: string) {
  const r = await pipeline(...UNTIL_SCAN, "--store", store);
  assert.equal(r.code, 0, r.stderr);
  const hash = /config hash ([0-9a-f]{16})/.exec(r.stdout)![1]!;
  const [file] = [...Deno.readDirSync(`${store}/runs/${hash}`)].map((e) => e.name)
    .filter((n) => n.endsWith(".json"));
  const text = await Deno.readTextFile(`${store}/runs/${hash}/${file}`);
  await Deno.writeTextFile(`${store}/runs/${hash}.json`, text);
  return { hash, record: JSON.parse(text), text };
}

/** Every path under `dir` with its size, to show nothing there changed. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(rel ? `${dir}/${rel}` : dir)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(path);
      else out.push(`${path} ${Deno.lstatSync(`${dir}/${path}`).size}`);
    }
  };
  walk("");
  return out.sort();
}

Deno.test("records: a run record whose configHash is a path is skipped by gc, runs and compare", async () => {
  const { parent, store, victim } = await storeBesideVictim();
  const { hash, record } = await scanRun(store);
  // Planted by a teammate, or by anyone who can write to the shared remote's runs bucket.
  const planted = { ...record, configHash: "../../victim", finishedAt: "2001-01-01T00:00:00.000Z" };
  await Deno.writeTextFile(`${store}/runs/0000000000000000.json`, JSON.stringify(planted));
  const before = snapshot(parent).filter((p) => !p.startsWith("store/"));

  const gc = await pipeline("gc", "--keep-last", "1", "--store", store);
  assert.equal(await Deno.readTextFile(`${victim}/thesis.txt`), "years of work");
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(
    gc.stderr,
    /skipped .*0000000000000000\.json: .*configHash "\.\.\/\.\.\/victim" is not a config hash/,
  );

  const runs = await pipeline("runs", "--store", store);
  assert.equal(runs.code, 0, runs.stderr);
  assert.doesNotMatch(runs.stdout, /victim/);
  assert.match(runs.stderr, /skipped .*0000000000000000\.json/);

  const compare = await pipeline("compare", "../../", hash, "--store", store);
  assert.equal(compare.code, 2);
  assert.match(compare.stderr, /^error: "\.\.\/\.\.\/" is not a config hash/m);
  assert.deepEqual(snapshot(parent).filter((p) => !p.startsWith("store/")), before);
});

Deno.test("records: a record filed under another config's name is skipped, not acted on", async () => {
  const { store } = await storeBesideVictim();
  const { text } = await scanRun(store);
  await Deno.writeTextFile(`${store}/runs/ffffffffffffffff.json`, text);
  const runs = await pipeline("runs", "--json", "--store", store);
  assert.equal(runs.code, 0, runs.stderr);
  assert.match(runs.stderr, /ffffffffffffffff\.json: .*not its file's name/);
  assert.equal(JSON.parse(runs.stdout).length, 1);
});

Deno.test("places: a dataset inside the store is refused, and gc never removes a folder it did not name", async () => {
  const store = await Deno.makeTempDir();
  const first = await pipeline(...UNTIL_SCAN, "--store", store);
  assert.equal(first.code, 0, first.stderr);
  for (const dir of ["out", "partial"]) {
    const data = `${store}/${dir}/mydata`;
    await Deno.mkdir(data, { recursive: true });
    await Deno.copyFile(`${GROOVE}/drummer1/session1/102_funk_95_beat_4-4.mid`, `${data}/a.mid`);
    const r = await pipeline(...UNTIL_SCAN, "--store", store, "--set", `dataset.dir=${data}`);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: .*the store .* and dataset\.dir .*mydata overlap: the dataset is inside the store/m,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  // A folder put there by hand (not a config hash or stage key) is not the store's to remove.
  const gc = await pipeline("gc", "--store", store);
  assert.equal(gc.code, 0, gc.stderr);
  for (const dir of ["out", "partial"]) {
    assert.ok(Deno.statSync(`${store}/${dir}/mydata/a.mid`).isFile);
  }
});

Deno.test("places: a store inside the dataset is refused before scan can take its output for data", async () => {
  const dataset = await smallDataset();
  const before = snapshot(dataset);
  for (const store of [`${dataset}/s`, dataset]) {
    const r = await pipeline(...UNTIL_SCAN, "--store", store, "--set", `dataset.dir=${dataset}`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: .*the store .* and dataset\.dir .* (overlap: the store is inside the dataset|are the same folder)/m,
    );
  }
  assert.deepEqual(snapshot(dataset), before, "nothing written into the dataset");
});

Deno.test("places: a symlink does not hide an overlap", async () => {
  const dataset = await smallDataset();
  const link = `${await Deno.makeTempDir()}/link`;
  await Deno.symlink(dataset, link);
  const r = await pipeline(
    ...UNTIL_SCAN,
    "--store",
    `${link}/s`,
    "--set",
    `dataset.dir=${dataset}`,
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /overlap: the store is inside the dataset/);
});

Deno.test("places: --out inside the store or the dataset is refused before any stage runs", async () => {
  const store = await Deno.makeTempDir();
  const first = await pipeline(...UNTIL_SCAN, "--store", store);
  assert.equal(first.code, 0, first.stderr);
  const dataset = await smallDataset();
  const before = snapshot(store);
  for (
    const [out, where] of [
      [`${store}/objects`, "the store"],
      [store, "the store"],
      [`${dataset}/exports`, "dataset.dir"],
    ] as const
  ) {
    const r = await pipeline(
      ...UNTIL_SCAN,
      "--store",
      store,
      "--set",
      `dataset.dir=${dataset}`,
      "--out",
      out,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: --out ${out} is inside ${where}`, "m"));
  }
  assert.deepEqual(snapshot(store), before, "nothing written into the store");
  const verify = await pipeline("verify", "--store", store);
  assert.equal(verify.code, 0, verify.stderr);
  // A folder beside them is fine.
  const ok = await pipeline(
    ...UNTIL_SCAN,
    "--store",
    store,
    "--out",
    `${dirname(store)}/exports-${crypto.randomUUID()}`,
  );
  assert.equal(ok.code, 0, ok.stderr);
});

const skipped = skipWithoutNats("trust boundary tests of the remote");

Deno.test({
  name: "remote: a key entry whose digest is a path is treated as absent, said once, and repaired",
  ignore: skipped,
  fn: async () => {
    const setup: NatsSetup = await startNats();
    const [local, a, b] = [
      await Deno.makeTempDir(),
      await Deno.makeTempDir(),
      await Deno.makeTempDir(),
    ];
    const remote = await connectRemote(setup.url, setup.credentials, { timeoutMs: 3000 });
    try {
      // The scan stage's key, computed on a machine without the remote.
      const { hash, record } = await scanRun(local);
      const key = record.stages.scan.key as StageKey;
      const planted = { stage: "scan", outputs: { "files.json": "../../dev/zero" } };
      assert.deepEqual(
        await remote.putKey(key, planted as never),
        { status: "created" },
      );
      const env = {
        DLM_REMOTE_USER: setup.credentials.user,
        DLM_REMOTE_PASSWORD: setup.credentials.password,
        XDG_CONFIG_HOME: "/nonexistent",
      };
      for (const [store, repaired] of [[a, true], [b, false]] as const) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            ...PERMISSIONS,
            "pipeline.ts",
            ...UNTIL_SCAN,
            "--store",
            store,
            "--remote",
            setup.url,
          ],
          env,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, stderr);
        const warnings = stderr.split("\n").filter((l) => l.includes("is not an entry"));
        assert.equal(warnings.length, repaired ? 1 : 0, stderr);
        if (repaired) {
          assert.match(
            warnings[0]!,
            /stage key [0-9a-f]{12} is not an entry .*digest "\.\.\/\.\.\/dev\/zero" is not a digest/,
          );
          assert.match(stderr, /repaired the remote's entry/);
        }
      }
      // The second machine found the repaired entry: scan was fetched, not computed.
      const [file] = [...Deno.readDirSync(`${b}/runs/${hash}`)].map((e) => e.name)
        .filter((n) => n.endsWith(".json"));
      const second = JSON.parse(await Deno.readTextFile(`${b}/runs/${hash}/${file}`));
      assert.equal(second.stages.scan.cached, true);
      assert.deepEqual(second.stages.scan.outputs, record.stages.scan.outputs);
    } finally {
      await remote.close();
      await setup.close();
    }
  },
});
