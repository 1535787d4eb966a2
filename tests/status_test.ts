/**
 * `status` names why each stage would run, for every reason there is: never run, a config key,
 * an input, code, an environment fact, a dataset file, outputs gone from the store, and work in
 * progress an interrupted run left. It runs nothing.
 */
import assert from "node:assert/strict";
import { configHash, resolveConfig } from "../core/config.ts";
import { defineStage, type Stage } from "../core/stage.ts";
import { pipelineStatus, type StageStatus } from "../core/status.ts";
import { Store } from "../core/store.ts";
import { a, b, c, calls, project, run, STAGES } from "./_fake_dag.ts";

async function status(
  root: string,
  store: Store,
  raw: Record<string, unknown> = {},
  stages: Stage[] = STAGES,
): Promise<Record<string, StageStatus>> {
  const config = resolveConfig({ dataset: { dir: `${root}/data` }, ...raw }, "test.yaml");
  calls.length = 0;
  const result = await pipelineStatus({
    stages,
    loaded: { config, path: "test.yaml", hash: configHash(config) },
    store,
    root,
  });
  assert.deepEqual(calls, [], "status runs nothing");
  return Object.fromEntries(result.map((s) => [s.stage, s]));
}

const reasons = (s: StageStatus | undefined) => s?.reasons.join("; ") ?? "";

Deno.test("status: a stage never run, and the stages waiting on it", async () => {
  const root = await project();
  const s = await status(root, new Store(`${root}/store`));
  assert.equal(s.a!.state, "stale");
  assert.equal(reasons(s.a), "never run");
  assert.equal(s.b!.state, "waiting");
  assert.match(reasons(s.b), /waits on a/);
});

Deno.test("status: everything cached after a run", async () => {
  const root = await project();
  const store = new Store(`${root}/store`);
  await run(root, store);
  const s = await status(root, store);
  for (const name of ["a", "b", "c"]) assert.equal(s[name]!.state, "cached", name);
});

Deno.test("status: a config key, with its old and new value", async () => {
  const root = await project();
  const store = new Store(`${root}/store`);
  await run(root, store);
  const s = await status(root, store, { generate: { length: 7 } });
  assert.equal(s.b!.state, "cached");
  assert.equal(s.c!.state, "stale");
  assert.match(reasons(s.c), /config generate\.length: 500 → 7/);
});

Deno.test("status: an edited dataset file by name, and the input it changes downstream", async () => {
  const root = await project();
  const store = new Store(`${root}/store`);
  await run(root, store);
  await Deno.writeTextFile(`${root}/data/one.txt`, "4");
  const s = await status(root, store);
  assert.match(reasons(s.a), /dataset files changed: 1 touched or edited \(one\.txt\)/);
  assert.equal(s.b!.state, "waiting");
  // Once a has run with the new file, b's input has changed.
  await run(root, store, {}, undefined, { until: "a" });
  assert.match(reasons((await status(root, store)).b), /input a\/parity\.txt changed/);
});

Deno.test("status: code edited in a stage's module", async () => {
  const root = await project();
  const store = new Store(`${root}/store`);
  await run(root, store);
  await Deno.writeTextFile(`${root}/stages/b.ts`, "// b v2\n");
  assert.match(reasons((await status(root, store)).b), /code changed \(stages\/b\.ts/);
});

Deno.test("status: an environment fact, with its old and new value", async () => {
  const root = await project();
  const store = new Store(`${root}/store`);
  let backend = "wasm";
  const env = defineStage({ ...c, environment: () => Promise.resolve({ backend }) });
  const stages = [a, b, env] as Stage[];
  await run(root, store, {}, undefined, { stages });
  backend = "cpu";
  assert.match(
    reasons((await status(root, store, {}, stages)).c),
    /environment backend: "wasm" → "cpu"/,
  );
});

Deno.test("status: outputs missing from the store, and work in progress to resume", async () => {
  const root = await project();
  const store = new Store(`${root}/store`);
  const { record } = await run(root, store);
  const digest = record.stages.c!.outputs["final.txt"]!;
  await Deno.remove(store.objectPath(digest));
  const s = await status(root, store);
  assert.equal(s.c!.state, "stale");
  assert.equal(reasons(s.c), "outputs missing from the store");
  await store.resumeState(s.c!.key!).save({ "state.json": new Uint8Array([1]) });
  assert.match(
    reasons((await status(root, store)).c),
    /an interrupted run left work in progress: the next run resumes it/,
  );
});
