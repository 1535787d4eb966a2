/**
 * `status` names why each stage would run, for every reason there is: never run, a config key,
 * an input, code, an environment fact, a dataset file, outputs gone from the store, and work in
 * progress an interrupted run left. It runs nothing.
 */
import assert from "node:assert/strict";
import { configHash, resolveConfig } from "../core/config.ts";
import { defineStage, type Stage } from "../core/stage.ts";
import { pipelineStatus, type StageStatus } from "../core/status.ts";
import type { Store } from "../core/storage.ts";
import { LocalStore } from "../store/store.ts";
import { ConfigError } from "../core/errors.ts";
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
  const s = await status(root, new LocalStore(`${root}/store`));
  assert.equal(s.a!.state, "stale");
  assert.equal(reasons(s.a), "never run");
  assert.equal(s.b!.state, "waiting");
  assert.match(reasons(s.b), /waits on a/);
});

Deno.test("status: everything cached after a run", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  await run(root, store);
  const s = await status(root, store);
  for (const name of ["a", "b", "c"]) assert.equal(s[name]!.state, "cached", name);
});

Deno.test("status: a config key, with its old and new value", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  await run(root, store);
  const s = await status(root, store, { generate: { length: 7 } });
  assert.equal(s.b!.state, "cached");
  assert.equal(s.c!.state, "stale");
  assert.match(reasons(s.c), /config generate\.length: 500 → 7/);
});

Deno.test("status: an edited dataset file by name, and the input it changes downstream", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
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
  const store = new LocalStore(`${root}/store`);
  await run(root, store);
  await Deno.writeTextFile(`${root}/stages/b.ts`, "export const version = 2; // b\n");
  assert.match(reasons((await status(root, store)).b), /code changed \(stages\/b\.ts/);
});

Deno.test("status: an environment fact, with its old and new value", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
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
  const store = new LocalStore(`${root}/store`);
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

/** c, reading the file generate.prime names (as generate reads its primer). */
const primed = defineStage({
  ...c,
  files: (config): Record<string, string> =>
    config.generate.prime === "" ? {} : { "generate.prime": config.generate.prime },
  async run({ out }, config, ctx) {
    calls.push("c");
    const primer = new TextDecoder().decode(await ctx.readFile(config.generate.prime));
    return { "final.txt": `${out}!${primer}` };
  },
});
const PRIMED = [a, b, primed] as Stage[];

Deno.test("status: an edited primer file by name; the next run reruns only the stage reading it", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const prime = `${root}/primer.mid`;
  await Deno.writeTextFile(prime, "one");
  const raw = { generate: { prime } };
  const first = await run(root, store, raw, undefined, { stages: PRIMED });
  assert.deepEqual(first.ran, ["a", "b", "c"]);
  assert.equal(first.record.stages.c!.cached, false);
  // Rewriting the same bytes changes nothing: the file enters the key by content.
  await Deno.writeTextFile(prime, "one");
  let s = await status(root, store, raw, PRIMED);
  for (const name of ["a", "b", "c"]) assert.equal(s[name]!.state, "cached", name);
  await Deno.writeTextFile(prime, "two");
  s = await status(root, store, raw, PRIMED);
  assert.equal(s.a!.state, "cached");
  assert.equal(s.b!.state, "cached");
  assert.equal(s.c!.state, "stale");
  assert.equal(reasons(s.c), `file ${prime} changed`);
  const second = await run(root, store, raw, undefined, { stages: PRIMED });
  assert.deepEqual(second.ran, ["c"]);
  const final = await store.get(second.record.stages.c!.outputs["final.txt"]!);
  assert.equal(new TextDecoder().decode(final), "1-200!two");
});

Deno.test("a missing primer file is a config error naming the key and the path, before any stage runs", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const prime = `${root}/nowhere.mid`;
  await assert.rejects(
    () => run(root, store, { generate: { prime } }, undefined, { stages: PRIMED }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message.startsWith(`test.yaml: generate.prime ${prime} does not exist`),
  );
  assert.deepEqual(calls, [], "no stage ran");
});

Deno.test("generate.prime left at its default stays out of the config hash and stage keys", () => {
  const plain = resolveConfig({}, "test.yaml");
  const set = resolveConfig({ generate: { prime: "" } }, "test.yaml");
  assert.equal(configHash(plain), configHash(set));
  assert.notEqual(
    configHash(resolveConfig({ generate: { prime: "x.mid" } }, "t")),
    configHash(plain),
  );
});
