/**
 * Runs the DAG: asks core/stage_key.ts for each stage's key, reuses cached outputs, runs what is
 * stale (one run per key at a time, under the store's lock), stores outputs by digest and writes
 * the run record. What the user sees of it goes through a {@link Reporter} as events; the CLI
 * words and prints them.
 *
 * @module
 */
import { checkStoreAndDataset } from "./places.ts";
import type { LoadedConfig } from "./config.ts";
import { readDatasetFile, symlinksWarning } from "./dataset.ts";
import { FileDigests } from "./file_digests.ts";
import { selectStages } from "./dag.ts";
import { FormatError } from "../formats/codec.ts";
import { ConfigError, PipelineError, StageFailedError } from "./errors.ts";
import { describeFsError, describeNotCapable, fsErrorAdvice, isFsError } from "./fs_errors.ts";
import { type Digest, digestOf, sha256Hex, type StageKey } from "./hash.ts";
import type { LockHolder } from "./storage.ts";
import type { RunRecord } from "./run_record.ts";
import {
  type Metric,
  type Progress,
  type Stage,
  type StageContext,
  StageInputError,
} from "./stage.ts";
import {
  checkDeclaredFiles,
  CODE_CACHE,
  KeyPlanner,
  type PlannedKey,
  readDeclaredFile,
  sliceConfig,
} from "./stage_key.ts";
import type { KeyEntry, Store } from "./storage.ts";

/** What happens to a stage during a run, as the reporter hears of it. */
export type RunEvent =
  /** The stage is stale and starts executing. */
  | { type: "running"; stage: string; key: StageKey }
  /** The stage's outputs came from the cache; `waited` when another run had just made them. */
  | { type: "cached"; stage: string; key: StageKey; waited: boolean }
  /** The stage executed. */
  | { type: "done"; stage: string; seconds: number }
  /** Another run is computing the same key; this one waits for it. */
  | { type: "waiting"; stage: string; holder?: LockHolder }
  /** The run failed; these stages did not run. */
  | { type: "skipped"; stages: string[] };

/** Where the runner's messages go; the CLI prints them, tests collect them. */
export interface Reporter {
  /** Something happened to a stage. */
  event(e: RunEvent): void;
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
  /** A code-digest cache shared between stores (core/dag.ts's Pipeline); else the store's. */
  codeCache?: string;
  reporter: Reporter;
  /** Run only this stage and what it needs. */
  until?: string;
  /** Stages to execute even when cached. */
  force?: readonly string[];
  signal?: AbortSignal;
}

/** Runs the pipeline and returns the run record (also written to the store). */
export async function runPipeline(opts: RunOptions): Promise<RunRecord> {
  const { store } = opts;
  const order = selectStages(opts.stages, opts.until);
  checkStages(order, opts.loaded);
  await checkDeclaredFiles(order, opts.loaded);
  await checkStoreAndDataset(store.root, opts.loaded.config.dataset.dir, opts.loaded.path);
  await store.init();
  // Held for the whole run, so that gc never removes what this run is writing.
  const inUse = await store.use();
  try {
    return await runStages(order, opts);
  } finally {
    await store.saveDigests();
    inUse.release();
  }
}

async function runStages(order: Stage[], opts: RunOptions): Promise<RunRecord> {
  const { store, loaded, reporter } = opts;
  const planner = new KeyPlanner(opts.root, loaded, opts.codeCache ?? store.pathOf(...CODE_CACHE));
  const t0 = performance.now();
  const record: RunRecord = {
    configHash: loaded.hash,
    configPath: loaded.path,
    config: loaded.config,
    status: "ok",
    startedAt: new Date().toISOString(),
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
  };
  const outputs: Record<string, Record<string, Digest>> = {};
  const signal = opts.signal ?? new AbortController().signal;
  let toldSymlinks = false;
  try {
    // The code each stage runs was loaded when the run began: its digest is read now too, not
    // when the stage is reached, or a file edited during a long run would key the old code's
    // outputs under the new code.
    await planner.readCode(order);
    for (const stage of order) {
      if (signal.aborted) throw new InterruptedError(stage.name);
      const stageStart = performance.now();
      const planned = await planner.plan(stage, outputs);
      record.interrupted = { stage: stage.name, key: planned.key };
      let found: { entry: KeyEntry; cached: boolean };
      try {
        if (stage.readsDataset) {
          const dataset = await planner.dataset();
          // Keep the listing the key was computed from, so `status` can name the files that change.
          await store.put(dataset.bytes);
          // Said once a run, by the first stage that reads the dataset; not part of any key.
          if (dataset.symlinks.length > 0 && !toldSymlinks) {
            reporter.warn(stage.name, symlinksWarning(loaded.config.dataset.dir, dataset.symlinks));
          }
          toldSymlinks = true;
        }
        found = await cachedOrExecuted(stage, planned, planner, opts, signal);
      } catch (e) {
        throw signal.aborted ? new InterruptedError(stage.name) : failure(stage.name, e, store);
      }
      const { entry, cached } = found;
      outputs[stage.name] = entry.outputs;
      record.stages[stage.name] = {
        key: planned.key,
        cached,
        seconds: cached ? (performance.now() - stageStart) / 1000 : entry.seconds,
        executedSeconds: entry.seconds,
        outputs: entry.outputs,
        warnings: entry.warnings,
      };
      record.metrics[stage.name] = entry.metrics;
      delete record.interrupted;
    }
  } catch (e) {
    record.status = "failed";
    record.error = (e as Error).message;
    const skipped = order.filter((s) => !(s.name in record.stages)).map((s) => s.name);
    // The failure the user needs to see is `e`; a record that cannot be written must not hide it.
    await finish(record, t0, store, false).catch(() => {});
    if (skipped.length > 0) reporter.event({ type: "skipped", stages: skipped });
    throw e;
  } finally {
    await planner.save();
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

/**
 * The stage's cached entry, or the entry of executing it. One writer per key: a run computing the
 * same key elsewhere is waited for, and its result is then taken from the cache.
 */
async function cachedOrExecuted(
  stage: Stage,
  planned: PlannedKey,
  planner: KeyPlanner,
  opts: RunOptions,
  signal: AbortSignal,
): Promise<{ entry: KeyEntry; cached: boolean }> {
  const { store, reporter } = opts;
  const { key } = planned;
  const forced = opts.force?.includes(stage.name) ?? false;
  const hit = forced ? undefined : await store.getKey(key);
  if (hit !== undefined) {
    reporter.event({ type: "cached", stage: stage.name, key, waited: false });
    return { entry: hit, cached: true };
  }
  if (!forced) await tellDamaged(stage.name, key, store, reporter);
  const lock = await store.lock(
    key,
    (holder) => reporter.event({ type: "waiting", stage: stage.name, holder }),
    signal,
  );
  try {
    const done = forced ? undefined : await store.getKey(key);
    if (done !== undefined) {
      reporter.event({ type: "cached", stage: stage.name, key, waited: true });
      return { entry: done, cached: true };
    }
    reporter.event({ type: "running", stage: stage.name, key });
    const entry = await execute(stage, planned, planner, opts, signal);
    await store.putKey(key, entry);
    reporter.event({ type: "done", stage: stage.name, seconds: entry.seconds });
    return { entry, cached: false };
  } finally {
    await lock.release();
  }
}

/**
 * Says so when a key's entry is there but an output it names is damaged on disk (present, but
 * its bytes no longer hash to its name): the store's cache lookup takes that as a miss, and the
 * stage computes the output again, repairing the object.
 */
async function tellDamaged(
  stage: string,
  key: StageKey,
  store: Store,
  reporter: Reporter,
): Promise<void> {
  const entry = await store.readKey(key).catch(() => undefined);
  if (entry === undefined) return;
  const damaged: string[] = [];
  for (const [name, digest] of Object.entries(entry.outputs)) {
    // Only words: an object that cannot even be checked is left to the stage's own run.
    const bad = await store.has(digest).then(async (has) => has && !(await store.intact(digest)))
      .catch(() => false);
    if (bad) damaged.push(`${name} (${digest.slice(0, 12)})`);
  }
  if (damaged.length === 0) return;
  const one = damaged.length === 1;
  reporter.warn(
    stage,
    `its cached output${one ? "" : "s"} ${damaged.join(", ")} ${
      one ? "was" : "were"
    } damaged on disk; computing ${one ? "it" : "them"} again`,
  );
}

/** Runs every stage's own config check before anything runs, so a bad value fails at once. */
function checkStages(stages: readonly Stage[], loaded: LoadedConfig): void {
  for (const stage of stages) {
    try {
      stage.check?.(sliceConfig(loaded.config, stage.reads));
    } catch (e) {
      throw new ConfigError(`${loaded.path}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/**
 * What a stage's failure tells the user: one sentence with the stage's name in front, once. A
 * file system error names the store (or the file) and what to do; an error the stage raised for
 * bad input keeps its words; anything else is an internal error, whose trace --verbose prints.
 */
function failure(stage: string, e: unknown, store: Store): unknown {
  if (e instanceof PipelineError) return e;
  if (e instanceof Deno.errors.NotCapable) {
    // Deno's words advise --allow-all; the pipeline never needs such a path.
    return new StageFailedError(stage, `${describeNotCapable(e)}; check the paths in the config`, {
      cause: e,
    });
  }
  if (isFsError(e)) {
    // Deno's message ends with the path it was working on: name the store or that file.
    const path = /'([^']*)'\s*$/.exec((e as Error).message)?.[1];
    const where = path === undefined || path.startsWith(`${store.root}/`)
      ? `the store ${store.root}`
      : path;
    return new StageFailedError(
      stage,
      `${describeFsError(e)} at ${where}; ${
        fsErrorAdvice(e)
      }, then run the same command again (completed stages are kept)`,
      { cause: e },
    );
  }
  const err = e as Error;
  return new StageFailedError(
    stage,
    e instanceof StageInputError
      ? err.message
      : `failed unexpectedly: ${err.message} (--verbose shows where)`,
    { cause: e },
  );
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
  planned: PlannedKey,
  planner: KeyPlanner,
  opts: RunOptions,
  signal: AbortSignal,
): Promise<KeyEntry> {
  const { store, reporter } = opts;
  const { components, key } = planned;
  const inputs = await decodeInputs(stage, planned, store);
  const metrics: Record<string, Metric> = {};
  const warnings: string[] = [];
  const resume = store.resumeState(key);
  const digests = stage.readsDataset
    ? new RememberedDigests(
      opts.loaded.config.dataset.dir,
      store,
      opts.force?.includes(stage.name) ?? false,
    )
    : undefined;
  const ctx: StageContext = {
    ...(digests && { datasetDigest: (path: string) => digests.sha256(path) }),
    ...filesOf(stage, planned, planner, opts.loaded),
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
  let produced: Record<string, unknown>;
  try {
    produced = await stage.run(inputs, planned.slice, ctx);
  } catch (e) {
    // What an interrupted scan read is kept, so the next one does not read it again.
    await digests?.keep(false, reporter, stage.name);
    throw e;
  }
  const seconds = (performance.now() - t) / 1000;
  const outputs: Record<string, Digest> = {};
  for (const name of Object.keys(stage.outputs).sort()) {
    if (!(name in produced)) throw new Error(`the stage returned no ${name}`);
    outputs[name] = await store.put(stage.outputs[name]!.encode(produced[name]));
  }
  // After the outputs: on a nearly full disk, the results matter and the cache does not.
  await digests?.keep(true, reporter, stage.name);
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

/** The stage's inputs, read from the store and decoded by their codecs. */
async function decodeInputs(
  stage: Stage,
  planned: PlannedKey,
  store: Store,
): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(stage.inputs)) {
    const digest = planned.components.inputs[spec.stage]?.[spec.output];
    if (digest === undefined) {
      throw new StageFailedError(
        stage.name,
        `${spec.stage} wrote no ${spec.output}; rerun with --force ${spec.stage}`,
      );
    }
    try {
      inputs[name] = spec.codec.decode(await store.get(digest));
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      throw new StageFailedError(
        stage.name,
        `${spec.stage}'s ${spec.output} cannot be read: ${e.message}; rerun with --force ${spec.stage}`,
        { cause: e },
      );
    }
  }
  return inputs;
}

/**
 * What a stage may read beyond its inputs: the dataset (listed as its key saw it) and the files
 * it declares, each checked against the digest its key was computed from.
 */
function filesOf(
  stage: Stage,
  planned: PlannedKey,
  planner: KeyPlanner,
  loaded: LoadedConfig,
): Pick<StageContext, "listDataset" | "readDataset" | "readFile"> {
  const dir = loaded.config.dataset.dir;
  return {
    listDataset: async () =>
      (await planner.dataset()).listing.map(({ path, size }) => ({ path, size })),
    readDataset: (path) => readDatasetFile(dir, path),
    readFile: async (path) => {
      const digest = planned.components.files?.[path];
      const key = Object.entries(stage.files?.(planned.slice) ?? {}).find(([, p]) => p === path)
        ?.[0];
      if (digest === undefined || key === undefined) {
        throw new Error(`${path} is not a file the stage declares in files()`);
      }
      const bytes = await readDeclaredFile(loaded.path, key, path);
      if (digestOf(bytes) !== digest) {
        throw new StageFailedError(
          stage.name,
          `${key} ${path} changed while the run was using it; run the same command again`,
        );
      }
      return bytes;
    },
  };
}

/**
 * The sha256 of dataset files remembered by stat from earlier runs, in the store's
 * `cache/dataset-digests/` (one file per dataset folder), for a stage that reads the dataset
 * (StageContext.datasetDigest, for scan). Opened on first use. A forced stage reads every file again:
 * `--force scan` is also the way past a remembered digest that is wrong.
 */
class RememberedDigests {
  #opened?: Promise<FileDigests>;

  constructor(readonly dir: string, readonly store: Store, readonly forced: boolean) {}

  async sha256(path: string): Promise<string> {
    this.#opened ??= Deno.realPath(this.dir).then((real) =>
      FileDigests.open(this.dir, {
        cacheFile: `${this.store.root}/cache/dataset-digests/${sha256Hex(real)}.json`,
        trust: !this.forced,
        tmpDir: `${this.store.root}/tmp`,
      })
    );
    return (await this.#opened).sha256(path);
  }

  /**
   * Saves what was learnt and says how many files were read. A cache is never worth a failure:
   * one that cannot be written (a full disk) is passed over in silence, as the soundfont's is.
   */
  async keep(complete: boolean, reporter: Reporter, stage: string): Promise<void> {
    const digests = await this.#opened?.catch(() => undefined);
    if (digests === undefined) return;
    if (complete && digests.remembered > 0) {
      reporter.info(
        stage,
        `${digests.hashed} of ${
          digests.hashed + digests.remembered
        } files read; the others are unchanged since an earlier scan (size, mtime, ctime, inode)`,
      );
    }
    await digests.save(complete);
  }
}
