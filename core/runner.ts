/**
 * Runs the DAG: computes each stage's key, reuses cached outputs, runs what is stale, stores
 * outputs by digest and writes the run record.
 *
 * A key is the hash of the stage's name, code digest, config slice, input digests, environment
 * facts and (for stages that read the dataset) the dataset listing. Because inputs enter the key
 * by content, a stage that reruns and writes the same bytes leaves everything after it cached.
 *
 * @module
 */
import type { Config } from "./config_schema.ts";
import { keyedConfig, type LoadedConfig } from "./config.ts";
import { CodeDigester } from "./code_digest.ts";
import { listDataset, readDatasetFile, type StatEntry } from "./dataset.ts";
import { topologicalOrder, upstreamOf } from "./dag.ts";
import { ConfigError, PipelineError, StageFailedError, UsageError } from "./errors.ts";
import { describeFsError, fsErrorAdvice, isFsError } from "./fs_errors.ts";
import { type Digest, digestOf, hashJson, type StageKey } from "./hash.ts";
import type { LockHolder } from "./lock.ts";
import type { RunRecord } from "./run_record.ts";
import type { Inputs, Metric, Progress, Stage, StageContext } from "./stage.ts";
import { type KeyComponents, type KeyEntry, prettyJson, Store, writeFileAtomic } from "./store.ts";

/** Where the runner's messages go; the CLI prints them, tests collect them. */
export interface Reporter {
  /** A line about the run itself (stage started, cached, finished). */
  line(text: string): void;
  /** A stage's informational message. */
  info(stage: string, text: string): void;
  /** A stage's warning. */
  warn(stage: string, text: string): void;
  /** A progress bar. */
  progress(label: string, total: number): Progress;
}

/** What to run and where. */
export interface RunOptions {
  stages: readonly Stage[];
  loaded: LoadedConfig;
  store: Store;
  /** Project root, for code digests. */
  root: string;
  reporter: Reporter;
  until?: string;
  force?: readonly string[];
  /** Final outputs, as "stage/output", copied into `<store>/out/<hash>/` and `outDir`. */
  exports?: readonly string[];
  outDir?: string;
  signal?: AbortSignal;
}

/** Shared by the runner and `status`: how a stage's key comes about. */
export class KeyPlanner {
  readonly code: CodeDigester;
  #dataset?: Promise<{ listing: StatEntry[]; digest: Digest; bytes: Uint8Array }>;

  constructor(readonly root: string, readonly loaded: LoadedConfig) {
    this.code = new CodeDigester(root);
  }

  /** The dataset listing and its digest, read once per run. */
  dataset(): Promise<{ listing: StatEntry[]; digest: Digest; bytes: Uint8Array }> {
    this.#dataset ??= listDataset(this.loaded.config.dataset.dir, this.loaded.path).then(
      (listing) => {
        const bytes = prettyJson(listing);
        return { listing, digest: digestOf(bytes), bytes };
      },
    );
    return this.#dataset;
  }

  /** The components of a stage's key given its upstream outputs. */
  async components(
    stage: Stage,
    upstream: Record<string, Record<string, Digest>>,
  ): Promise<KeyComponents> {
    const config = sliceConfig(this.loaded.config, stage.reads);
    let environment: Record<string, string>;
    try {
      environment = (await stage.environment?.(config as unknown as Config)) ?? {};
    } catch (e) {
      // Resolving the environment reads config keys such as train.backend: a value that cannot
      // be honoured on this machine is a config error.
      throw new ConfigError(`${this.loaded.path}: ${(e as Error).message}`, { cause: e });
    }
    return {
      stage: stage.name,
      code: await this.code.digest(`stages/${stage.name}.ts`),
      config: omitKeys(keyedConfig(config), stage.settledByEnvironment ?? []),
      inputs: Object.fromEntries(stage.inputs.map((i) => [i, upstream[i] ?? {}])),
      environment,
      dataset: stage.readsDataset ? (await this.dataset()).digest : undefined,
    };
  }
}

/** The config sections a stage declared, and nothing else. */
export function sliceConfig(config: Config, reads: readonly string[]): Record<string, unknown> {
  const c = config as unknown as Record<string, unknown>;
  return Object.fromEntries([...reads].sort().map((s) => [s, c[s]]));
}

/** The slice without `section.key` entries (their resolved values are in the environment). */
function omitKeys(
  slice: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  if (keys.length === 0) return slice;
  const out: Record<string, unknown> = {};
  for (const [section, body] of Object.entries(slice)) {
    out[section] = Object.fromEntries(
      Object.entries(body as Record<string, unknown>).filter(([k]) =>
        !keys.includes(`${section}.${k}`)
      ),
    );
  }
  return out;
}

/** The stages a run covers: all, or up to `until`. */
export function selectStages(stages: readonly Stage[], until?: string): Stage[] {
  const order = topologicalOrder(stages);
  if (until === undefined) return order;
  if (!order.some((s) => s.name === until)) {
    throw new UsageError(
      `--until ${until}: no such stage (stages: ${order.map((s) => s.name).join(", ")})`,
    );
  }
  return upstreamOf(order, until);
}

/** Runs the pipeline and returns the run record (also written to the store). */
export async function runPipeline(opts: RunOptions): Promise<RunRecord> {
  const { store, loaded, reporter } = opts;
  const order = selectStages(opts.stages, opts.until);
  for (const f of opts.force ?? []) {
    if (!opts.stages.some((s) => s.name === f)) {
      throw new UsageError(
        `--force ${f}: no such stage (stages: ${opts.stages.map((s) => s.name).join(", ")})`,
      );
    }
  }
  checkStages(order, loaded);
  await store.init();
  if (opts.outDir !== undefined) await prepareOutDir(opts.outDir);
  const planner = new KeyPlanner(opts.root, loaded);
  const started = new Date();
  const t0 = performance.now();
  const record: RunRecord = {
    configHash: loaded.hash,
    configPath: loaded.path,
    config: loaded.config,
    status: "ok",
    startedAt: started.toISOString(),
    finishedAt: "",
    seconds: 0,
    until: opts.until,
    runtime: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      os: `${Deno.build.os}-${Deno.build.arch}`,
    },
    stages: {},
    metrics: {},
    exported: {},
  };
  const outputs: Record<string, Record<string, Digest>> = {};
  const signal = opts.signal ?? new AbortController().signal;
  try {
    for (const stage of order) {
      if (signal.aborted) throw new InterruptedError(stage.name);
      const stageStart = performance.now();
      const components = await planner.components(stage, outputs);
      const key = hashJson(components) as StageKey;
      let found: { entry: KeyEntry; cached: boolean };
      try {
        // Keep the listing the key was computed from, so `status` can name the files that change.
        if (stage.readsDataset) await store.put((await planner.dataset()).bytes);
        found = await cachedOrExecuted(stage, components, key, planner, opts, signal);
      } catch (e) {
        throw signal.aborted
          ? new InterruptedError(stage.name)
          : storeFailure(stage.name, e, store);
      }
      const { entry, cached } = found;
      outputs[stage.name] = entry.outputs;
      record.stages[stage.name] = {
        key,
        cached,
        seconds: cached ? (performance.now() - stageStart) / 1000 : entry.seconds,
        executedSeconds: entry.seconds,
        outputs: entry.outputs,
        warnings: entry.warnings,
      };
      record.metrics[stage.name] = entry.metrics;
    }
    for (const name of opts.exports ?? []) {
      const [stage, output] = name.split("/") as [string, string];
      const digest = outputs[stage]?.[output];
      if (digest === undefined) continue;
      const bytes = await store.get(digest);
      const dirs = [`${store.root}/out/${loaded.hash}`, ...(opts.outDir ? [opts.outDir] : [])];
      for (const dir of dirs) {
        await writeFileAtomic(`${dir}/${output}`, bytes).catch((e) => {
          throw isFsError(e)
            ? new PipelineError(
              `Cannot copy ${output} into ${dir}: ${describeFsError(e)}; ${
                fsErrorAdvice(e)
              } and run the same command again (every stage is kept, so nothing reruns)`,
              { cause: e },
            )
            : e;
        });
      }
      record.exported[output] = `${dirs.at(-1)}/${output}`;
    }
  } catch (e) {
    record.status = "failed";
    record.error = (e as Error).message;
    const skipped = order.filter((s) => !(s.name in record.stages)).map((s) => s.name);
    // The failure the user needs to see is `e`; a record that cannot be written must not hide it.
    await finish(record, t0, store, false).catch(() => {});
    if (skipped.length > 0) reporter.line(`✘ not run: ${skipped.join(", ")}`);
    throw e;
  }
  // A run cut short by --until does not replace the config's latest full record.
  await finish(record, t0, store, opts.until === undefined);
  return record;
}

/**
 * The stage's cached entry, or the entry of executing it. One writer per key: a run computing the
 * same key elsewhere is waited for, and its result is then taken from the cache.
 */
async function cachedOrExecuted(
  stage: Stage,
  components: KeyComponents,
  key: StageKey,
  planner: KeyPlanner,
  opts: RunOptions,
  signal: AbortSignal,
): Promise<{ entry: KeyEntry; cached: boolean }> {
  const { store, reporter } = opts;
  const forced = opts.force?.includes(stage.name) ?? false;
  const hit = forced ? undefined : await store.getKey(key);
  if (hit !== undefined) {
    reporter.line(`✔ ${stage.name}: cached (key ${key.slice(0, 12)})`);
    return { entry: hit, cached: true };
  }
  const lock = await store.lock(
    key,
    (holder) => reporter.line(`… ${stage.name}: waiting for ${holderText(holder)}`),
    signal,
  );
  try {
    const done = forced ? undefined : await store.getKey(key);
    if (done !== undefined) {
      reporter.line(`✔ ${stage.name}: cached, computed by the run it waited for`);
      return { entry: done, cached: true };
    }
    reporter.line(`▶ ${stage.name}: running (key ${key.slice(0, 12)})`);
    const entry = await execute(stage, components, planner, opts, signal);
    await store.putKey(key, entry);
    reporter.line(`✔ ${stage.name}: done in ${entry.seconds.toFixed(2)}s`);
    return { entry, cached: false };
  } finally {
    await lock.release();
  }
}

/** Runs every stage's own config check before anything runs, so a bad value fails at once. */
function checkStages(stages: readonly Stage[], loaded: LoadedConfig): void {
  for (const stage of stages) {
    try {
      stage.check?.(sliceConfig(loaded.config, stage.reads) as unknown as Config);
    } catch (e) {
      throw new ConfigError(`${loaded.path}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Makes sure `--out` can take the results before hours of work go into them. */
async function prepareOutDir(dir: string): Promise<void> {
  try {
    const info = await Deno.stat(dir).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
    if (info !== undefined && !info.isDirectory) {
      throw new UsageError(`--out ${dir} is a file, not a folder: give --out a folder`);
    }
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.tmp-${crypto.randomUUID()}`;
    await Deno.writeFile(probe, new Uint8Array(0));
    await Deno.remove(probe);
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UsageError(
      `--out ${dir}: cannot write there (${describeFsError(e)}); ${
        fsErrorAdvice(e)
      } or choose another folder`,
      { cause: e },
    );
  }
}

/** A file system error met while a stage's results were being stored, as one sentence. */
function storeFailure(stage: string, e: unknown, store: Store): unknown {
  if (e instanceof PipelineError || !isFsError(e)) return e;
  // Deno's message ends with the path it was working on: name the store or that file.
  const path = /'([^']*)'\s*$/.exec((e as Error).message)?.[1];
  const where = path === undefined || path.startsWith(`${store.root}/`)
    ? `the store ${store.root}`
    : path;
  return new StageFailedError(
    stage,
    `${stage}: ${describeFsError(e)} at ${where}; ${
      fsErrorAdvice(e)
    }, then run the same command again (completed stages are kept)`,
    { cause: e },
  );
}

function holderText(holder: LockHolder | undefined): string {
  if (holder === undefined) return "another run computing it";
  const since = holder.startedAt.slice(11, 19);
  return `another run computing it (pid ${holder.pid} on ${holder.host}, since ${since} UTC)`;
}

/** The user interrupted the run (Ctrl-C); what completed is kept. Exit status 130, as shells use. */
export class InterruptedError extends PipelineError {
  override name = "InterruptedError";
  override readonly exitCode = 130;
  constructor(stage: string) {
    super(
      `interrupted during ${stage}; completed stages are kept in the store: run the same command to resume`,
    );
  }
}

async function finish(record: RunRecord, t0: number, store: Store, latest: boolean) {
  record.finishedAt = new Date().toISOString();
  record.seconds = (performance.now() - t0) / 1000;
  // An all-cached rerun keeps the executed run's figures: each stage record carries the
  // metrics and seconds of the run that executed it, from the run cache.
  await store.putRun(record.configHash, record, latest);
}

async function execute(
  stage: Stage,
  components: KeyComponents,
  planner: KeyPlanner,
  opts: RunOptions,
  signal: AbortSignal,
): Promise<KeyEntry> {
  const { store, reporter, loaded } = opts;
  const inputs: Inputs = {};
  for (const [up, named] of Object.entries(components.inputs)) {
    inputs[up] = {};
    for (const [name, digest] of Object.entries(named)) inputs[up][name] = await store.get(digest);
  }
  const metrics: Record<string, Metric> = {};
  const warnings: string[] = [];
  const dir = loaded.config.dataset.dir;
  const resume = store.resumeState(hashJson(components) as StageKey);
  const ctx: StageContext = {
    listDataset: async () =>
      (await planner.dataset()).listing.map(({ path, size }) => ({ path, size })),
    readDataset: (path) => readDatasetFile(dir, path),
    info: (text) => reporter.info(stage.name, text),
    warn: (text) => {
      warnings.push(text);
      reporter.warn(stage.name, text);
    },
    metric: (name, value) => {
      metrics[name] = value;
    },
    resume,
    progress: (label, total) =>
      reporter.progress(
        label.startsWith(stage.name) ? label : `${stage.name} ${label}`.trim(),
        total,
      ),
    signal,
  };
  const t = performance.now();
  let produced: Record<string, Uint8Array>;
  try {
    const slice = sliceConfig(loaded.config, stage.reads) as unknown as Config;
    produced = await stage.run(inputs, slice, ctx);
  } catch (e) {
    if (signal.aborted) throw new InterruptedError(stage.name);
    if (e instanceof PipelineError) throw e;
    const err = e as Error;
    const known = err.name === "StageInputError";
    throw new StageFailedError(
      stage.name,
      known ? `${stage.name}: ${err.message}` : `stage ${stage.name} failed: ${err.message}`,
      { cause: e },
    );
  }
  const seconds = (performance.now() - t) / 1000;
  const outputs: Record<string, Digest> = {};
  for (const name of Object.keys(produced).sort()) outputs[name] = await store.put(produced[name]!);
  await resume.clear();
  return {
    stage: stage.name,
    components,
    outputs,
    metrics,
    warnings,
    seconds,
    finishedAt: new Date().toISOString(),
  };
}
