/**
 * `deno task pipeline status --config FILE`: each stage cached or stale, and why.
 *
 * @module
 */
import type { CliArgs } from "./args.ts";
import type { Pipeline } from "../core/dag.ts";
import { loadConfig } from "../core/config.ts";
import { pipelineStatus } from "../core/status.ts";
import type { Store } from "../core/storage.ts";
import { requireConfig } from "./run.ts";

/** Prints the status of every stage; exit 0 either way. */
export async function statusCommand(
  args: CliArgs,
  pipeline: Pipeline,
  store: Store,
): Promise<number> {
  const loaded = await loadConfig(requireConfig(args), args.set);
  const status = await pipelineStatus({
    stages: pipeline.stages,
    loaded,
    store,
    root: pipeline.root,
    codeCache: pipeline.codeCache,
  });
  if (args.json) {
    console.log(JSON.stringify({ configHash: loaded.hash, stages: status }, null, 2));
    return 0;
  }
  console.log(`config ${loaded.path} · hash ${loaded.hash} · store ${store.root}`);
  const width = Math.max(...status.map((s) => s.stage.length));
  for (const s of status) {
    console.log(`  ${s.stage.padEnd(width)}  ${s.state}`);
    for (const r of s.reasons) console.log(`  ${" ".repeat(width)}    ${r}`);
  }
  if (status.every((s) => s.state === "cached")) {
    console.log("Everything is cached: a run would execute nothing.");
  }
  return 0;
}
