/**
 * What `runs`, `show`, `compare`, `reproduce` and `verify` print for a store holding two small
 * runs that differ in one key, as a user reads them.
 */
import assert from "node:assert/strict";
import { LocalStore } from "../store/store.ts";
import { pipeline, SMALL_RUN } from "./_helpers.ts";

const store = await Deno.makeTempDir({ prefix: "commands-" });
const hashes: string[] = [];
for (const length of [16, 24]) {
  const r = await pipeline(...SMALL_RUN, "--set", `generate.length=${length}`, "--store", store);
  assert.equal(r.code, 0, r.stderr);
  hashes.push(/config hash ([0-9a-f]{16})/.exec(r.stdout)![1]!);
}
const [first, second] = hashes as [string, string];

Deno.test("runs: a table of both runs, newest first, and the same as JSON", async () => {
  const r = await pipeline("runs", "--store", store);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  // Only the one setting that differs gets a column; then the losses, statistics and duration.
  assert.match(
    lines[0]!,
    /^config hash\s+finished\s+status\s+config\s+generate\.length\s+epochs\s+loss\s+val loss\s+distinct\s+top share\s+JS dist\s+took$/,
  );
  assert.equal(lines.length, 3);
  assert.match(
    lines[1]!,
    new RegExp(
      `^${second}\\s+\\d{4}-\\d\\d-\\d\\d .* ok\\s+.*quick\\.yaml\\s+24\\s+1\\s+\\d\\.\\d{4}\\s+\\d\\.\\d{4}\\s+\\d+\\s+0\\.\\d{4}\\s+0\\.\\d{4}\\s+\\S+$`,
    ),
  );
  assert.match(lines[2]!, new RegExp(`^${first}\\s.*\\s16\\s`));
  const last = await pipeline("runs", "--last", "1", "--store", store);
  assert.equal(last.stdout.trim().split("\n").length, 2, "--last 1: the header and one run");
  const json = JSON.parse((await pipeline("runs", "--store", store, "--json")).stdout);
  assert.deepEqual(json.map((x: { configHash: string }) => x.configHash), [second, first]);
  assert.equal(typeof json[0].tokens, "number");
});

Deno.test("show: one run's stages with keys and outputs, and its metrics", async () => {
  const r = await pipeline("show", first.slice(0, 6), "--store", store);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^run ${first} · .*quick\\.yaml · ok · `));
  for (const stage of ["scan", "sample200", "parse", "vocab", "window", "train", "generate"]) {
    assert.match(r.stdout, new RegExp(`\\n  ${stage}\\s+[0-9a-f]{12}  (ran in|cached)`), stage);
  }
  assert.match(r.stdout, /\n {4}generated\.mid\s+[0-9a-f]{16}/);
  assert.match(r.stdout, /\n {2}parse\.tokens = \d+/);
  assert.match(r.stdout, /\n {2}train\.loss = \[/);
});

Deno.test("compare: the key that differs, both values, and the figures side by side", async () => {
  const r = await pipeline("compare", first, second, "--store", store);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trimEnd().split("\n");
  assert.match(rows[0]!, new RegExp(`^\\s+${first}\\s+${second}$`));
  assert.match(r.stdout, /\ngenerate\.length\s+16\s+24\n/);
  assert.doesNotMatch(r.stdout, /\ntrain\.epochs/, "equal keys are left out");
  assert.match(r.stdout, /\ntokens\s+(\d+)\s+\1\n/);
  assert.match(r.stdout, /\nloss epoch 1\s+(\d\.\d{4})\s+\1/);
});

Deno.test("gc: frees a deleted run's objects, keeps what the kept run needs, refuses while a run is on", async () => {
  const count = async () => {
    let n = 0;
    for await (const _ of new LocalStore(store).objects()) n++;
    return n;
  };
  await Deno.remove(`${store}/runs/${second}.json`);
  await Deno.remove(`${store}/runs/${second}`, { recursive: true });
  const before = await count();
  const dry = await pipeline("gc", "--dry-run", "--store", store);
  assert.equal(dry.code, 0, dry.stderr);
  const freed = Number(/would remove 0 runs, (\d+) objects/.exec(dry.stdout)?.[1]);
  assert.ok(freed > 0, dry.stdout);
  assert.equal(await count(), before, "a dry run removes nothing");

  const inUse = await new LocalStore(store).use();
  const busy = await pipeline("gc", "--store", store);
  inUse.release();
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /a run is using the store .*; run gc again when it has finished/);

  const gc = await pipeline("gc", "--store", store);
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(
    gc.stdout,
    new RegExp(`^gc removed 0 runs, ${freed} objects \\(\\d+\\.\\d [KM]iB\\)`),
  );
  assert.equal(await count(), before - freed);
  // The compare page written above showed the deleted run: it goes too.
  assert.match(gc.stdout, /, 1 compare pages$/m);
  await assert.rejects(Deno.stat(`${store}/compare/${first}-${second}`), Deno.errors.NotFound);
  // The kept run is whole: rerunning it executes nothing.
  const again = await pipeline(...SMALL_RUN, "--set", "generate.length=16", "--store", store);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /everything cached/);
});

Deno.test("gc --keep-last 0 removes every run record and leaves an empty cache", async () => {
  const other = await Deno.makeTempDir();
  assert.equal((await pipeline(...SMALL_RUN, "--until", "vocab", "--store", other)).code, 0);
  const gc = await pipeline("gc", "--keep-last", "0", "--store", other);
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /^gc removed 1 run \([0-9a-f]{16}\), [1-9]\d* objects/);
  for (const dir of ["objects", "keys", "runs", "out", "partial"]) {
    assert.deepEqual([...Deno.readDirSync(`${other}/${dir}`)], [], dir);
  }
});

Deno.test("reproduce: a recorded run rebuilt from nothing matches every digest, exit 0", async () => {
  const r = await pipeline("reproduce", first, "--store", store);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / {2}same {2}render\/generated\.mid /);
  assert.match(r.stdout, /reproduced: every output digest matches/);
});

Deno.test("reproduce and verify: a tampered record or object is reported, exit 1", async () => {
  const recordPath = `${store}/runs/${first}.json`;
  const record = JSON.parse(await Deno.readTextFile(recordPath));
  const real = record.stages.render.outputs["generated.mid"] as string;
  record.stages.render.outputs["generated.mid"] = "0".repeat(64);
  await Deno.writeTextFile(recordPath, JSON.stringify(record));
  const r = await pipeline("reproduce", first, "--store", store);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /DIFFERENT {2}render\/generated\.mid {2}0{16} → /);
  assert.match(r.stdout, /1 outputs differ from the recorded run; the fresh store is kept at /);

  const object = `${store}/objects/${real.slice(0, 2)}/${real.slice(2)}`;
  await Deno.chmod(object, 0o644);
  await Deno.writeTextFile(object, "not what was stored");
  const v = await pipeline("verify", "--store", store);
  assert.equal(v.code, 1);
  assert.match(v.stdout, new RegExp(`1 corrupt \\(removed: ${real}\\)`));
});
