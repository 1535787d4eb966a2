/**
 * A small DAG of fake stages in a temp project, for the runner's and `status`'s tests: a sums the
 * dataset (and passes only its parity on, for early cutoff), b combines it with sample.count, c
 * finishes with generate.length (and fails on 13). Each stage has a file under stages/ in the
 * temp project, so editing it changes the stage's code digest.
 *
 * @module
 */
import { configHash, resolveConfig } from "../core/config.ts";
import { runPipeline } from "../core/runner.ts";
import { defineStage, input, type Stage, StageInputError } from "../core/stage.ts";
import { text } from "../formats/codec.ts";
import type { Store } from "../core/storage.ts";
import { collectingReporter } from "./_helpers.ts";

/** A temp project with stage files (for code digests) and a tiny dataset. */
export async function project() {
  const root = await Deno.makeTempDir({ prefix: "runner-test-" });
  await Deno.mkdir(`${root}/stages`);
  await Deno.mkdir(`${root}/data`);
  for (const name of ["a", "b", "c"]) {
    await Deno.writeTextFile(`${root}/stages/${name}.ts`, `export const version = 1; // ${name}\n`);
  }
  await Deno.writeTextFile(`${root}/data/one.txt`, "1");
  await Deno.writeTextFile(`${root}/data/two.txt`, "2");
  return root;
}

/** The stages that executed in the last {@link run}. */
export const calls: string[] = [];

/** a: reads the dataset, outputs the sum of its numbers; depends on the dataset folder. */
export const a = defineStage({
  name: "a",
  module: "stages/a.ts",
  description: "sums the dataset",
  inputs: {},
  outputs: { "parity.txt": text },
  reads: ["dataset"],
  readsDataset: true,
  async run(_i, _c, ctx) {
    calls.push("a");
    let sum = 0;
    for (const f of await ctx.listDataset()) {
      sum += Number(new TextDecoder().decode(await ctx.readDataset(f.path)));
    }
    ctx.metric("sum", sum);
    // Only the parity of the sum goes downstream, to exercise early cutoff.
    return { "parity.txt": String(sum % 2) };
  },
});
/** b: reads a and sample.count. */
export const b = defineStage({
  name: "b",
  module: "stages/b.ts",
  description: "combines",
  inputs: { parity: input("a", "parity.txt", text) },
  outputs: { "out.txt": text },
  reads: ["sample"],
  run({ parity }, config) {
    calls.push("b");
    return Promise.resolve({ "out.txt": `${parity}-${config.sample.count}` });
  },
});
/** c: reads b and generate.length; fails when generate.length is 13. */
export const c = defineStage({
  name: "c",
  module: "stages/c.ts",
  description: "finishes",
  inputs: { out: input("b", "out.txt", text) },
  outputs: { "final.txt": text },
  reads: ["generate"],
  run({ out }, config) {
    calls.push("c");
    if (config.generate.length === 13) throw new StageInputError("generate.length 13 is unlucky");
    return Promise.resolve({ "final.txt": `${out}!` });
  },
});
export const STAGES: Stage[] = [a, b, c] as Stage[];

/** Runs the fake DAG with `raw` config sections over the defaults; returns what executed. */
export async function run(
  root: string,
  store: Store,
  raw: Record<string, unknown> = {},
  force?: string[],
  extra: { until?: string; signal?: AbortSignal; stages?: Stage[] } = {},
) {
  const config = resolveConfig({ dataset: { dir: `${root}/data` }, ...raw }, "test.yaml");
  calls.length = 0;
  const record = await runPipeline({
    stages: extra.stages ?? STAGES,
    loaded: { config, path: "test.yaml", hash: configHash(config) },
    store,
    root,
    reporter: collectingReporter(),
    force,
    until: extra.until,
    signal: extra.signal,
  });
  return { record, ran: [...calls] };
}
