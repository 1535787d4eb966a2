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
import type { LoadedConfig } from "./config.ts";
import { CodeDigester } from "./code_digest.ts";
import { listDataset, readDatasetFile, type StatEntry } from "./dataset.ts";
import { topologicalOrder, upstreamOf } from "./dag.ts";
import { ConfigError, PipelineError, StageFailedError, UsageError } from "./errors.ts";
import { type ConfigHash, type Digest, digestOf, hashJson, type StageKey } from "./hash.ts";
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

/** One stage's part of a run record. */
export interface StageRecord {
  key: StageKey;
  cached: boolean;
  /** Seconds this run spent on the stage (a cache lookup when cached). */
  seconds: number;
  /** Seconds the stage took when it last executed for this key. */
  executedSeconds: number;
  outputs: Record<string, Digest>;
  warnings: string[];
}

/** `<store>/runs/<config-hash>.json`: what one run did. */
export interface RunRecord {
  configHash: ConfigHash;
  configPath: string;
  config: Config;
  status: "ok" | "failed";
  error?: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  until?: string;
  runtime: { deno: string; v8: string; os: string };
  stages: Record<string, StageRecord>;
  /** Stage → metric name → value (files parsed, tokens, vocab size, windows, loss, …). */
  metrics: Record<string, Record<string, Metric>>;
  /** Final outputs copied under their own names. */
  exported: Record<string, string>;
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
      config: omitKeys(config, stage.settledByEnvironment ?? []),
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
  await store.init();
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
      // Keep the listing the key was computed from, so `status` can name the files that change.
      if (stage.readsDataset) await store.put((await planner.dataset()).bytes);
      let entry = opts.force?.includes(stage.name) ? undefined : await store.getKey(key);
      const cached = entry !== undefined;
      if (entry === undefined) {
        reporter.line(`▶ ${stage.name}: running (key ${key.slice(0, 12)})`);
        entry = await execute(stage, components, planner, opts, signal);
        await store.putKey(key, entry);
        reporter.line(`✔ ${stage.name}: done in ${entry.seconds.toFixed(2)}s`);
      } else {
        reporter.line(`✔ ${stage.name}: cached (key ${key.slice(0, 12)})`);
      }
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
      for (const dir of dirs) await writeFileAtomic(`${dir}/${output}`, bytes);
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
