/**
 * `sweep --config FILE --grid KEY=V1,V2 [--grid …] [--jobs N]`: runs every combination of the
 * grid's values on one store, then lists those runs and writes their compare page.
 *
 * Every combination is validated (config keys, types and ranges, and each stage's own checks)
 * before anything runs. Each combination then runs as its own `pipeline.ts run` process, up to
 * `--jobs` at once: a process per run keeps each run's tfjs engine, backend and native LSTM
 * kernels to itself (training is not safe to interleave inside one process), and one
 * combination that crashes or runs out of memory cannot take the others with it. The store's
 * per-key locks make the runs compute each shared stage once: the others wait for it and take it
 * from the cache. A failed combination is reported and the others go on; the sweep exits 1 at
 * the end if any failed.
 *
 * @module
 */
import { warn } from "./terminal_text.ts";
import type { CliArgs } from "./args.ts";
import type { Pipeline } from "../core/dag.ts";
import { loadConfig, type LoadedConfig } from "../core/config.ts";
import { ConfigError, UsageError } from "../core/errors.ts";
import type { RunRecord } from "../core/run_record.ts";
import { sliceConfig } from "../core/stage_key.ts";
import type { Store } from "../core/storage.ts";
import type { SweepJob } from "../formats/jobs.ts";
import type { Remote } from "../remote/remote.ts";
import { buildComparison } from "../report/comparison.ts";
import { tryWriteComparePage } from "../report/compare_page.ts";
import { formatDuration } from "../report/text.ts";
import { requireConfig } from "./run.ts";
import { printRunsTable } from "./runs.ts";
import { again, onStopSignal } from "./stop_signals.ts";
import { childRun } from "./child_run.ts";

/** One key of the grid and the values to try, as written (each is read as YAML, like --set). */
export interface GridAxis {
  key: string;
  values: string[];
}

/** Reads `--grid KEY=V1,V2` flags. Keys must be distinct and not also given to --set. */
export function parseGrid(specs: readonly string[], set: readonly string[] = []): GridAxis[] {
  if (specs.length === 0) {
    throw new UsageError(
      "sweep needs at least one --grid KEY=V1,V2, e.g. --grid train.learningRate=0.001,0.01",
    );
  }
  const setKeys = new Set(set.map((s) => s.slice(0, s.indexOf("=")).trim()));
  const axes: GridAxis[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const key = spec.slice(0, Math.max(eq, 0)).trim();
    if (eq < 1 || key === "") {
      throw new UsageError(`--grid ${spec}: write it as section.key=value1,value2`);
    }
    const values = spec.slice(eq + 1).split(",").map((v) => v.trim());
    if (values.some((v) => v === "")) {
      throw new UsageError(`--grid ${spec}: a value is empty; separate values with single commas`);
    }
    if (axes.some((a) => a.key === key)) {
      throw new UsageError(`--grid ${key} is given twice; list all its values in one --grid`);
    }
    if (setKeys.has(key)) {
      throw new UsageError(`${key} is given to both --grid and --set; give it to one of them`);
    }
    const repeated = values.find((v, i) => values.indexOf(v) !== i);
    if (repeated !== undefined) {
      throw new UsageError(`--grid ${key}: the value ${repeated} is listed twice`);
    }
    axes.push({ key, values });
  }
  return axes;
}

/** Every combination of the axes' values as `key=value` overrides, the last axis fastest. */
export function combinations(axes: readonly GridAxis[]): string[][] {
  let out: string[][] = [[]];
  for (const axis of axes) {
    out = out.flatMap((prefix) => axis.values.map((v) => [...prefix, `${axis.key}=${v}`]));
  }
  return out;
}

/** One combination, validated: its overrides and its resolved config. */
interface Planned {
  overrides: string[];
  loaded: LoadedConfig;
}

/** How one combination ended. */
interface Outcome {
  code: number;
  seconds: number;
}

/** Runs every combination of the grid; see the module documentation. */
export async function sweepCommand(
  args: CliArgs,
  pipeline: Pipeline,
  store: Store,
  remote: Remote | undefined,
): Promise<number> {
  for (const [flag, given] of [["--until", args.until], ["--out", args.out]] as const) {
    if (given !== undefined) throw new UsageError(`sweep does not take ${flag}`);
  }
  if (args.force.length > 0) throw new UsageError("sweep does not take --force");
  const file = requireConfig(args);
  const axes = parseGrid(args.grid, args.set);
  const plans = await plan(file, args.set, axes, pipeline);
  const n = plans.length;
  if (args.queue) return await enqueueSweep(plans, args, remote);
  const jobs = Math.min(args.jobs ?? 1, n);
  // Made here, before any run starts: runs opening an empty folder at once could see each
  // other's half-made store.
  await store.init();
  const say = (text: string) => {
    if (!args.quiet) console.log(text);
  };
  const started = new Date().toISOString();
  say(
    `sweep: ${n} combination${n === 1 ? "" : "s"} of ${plans[0]!.loaded.path} (${
      axes.map((a) => `${a.values.length} ${a.key}`).join(" × ")
    }), ${jobs === 1 ? "one at a time" : `${jobs} at a time`} · store ${store.root}`,
  );

  const { outcomes, stopping } = await runAll(plans, jobs, args, pipeline, store);
  return await summarize(plans, outcomes, stopping, started, store);
}

/**
 * Runs the combinations, `jobs` at a time, until all have run or a stop signal came; what each
 * run gave (undefined for those never started).
 */
async function runAll(
  plans: readonly Planned[],
  jobs: number,
  args: CliArgs,
  pipeline: Pipeline,
  store: Store,
): Promise<{ outcomes: (Outcome | undefined)[]; stopping: boolean }> {
  const n = plans.length;
  let stopping = false;
  // The runs this sweep started and that are still running.
  const running = new Set<Deno.ChildProcess>();
  const unlisten = onStopSignal((signal) => {
    stopping = true;
    console.error(
      "interrupting: no further combination starts; the running ones stop at their next safe " +
        `point (${again(signal)} again to kill them)`,
    );
    // Ctrl-C reaches the runs too (the terminal signals the whole process group); a SIGTERM or
    // SIGHUP sent to the sweep alone is passed on, and each run takes it as its first Ctrl-C.
    if (signal !== "SIGINT") { for (const child of running) child.kill(signal); }
  });
  const outcomes: (Outcome | undefined)[] = new Array(n).fill(undefined);
  let next = 0;
  const worker = async () => {
    while (!stopping && next < n) {
      const k = next++;
      outcomes[k] = await runOne(k, plans[k]!, n, jobs, args, pipeline, store, running);
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    unlisten();
  }
  return { outcomes, stopping };
}

/**
 * The sweep's runs as a table, their compare page, and one line of how the sweep went; the
 * exit status (130 when interrupted, 1 when a run failed).
 */
async function summarize(
  plans: readonly Planned[],
  outcomes: readonly (Outcome | undefined)[],
  stopping: boolean,
  started: string,
  store: Store,
): Promise<number> {
  const n = plans.length;
  // The sweep's runs, in combination order: the latest record of each that finished, the
  // failed record of this sweep for the others.
  const history = await store.listRuns({ all: true });
  const records: RunRecord[] = [];
  const finished: RunRecord[] = [];
  for (const [k, p] of plans.entries()) {
    const ok = outcomes[k]?.code === 0;
    const record = ok
      ? await store.getRun(p.loaded.hash)
      : history.find((r) => r.configHash === p.loaded.hash && r.startedAt >= started);
    if (record === undefined) continue;
    records.push(record);
    if (ok && record.status === "ok") finished.push(record);
  }
  console.log();
  if (records.length > 0) printRunsTable(records);
  if (finished.length >= 2) {
    const page = await tryWriteComparePage(store, buildComparison(finished), warn);
    if (page !== undefined) {
      console.log();
      console.log(`compare page  ${page.html}`);
      console.log(`loss curves   ${page.svg}`);
    }
  }
  const which = (test: (code: number) => boolean) =>
    outcomes.flatMap((o, k) => (o !== undefined && test(o.code) ? [k] : []));
  const failed = which((code) => code !== 0 && code !== 130);
  const interrupted = which((code) => code === 130);
  const notRun = outcomes.filter((o) => o === undefined).length;
  const list = (ks: number[]) => ks.map((k) => `[${k + 1}/${n}] ${label(plans[k]!)}`).join("; ");
  const parts = [`${n - notRun} of ${n} combinations ran`];
  if (failed.length > 0) parts.push(`${failed.length} failed: ${list(failed)}`);
  if (interrupted.length > 0) parts.push(`${interrupted.length} interrupted: ${list(interrupted)}`);
  if (notRun > 0) parts.push(`${notRun} not started`);
  console.log(`sweep: ${parts.join(" · ")}`);
  if (stopping || interrupted.length > 0) return 130;
  return failed.length > 0 ? 1 : 0;
}

/**
 * Validates every combination before anything runs: the config file and --set on their own
 * (their errors name them), then each combination, including the stages' own checks (a network
 * too big for memory). Two combinations that resolve to the same config are an error.
 */
async function plan(
  file: string,
  set: readonly string[],
  axes: readonly GridAxis[],
  pipeline: Pipeline,
): Promise<Planned[]> {
  await loadConfig(file, [...set]);
  const combos = combinations(axes);
  const plans: Planned[] = [];
  for (const [k, overrides] of combos.entries()) {
    const where = `--grid combination ${k + 1}/${combos.length} (${overrides.join(" ")})`;
    let loaded: LoadedConfig;
    try {
      loaded = await loadConfig(file, [...set, ...overrides]);
      for (const stage of pipeline.stages) stage.check?.(sliceConfig(loaded.config, stage.reads));
    } catch (e) {
      const message = (e as Error).message.replace(/^(.*?)\(--set\): |^--set: /, "");
      throw new ConfigError(`${where}: ${message}`, { cause: e });
    }
    const same = plans.findIndex((p) => p.loaded.hash === loaded.hash);
    if (same >= 0) {
      throw new ConfigError(
        `${where} is the same config as combination ${same + 1} (${
          plans[same]!.overrides.join(" ")
        }), hash ${loaded.hash}; drop the value that changes nothing`,
      );
    }
    plans.push({ overrides, loaded });
  }
  return plans;
}

/**
 * `sweep --queue`: one job per combination on the remote's work queue, each carrying its resolved
 * config (cli/worker.ts runs them). A combination already queued within the last ten minutes is
 * not queued twice (the job id is its config hash).
 */
async function enqueueSweep(
  plans: Planned[],
  args: CliArgs,
  remote: Remote | undefined,
): Promise<number> {
  if (remote === undefined) {
    throw new UsageError(
      "sweep --queue needs a remote to queue on: give --remote nats://HOST:PORT (or set DLM_REMOTE)",
    );
  }
  if (args.jobs !== undefined) throw new UsageError("sweep --queue does not take --jobs");
  let queued = 0;
  for (const [k, p] of plans.entries()) {
    const job: SweepJob = { configHash: p.loaded.hash, config: p.loaded.config, label: label(p) };
    const { duplicate } = await remote.enqueue(job, { id: p.loaded.hash });
    if (!duplicate) queued++;
    console.log(
      `[${k + 1}/${plans.length}] ${label(p)} · config hash ${p.loaded.hash}: ${
        duplicate ? "already queued" : "queued"
      }`,
    );
  }
  const state = await remote.queueState();
  console.log(
    `sweep: ${queued} job${queued === 1 ? "" : "s"} queued on ${remote.description} · ` +
      `${state.waiting} waiting, ${state.running} running; start workers with ` +
      "`deno task pipeline worker --remote URL`, then `deno task pipeline runs --remote URL`",
  );
  return 0;
}

function label(p: Planned): string {
  return p.overrides.join(" ");
}

/** Runs one combination as a child `pipeline.ts run` and reports how it ended. */
async function runOne(
  k: number,
  p: Planned,
  n: number,
  jobs: number,
  args: CliArgs,
  pipeline: Pipeline,
  store: Store,
  running: Set<Deno.ChildProcess>,
): Promise<Outcome> {
  const tag = `[${k + 1}/${n}]`;
  if (!args.quiet) console.log(`${tag} ${label(p)} · config hash ${p.loaded.hash}: running`);
  // One at a time, the run prints to the terminal as `run` does (progress bars included); several
  // at once, each runs quietly and its warnings and errors are printed, tagged, when it ends.
  const live = jobs === 1;
  const command = await childRun(pipeline, [
    "--config",
    requireConfig(args),
    ...[...args.set, ...p.overrides].flatMap((s) => ["--set", s]),
    "--store",
    store.root,
    ...(args.quiet || !live ? ["--quiet"] : []),
  ], live);
  const t0 = performance.now();
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } catch (e) {
    console.error(`${tag} could not start the run: ${(e as Error).message}`);
    return { code: 1, seconds: 0 };
  }
  running.add(child);
  let code: number;
  let stderr = "";
  try {
    if (live) {
      code = (await child.status).code;
    } else {
      const out = await child.output();
      code = out.code;
      stderr = new TextDecoder().decode(out.stderr);
    }
  } finally {
    running.delete(child);
  }
  const seconds = (performance.now() - t0) / 1000;
  await tellOutcome(tag, p, code, seconds, stderr, store);
  return { code, seconds };
}

/** Says how a combination's run ended, with a quiet run's warnings and error, tagged. */
async function tellOutcome(
  tag: string,
  p: Planned,
  code: number,
  seconds: number,
  stderr: string,
  store: Store,
): Promise<void> {
  let how: string;
  if (code === 0) {
    const record = await store.getRun(p.loaded.hash).catch(() => undefined);
    const stages = Object.values(record?.stages ?? {});
    const ran = stages.filter((s) => !s.cached).length;
    how = `done in ${formatDuration(seconds)} · ${
      ran === 0 ? "everything cached" : `${ran} of ${stages.length} stages ran`
    }`;
  } else {
    how = code === 130 ? "interrupted" : `failed (exit status ${code})`;
  }
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  // A quiet run's error is its last `error:` line: it goes on the line that says it failed.
  const error = code === 0 || code === 130
    ? undefined
    : lines.findLast((l) => l.startsWith("error: "));
  if (error !== undefined) how += `: ${error.slice("error: ".length)}`;
  console.log(`${tag} ${how} · config hash ${p.loaded.hash}`);
  for (const line of lines) if (line !== error) console.error(`${tag} ${line}`);
}
