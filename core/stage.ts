/**
 * The contract between the runner and the stages.
 *
 * A stage is a pure function from typed inputs (outputs of upstream stages, each read with the
 * codec its declaration names) and the slice of the config it declares, to typed outputs (each
 * written with its declared codec). The runner decodes and encodes at the boundary, so a stage
 * never sees bytes it did not ask for and never hand-validates them. Everything a stage needs from
 * the outside world (dataset files, progress, logging, metrics) comes through
 * {@link StageContext}, so that the runner can hash exactly what a stage depends on. Stages import
 * only this module, hashing and the config's types from core/; they never import each other.
 *
 * @module
 */
import type { Codec } from "../formats/codec.ts";
import type { Config } from "../formats/config_schema.ts";

/** Named output bytes of one stage, as stored (and as work in progress is saved). */
export type Outputs = Record<string, Uint8Array>;

/** One input of a stage: the output `output` of the upstream stage `stage`, read with `codec`. */
export interface Input<T> {
  readonly stage: string;
  readonly output: string;
  readonly codec: Codec<T>;
}

/** Declares an input: `input("parse", "notes.json", tokenList)`. */
export function input<T>(stage: string, output: string, codec: Codec<T>): Input<T> {
  return { stage, output, codec };
}

// `any` is the one way to say "an input or codec of some type" for a heterogeneous record
// whose members keep their own types (Codec<T> is invariant in T).
// deno-lint-ignore no-explicit-any
type InputSpecs = Record<string, Input<any>>;
// deno-lint-ignore no-explicit-any
type OutputSpecs = Record<string, Codec<any>>;

/** The decoded values of a stage's inputs. */
export type InputValues<I extends InputSpecs> = {
  [K in keyof I]: I[K] extends Input<infer T> ? T : never;
};
/** The values a stage returns, one per declared output. */
export type OutputValues<O extends OutputSpecs> = {
  [K in keyof O]: O[K] extends Codec<infer T> ? T : never;
};

/** A JSON-able metric value recorded in the run record. */
export type Metric = number | string | boolean | null | Metric[] | { [key: string]: Metric };

/** A plain data value (numbers, strings, nested objects) as a metric, NaN as null as JSON writes it. */
export function asMetric(value: unknown): Metric {
  return JSON.parse(JSON.stringify(value)) as Metric;
}

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
  /**
   * The sha256 of a dataset file, remembered by its stat between runs where the runner can
   * (DECISIONS.md 10), so a scan after a few files changed reads only those; a context without
   * it (a test's) leaves the stage to read and hash the bytes.
   */
  datasetDigest?(path: string): Promise<string>;
  /**
   * Reads a file outside the dataset that the stage declared in {@link StageDefinition.files},
   * by the path as declared: the bytes whose digest is in the stage key (a file changed since
   * the key was made is an error). Any other path is refused.
   */
  readFile(path: string): Promise<Uint8Array>;
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

/** What renders MIDI to audio on this machine, or why nothing can. */
export type SynthDescription =
  | {
    available: true;
    /** The program and its version, e.g. `fluidsynth 2.3.1`. */
    program: string;
    /** The soundfont's path, for messages. */
    soundfont: string;
    /** The sha256 of the soundfont file. */
    soundfontSha256: string;
    /** The options that decide the audio's bytes (format, sample rate, gain), as passed. */
    settings: string;
  }
  | {
    available: false;
    /** Why not and what to install, in a few words, e.g. `fluidsynth is not installed (…)`. */
    reason: string;
  };

/** A MIDI synthesizer: found once, then asked to render. */
export interface Synthesizer {
  /** What renders here, or why nothing can; probed on the first call and remembered. */
  describe(): Promise<SynthDescription>;
  /**
   * The Standard MIDI File `midi` as FLAC audio (16-bit stereo). Rejects with a
   * {@link SynthesisError} when {@link describe} says no synthesizer is available, or when the
   * synthesizer fails.
   */
  render(midi: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
}

/** The synthesizer ran but wrote no audio, or said it failed; the message is in its words. */
export class SynthesisError extends Error {
  override name = "SynthesisError";
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
export interface StageDefinition<
  S extends Section,
  I extends InputSpecs,
  O extends OutputSpecs,
> {
  /** The stage's name: its DAG id, and the name of its file under stages/. */
  readonly name: string;
  /**
   * The stage's own module (`import.meta.url`): its code, and every project module it imports,
   * is part of its key.
   */
  readonly module: string;
  /** One line saying what the stage does (shown by `status`). */
  readonly description: string;
  /** What the stage reads of upstream stages, by the name `run` receives it under. */
  readonly inputs: I;
  /** What the stage writes: output file name → codec. */
  readonly outputs: O;
  /** Config sections this stage reads. */
  readonly reads: readonly S[];
  /** True when the stage reads the dataset folder: the runner adds the folder's stat fingerprint
   * (path, size, mtime of every file) to the key, so an edited file makes the stage stale. */
  readonly readsDataset?: boolean;
  /**
   * Files outside the dataset the stage reads, by the config key that names each (`section.key`
   * → path, relative to the folder the pipeline runs from). Their content digests join the key,
   * so an edited file makes the stage stale; a missing one is a config error before any stage
   * runs. The stage reads them with {@link StageContext.readFile}.
   */
  files?(config: Pick<Config, S>): Record<string, string>;
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
  run(
    inputs: InputValues<I>,
    config: Pick<Config, S>,
    ctx: StageContext,
  ): Promise<OutputValues<O>>;
}

/** Any stage, as the runner and the DAG handle them. */
export type Stage = StageDefinition<Section, InputSpecs, OutputSpecs>;

/** Declares a stage, typing its config slice from `reads`, its inputs and its outputs. */
export function defineStage<S extends Section, I extends InputSpecs, O extends OutputSpecs>(
  stage: StageDefinition<S, I, O>,
): StageDefinition<S, I, O> {
  return stage;
}

/** The upstream stages a stage reads from, each once, in declaration order. */
export function upstreamStages(stage: Stage): string[] {
  return [...new Set(Object.values(stage.inputs).map((i) => i.stage))];
}

/** Thrown by a stage for bad input the user can fix; the CLI prints the message as one line. */
export class StageInputError extends Error {
  override name = "StageInputError";
}
