/**
 * The contract between the runner and the eight stages.
 *
 * A stage is a pure function from its inputs (the outputs of upstream stages, as bytes) and
 * the slice of the config it declares to named output bytes. Everything a stage needs from the
 * outside world (dataset files, progress, logging, metrics) comes through {@link StageContext},
 * so that the runner can hash exactly what a stage depends on. Stages import only types from
 * core/, never the runner, the store or the CLI.
 *
 * @module
 */
import type { Config } from "./config_schema.ts";

/** Named output bytes of one stage, e.g. `{ "notes.json": ..., }`. */
export type Outputs = Record<string, Uint8Array>;

/** The outputs of every upstream stage a stage declared, by stage name. */
export type Inputs = Record<string, Outputs>;

/** A JSON-able metric value recorded in the run record. */
export type Metric = number | string | boolean | null | Metric[] | { [key: string]: Metric };

/** A progress bar for long work: counts, rate and time left are drawn by the runner. */
export interface Progress {
  /** Advances the bar by `n` (default 1); `note` replaces the text after the bar (e.g. the loss). */
  tick(n?: number, note?: string): void;
  /** Ends the bar. */
  done(): void;
}

/** A file found under the dataset folder. `path` is relative to the dataset folder, with `/`. */
export interface DatasetEntry {
  path: string;
  size: number;
}

/** Everything a stage may ask of the outside world. */
export interface StageContext {
  /** Lists every file under the dataset folder (`dataset.dir`), recursively, sorted by path. */
  listDataset(): Promise<DatasetEntry[]>;
  /** Reads one dataset file by its path relative to `dataset.dir`. */
  readDataset(path: string): Promise<Uint8Array>;
  /** Prints an informational line (not shown in quiet mode). */
  info(message: string): void;
  /** Prints a warning; warnings are also listed in the run record. */
  warn(message: string): void;
  /** Records a metric in the run record under this stage's name. */
  metric(name: string, value: Metric): void;
  /** Starts a progress bar of `total` steps. */
  progress(label: string, total: number): Progress;
  /** Aborted when the user interrupts the run. */
  signal: AbortSignal;
  /**
   * Work in progress, kept for this stage key when a run stops before the stage ends (Ctrl-C, a
   * crash), so a long stage can resume where it was instead of starting over. `save` replaces
   * what was saved (atomically: a reader sees the old set or the new one); the runner drops it
   * once the stage completes.
   */
  resume: ResumeState;
}

/** Saved work in progress of one stage key. */
export interface ResumeState {
  /** What the last `save` of this stage key stored, if anything. */
  load(): Promise<Outputs | undefined>;
  /** Replaces the saved work in progress. */
  save(files: Outputs): Promise<void>;
}

/** The config sections a stage may declare it reads. */
export type Section = keyof Config;

/**
 * One node of the DAG.
 *
 * `reads` lists the config sections the stage reads; the runner passes only those sections and
 * hashes only those into the stage key, so changing any other key invalidates nothing here.
 */
export interface Stage<S extends Section = Section> {
  /** The stage's name: the same as its file name and its DAG id. */
  readonly name: string;
  /**
   * The stage's own module (`import.meta.url`): its code, and every project module it imports,
   * is part of its key.
   */
  readonly module: string;
  /** One line saying what the stage does (shown by `status`). */
  readonly description: string;
  /** Upstream stage names whose outputs this stage reads. */
  readonly inputs: readonly string[];
  /** Config sections this stage reads. */
  readonly reads: readonly S[];
  /** True when the stage reads the dataset folder: the runner adds the folder's stat fingerprint
   * (path, size, mtime of every file) to the key, so an edited file makes the stage stale. */
  readonly readsDataset?: boolean;
  /**
   * Facts beyond code, config and inputs that change the bytes this stage writes (the tfjs
   * version, the compute backend). Added to the key; resolved before the stage runs.
   */
  environment?(config: Pick<Config, S>): Promise<Record<string, string>>;
  /**
   * Config keys (`section.key`) whose resolved value {@link environment} reports, such as
   * `train.backend` (auto → wasm). The key holds the resolved value instead of the one written,
   * so writing `wasm` where `auto` already meant wasm does not retrain.
   */
  readonly settledByEnvironment?: readonly string[];
  /**
   * Checks the config slice before any stage of the run executes, so a value that cannot work
   * (a model too big for this machine) fails at once instead of after the stages before it.
   * Throws an Error whose message names the keys to change.
   */
  check?(config: Pick<Config, S>): void;
  /** Does the work. Must not touch the file system except through `ctx`. */
  run(inputs: Inputs, config: Pick<Config, S>, ctx: StageContext): Promise<Outputs>;
}

/** Declares a stage with its config slice typed from `reads`. */
export function defineStage<S extends Section>(stage: Stage<S>): Stage<S> {
  return stage;
}

/** Thrown by a stage for bad input the user can fix; the CLI prints the message as one line. */
export class StageInputError extends Error {
  override name = "StageInputError";
}
