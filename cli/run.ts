/**
 * `deno task pipeline [run] --config FILE`: runs the DAG, printing the config hash at the start
 * and the end, and where the results are (the report page among them).
 *
 * @module
 */
import { warn } from "./terminal_text.ts";
import type { CliArgs } from "./args.ts";
import type { Pipeline } from "../core/dag.ts";
import { loadConfig } from "../core/config.ts";
import { UsageError } from "../core/errors.ts";
import { exportOutputs, prepareOutDir } from "../store/exports.ts";
import { checkOutDir } from "../core/places.ts";
import type { Stage } from "../core/stage.ts";
import { formatDuration } from "../report/text.ts";
import { runPipeline } from "../core/runner.ts";
import type { Store } from "../core/storage.ts";
import { consoleReporter } from "./console_reporter.ts";
import { again, onStopSignal } from "./stop_signals.ts";
import { tryWriteReportPage } from "../report/run_page.ts";

/** Runs the pipeline for `--config`. */
export async function runCommand(args: CliArgs, pipeline: Pipeline, store: Store): Promise<number> {
  const loaded = await loadConfig(requireConfig(args), args.set);
  for (const [flag, names] of [["--until", args.until], ["--force", args.force]] as const) {
    for (const name of [names ?? []].flat()) requireStage(pipeline.stages, flag, name);
  }
  if (args.out !== undefined) {
    await checkOutDir(args.out, store.root, loaded.config.dataset.dir);
    await prepareOutDir(args.out);
  }
  const reporter = consoleReporter(args.quiet);
  const say = (text: string) => {
    if (!args.quiet) console.log(text);
  };
  say(`config ${loaded.path} · hash ${loaded.hash} · store ${store.root}`);
  const abort = new AbortController();
  // The first Ctrl-C (or SIGTERM, SIGHUP) stops the run at the next safe point; a second one
  // ends the process.
  const unlisten = onStopSignal((signal) => {
    console.error(`interrupting: finishing the current step (${again(signal)} again to kill)`);
    abort.abort();
  });
  try {
    const record = await runPipeline({
      stages: pipeline.stages,
      loaded,
      store,
      root: pipeline.root,
      codeCache: pipeline.codeCache,
      reporter,
      until: args.until,
      force: args.force,
      signal: abort.signal,
    });
    const exported = await exportOutputs(store, record, pipeline.exports, args.out);
    await store.saveDigests();
    // Cheap, so a cached rerun writes it too (and a page from older code is brought up to date).
    const report = await tryWriteReportPage(store, record, warn);
    const ran = Object.values(record.stages).filter((s) => !s.cached).length;
    const total = Object.keys(record.stages).length;
    console.log(
      `${ran === 0 ? "everything cached" : `${ran} of ${total} stages ran`} in ${
        formatDuration(record.seconds)
      } · config hash ${record.configHash}`,
    );
    for (const [name, path] of Object.entries(exported)) {
      if (/\.(mid|svg|flac)$/.test(name)) console.log(`  ${name.padEnd(16)} ${path}`);
    }
    if (report !== undefined) console.log(`  ${"report".padEnd(16)} ${report}`);
    console.log(`  ${"run record".padEnd(16)} ${store.root}/runs/${record.configHash}.json`);
    return 0;
  } catch (e) {
    say(`run failed · config hash ${loaded.hash}`);
    throw e;
  } finally {
    unlisten();
  }
}

/** The `--config` value, or a usage error saying how to give one. */
export function requireConfig(args: CliArgs): string {
  if (args.config === undefined) {
    throw new UsageError("--config is required, e.g. deno task pipeline --config quick.yaml");
  }
  return args.config;
}

/** Checks a stage name given to `flag`. */
export function requireStage(stages: readonly Stage[], flag: string, name: string): void {
  if (!stages.some((s) => s.name === name)) {
    throw new UsageError(
      `${flag} ${name}: no such stage (stages: ${stages.map((s) => s.name).join(", ")})`,
    );
  }
}
