/**
 * `deno task pipeline reproduce HASH`: reruns a recorded run's resolved config on a fresh,
 * empty store and checks that every stage writes the same output digests.
 *
 * @module
 */
import type { CliArgs } from "./args.ts";
import type { Pipeline } from "../core/dag.ts";
import { configHash, resolveConfig } from "../core/config.ts";
import { PipelineError } from "../core/errors.ts";
import { runPipeline } from "../core/runner.ts";
import type { Store } from "../core/storage.ts";
import { LocalStore } from "../store/store.ts";
import { consoleReporter } from "./console_reporter.ts";
import { findRun } from "./runs.ts";

/** Reruns a recorded config from scratch; exit 1 if any digest differs. */
export async function reproduceCommand(
  args: CliArgs,
  pipeline: Pipeline,
  store: Store,
): Promise<number> {
  const recorded = await findRun(store, args.rest[0], "reproduce");
  // Options added since the run was recorded take their defaults, which leave its hash as it was.
  const config = resolveConfig(recorded.config, `the config of run ${recorded.configHash}`);
  const hash = configHash(config);
  if (hash !== recorded.configHash) {
    throw new PipelineError(
      `run ${recorded.configHash} was recorded with another config schema (its config now hashes to ${hash}); it cannot be reproduced by this version`,
    );
  }
  const fresh = new LocalStore(await Deno.makeTempDir({ prefix: "reproduce-" }));
  console.log(
    `reproducing ${recorded.configHash} (${recorded.configPath}) in a fresh store ${fresh.root}`,
  );
  const record = await runPipeline({
    stages: pipeline.stages,
    loaded: { config, path: recorded.configPath, hash },
    store: fresh,
    root: pipeline.root,
    codeCache: pipeline.codeCache,
    reporter: consoleReporter(args.quiet),
    until: recorded.until,
  });
  let mismatches = 0;
  for (const [name, before] of Object.entries(recorded.stages)) {
    const now = record.stages[name]?.outputs ?? {};
    for (const [output, digest] of Object.entries(before.outputs)) {
      const same = now[output] === digest;
      if (!same) mismatches++;
      console.log(
        `  ${same ? "same" : "DIFFERENT"}  ${name}/${output}  ${digest.slice(0, 16)}${
          same ? "" : ` → ${(now[output] ?? "missing").slice(0, 16)}`
        }`,
      );
    }
  }
  if (mismatches === 0) {
    console.log("reproduced: every output digest matches");
    await Deno.remove(fresh.root, { recursive: true });
    return 0;
  }
  console.log(
    `${mismatches} outputs differ from the recorded run; the fresh store is kept at ${fresh.root}`,
  );
  return 1;
}
