/**
 * The runner's caching rules on a small DAG of fake stages in a temp project: what reruns when
 * config, code, inputs or data change, early cutoff, failures and --force.
 */
import assert from "node:assert/strict";
import { configHash, resolveConfig } from "../core/config.ts";
import type { StageRecord } from "../core/run_record.ts";
import { defineStage, type Stage } from "../core/stage.ts";
import { LocalStore } from "../store/store.ts";
import { a, b, c, project, run } from "./_fake_dag.ts";

Deno.test("runner: a second run executes no stage and records every stage as cached", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  assert.deepEqual((await run(root, store)).ran, ["a", "b", "c"]);
  const { record, ran } = await run(root, store);
  assert.deepEqual(ran, []);
  assert.ok(Object.values(record.stages).every((s) => s.cached));
  // The cached record keeps what the executing run measured.
  assert.equal(record.metrics.a?.sum, 3);
});

Deno.test("runner: changing a config key reruns only the stages that read it and those after", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  await run(root, store);
  assert.deepEqual((await run(root, store, { generate: { length: 7 } })).ran, ["c"]);
  assert.deepEqual((await run(root, store, { sample: { count: 3 } })).ran, ["b", "c"]);
});

Deno.test("runner: a rerun stage whose outputs are byte-identical leaves later stages cached", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  await run(root, store);
  // 1 + 2 = 3 → 3 + 2 = 5: the sum changes but its parity does not.
  await Deno.writeTextFile(`${root}/data/one.txt`, "3");
  assert.deepEqual((await run(root, store)).ran, ["a"]);
  // 5 → 6: parity changes, so b and c rerun.
  await Deno.writeTextFile(`${root}/data/one.txt`, "4");
  assert.deepEqual((await run(root, store)).ran, ["a", "b", "c"]);
});

Deno.test("runner: editing a stage's code reruns that stage; a comment or a reformat reruns nothing", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  await run(root, store);
  await Deno.writeTextFile(`${root}/stages/b.ts`, "// b, said otherwise\nexport const version=1\n");
  assert.deepEqual((await run(root, store)).ran, []);
  await Deno.writeTextFile(`${root}/stages/b.ts`, "export const version = 2; // b\n");
  assert.deepEqual((await run(root, store)).ran, ["b"]);
});

Deno.test("runner: code edited while a run is under way is keyed as the code the run loaded", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  // a edits c's file while the run is on a: c still runs the code loaded when the run began, so
  // its outputs must be keyed by that code, and the next run must see c's code as changed.
  const editing = defineStage({
    ...a,
    async run(inputs, config, ctx) {
      await Deno.writeTextFile(`${root}/stages/c.ts`, "export const version = 2; // c\n");
      return await a.run(inputs, config, ctx);
    },
  }) as Stage;
  const first = await run(root, store, {}, undefined, { stages: [editing, b, c] as Stage[] });
  assert.deepEqual(first.ran, ["a", "b", "c"]);
  assert.deepEqual((await run(root, store)).ran, ["c"]);
});

Deno.test("runner: a failing stage leaves no output and the next run resumes after the last good stage", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  await assert.rejects(
    run(root, store, { generate: { length: 13 } }),
    /generate.length 13 is unlucky/,
  );
  const tmp = [...Deno.readDirSync(`${store.root}/tmp`)];
  assert.equal(tmp.length, 0, "no temp files left behind");
  assert.equal(
    await store.getRun(
      configHash(
        resolveConfig({ dataset: { dir: `${root}/data` }, generate: { length: 13 } }, "t"),
      ),
    ),
    undefined,
  );
  // The stages before the failure are cached; only c runs once the config is fixed.
  assert.deepEqual((await run(root, store, { generate: { length: 14 } })).ran, ["c"]);
});

Deno.test("runner: --force reruns a cached stage", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  await run(root, store);
  assert.deepEqual((await run(root, store, {}, ["b"])).ran, ["b"]);
});

Deno.test("runner: the run record lists key, cached, seconds and outputs per stage", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const { record } = await run(root, store);
  const saved = await store.getRun(record.configHash);
  assert.ok(saved);
  for (const name of ["a", "b", "c"]) {
    const s: StageRecord = saved.stages[name]!;
    assert.match(s.key, /^[0-9a-f]{64}$/);
    assert.equal(typeof s.cached, "boolean");
    assert.equal(typeof s.seconds, "number");
    for (const digest of Object.values(s.outputs)) assert.ok(await store.has(digest));
  }
});

Deno.test("runner: a run cut short by --until keeps the config's latest full record", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const { record: full } = await run(root, store);
  const { record: partial } = await run(root, store, {}, ["a"], { until: "a" });
  assert.deepEqual(Object.keys(partial.stages), ["a"]);
  const latest = await store.getRun(full.configHash);
  assert.deepEqual(Object.keys(latest!.stages), ["a", "b", "c"]);
  assert.equal((await store.listRuns({ all: true })).length, 2, "both runs are in the history");
});

Deno.test("runner: a corrupted output is a cache miss, and rerunning the stage repairs it", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const { record } = await run(root, store);
  const digest = record.stages.b!.outputs["out.txt"]!;
  await Deno.chmod(store.objectPath(digest), 0o644);
  await Deno.writeTextFile(store.objectPath(digest), "garbage");
  assert.deepEqual((await run(root, store)).ran, ["b"]);
  assert.ok(await store.intact(digest));
  assert.deepEqual((await run(root, store)).ran, []);
});

Deno.test("runner: an interrupt stops the run with exit status 130 and keeps the stages that finished", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const abort = new AbortController();
  const slow = defineStage({
    ...b,
    async run(inputs, config, ctx) {
      abort.abort(); // the user presses Ctrl-C while b runs
      ctx.signal.throwIfAborted();
      return await b.run(inputs, config, ctx);
    },
  });
  await assert.rejects(
    run(root, store, {}, undefined, { signal: abort.signal, stages: [a, slow, c] as Stage[] }),
    (e: Error & { exitCode?: number }) =>
      e.exitCode === 130 && /interrupted during b; completed stages are kept/.test(e.message),
  );
  assert.deepEqual((await run(root, store)).ran, ["b", "c"], "a was kept; the run resumes at b");
});

Deno.test("runner: keys hold the resolved value of settings the environment settles", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const settled = defineStage({
    ...c,
    reads: ["generate", "train"],
    settledByEnvironment: ["train.backend"],
    environment: (config) =>
      Promise.resolve({ backend: config.train.backend === "cpu" ? "cpu" : "wasm" }),
  });
  const stages = [a, b, settled] as Stage[];
  await run(root, store, {}, undefined, { stages });
  // auto resolves to wasm here, so writing wasm changes nothing; cpu does.
  assert.deepEqual(
    (await run(root, store, { train: { backend: "wasm" } }, undefined, { stages })).ran,
    [],
  );
  assert.deepEqual(
    (await run(root, store, { train: { backend: "cpu" } }, undefined, { stages })).ran,
    ["c"],
  );
});

Deno.test("runner: a setting the environment cannot honour is a config error naming the file", async () => {
  const root = await project();
  const picky = defineStage({
    ...c,
    environment: () =>
      Promise.reject(new Error("train.backend: tensorflow needs @tensorflow/tfjs-node")),
  });
  await assert.rejects(
    run(root, new LocalStore(`${root}/store`), {}, undefined, { stages: [a, b, picky] as Stage[] }),
    (e: Error & { exitCode?: number }) =>
      e.exitCode === 2 &&
      e.message === "test.yaml: train.backend: tensorflow needs @tensorflow/tfjs-node",
  );
});
