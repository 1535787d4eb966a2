/**
 * Shared test helpers: a fake stage context, a collecting reporter, temp folders.
 *
 * @module
 */
import { emptySequences } from "../formats/sequences.ts";
import assert from "node:assert/strict";
import { type Config, defaultConfig } from "../formats/config_schema.ts";
import type { Reporter } from "../core/runner.ts";
import { describeEvent } from "../cli/console_reporter.ts";
import { PERMISSIONS } from "../cli/permissions.ts";
import { tokenIds } from "../formats/tokens.ts";
import { buildVocab } from "../stages/vocab.ts";
import { makeWindows } from "../stages/support/windows.ts";
import type {
  DatasetEntry,
  Metric,
  Outputs,
  Progress,
  ResumeState,
  StageContext,
} from "../core/stage.ts";

/** What a fake context or reporter collected. */
export interface Collected {
  lines: string[];
  infos: string[];
  warnings: string[];
  metrics: Record<string, Metric>;
}

const noProgress: Progress = { tick() {}, done() {} };

/**
 * A stage context over an in-memory dataset; collects warnings and metrics. `readFile` reads the
 * in-memory `declared` files (path → bytes), as the runner reads the files a stage declares.
 */
export function fakeContext(
  files: Record<string, Uint8Array> = {},
  declared: Record<string, Uint8Array> = {},
): StageContext & { collected: Collected } {
  const collected: Collected = { lines: [], infos: [], warnings: [], metrics: {} };
  return {
    collected,
    listDataset: () =>
      Promise.resolve(
        Object.keys(files).sort().map((path): DatasetEntry => ({
          path,
          size: files[path]!.length,
        })),
      ),
    readDataset: (path) => {
      const bytes = files[path];
      return bytes === undefined
        ? Promise.reject(new Error(`no such file ${path}`))
        : Promise.resolve(bytes);
    },
    readFile: (path) => {
      const bytes = Object.hasOwn(declared, path) ? declared[path] : undefined;
      return bytes === undefined
        ? Promise.reject(new Error(`${path} is not a declared file`))
        : Promise.resolve(bytes);
    },
    info: (m) => collected.infos.push(m),
    warn: (m) => collected.warnings.push(m),
    metric: (k, v) => {
      collected.metrics[k] = v;
    },
    progress: () => noProgress,
    signal: new AbortController().signal,
    resume: memoryResume(),
  };
}

/** Work-in-progress state kept in memory, as the store keeps it on disk. */
export function memoryResume(): ResumeState & { saved: Outputs | undefined } {
  const state = {
    saved: undefined as Outputs | undefined,
    load: () => Promise.resolve(state.saved),
    save: (files: Outputs) => {
      state.saved = { ...files };
      return Promise.resolve();
    },
  };
  return state;
}

/** A reporter that keeps every line instead of printing. */
export function collectingReporter(): Reporter & { collected: Collected } {
  const collected: Collected = { lines: [], infos: [], warnings: [], metrics: {} };
  return {
    collected,
    event: (e) => collected.lines.push(describeEvent(e)),
    info: (s, t) => collected.infos.push(`${s}: ${t}`),
    warn: (s, t) => collected.warnings.push(`${s}: ${t}`),
    progress: () => noProgress,
  };
}

/** UTF-8 bytes of a string. */
export const utf8 = (s: string) => new TextEncoder().encode(s);

/** The project root (the folder holding deno.json). */
export const PROJECT_ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** About 50 tokens of a little tune: 7 distinct tokens. */
export const TUNE: string[] = Array.from(
  { length: 50 },
  (_, i) => ["C4", "E4", "G4", "C5", "4.7", "B3", "D4"][(i * 3 + (i >> 2)) % 7]!,
);

/** A model small enough to train in well under a second: windows of 8, 8 LSTM units. */
export function tinyTrainConfig(): Config {
  const config = defaultConfig();
  config.window.length = 8;
  Object.assign(config.train, {
    backend: "cpu",
    lstm: "tfjs",
    lstmUnits: 8,
    denseUnits: 4,
    epochs: 2,
    batchSize: 16,
    learningRate: 0.01,
  });
  return config;
}

/** The Groove MIDI Dataset as it ships in the repo (the same files as ../shared/datasets/groove). */
export const GROOVE = `${PROJECT_ROOT}/data/groove`;

/** Runs `deno task pipeline ARGS` as a user would (same permissions), from the project root. */
export async function pipeline(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "pipeline.ts", ...args],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A YAML config in a temp file. */
export async function tempConfig(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(path, text);
  return path;
}

/** Asserts that stderr is one line matching `pattern`, with no stack trace. */
export function assertOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

/** The eight stages, in the order the pipeline runs them. */
export const EIGHT_STAGES = [
  "scan",
  "sample200",
  "parse",
  "vocab",
  "window",
  "train",
  "generate",
  "render",
];

/**
 * A whole pipeline run small enough for an end-to-end CLI test: quick.yaml on 6 files, 1 epoch of
 * layers of 16 units in steps of 128 windows, a piece of 16 tokens (about 2 s of work; quick.yaml's
 * layers, steps and piece would take twice that). A later `--set` of the same key wins.
 */
export const SMALL_RUN = [
  "--config",
  "quick.yaml",
  "--set",
  "sample.count=6",
  "--set",
  "train.epochs=1",
  "--set",
  "train.lstmUnits=16",
  "--set",
  "train.denseUnits=16",
  "--set",
  "train.batchSize=128",
  "--set",
  "generate.length=16",
];

/**
 * What the window, vocab and heldout stages give train for `notes`, windows of `length`; the
 * held-out windows come from `heldout` (none by default), cut with the same vocabulary.
 */
export function trainInputs(notes: readonly string[], length: number, heldout: string[] = []) {
  const vocab = buildVocab(notes);
  const index = tokenIds(vocab);
  const cut = (tokens: readonly string[]) =>
    makeWindows(Int32Array.from(tokens, (t) => index.get(t) ?? -1), length, vocab.tokens.length);
  const train = cut(notes);
  const held = cut(heldout);
  return {
    x: { dtype: "float32" as const, shape: [train.count, length, 1], data: train.x },
    y: { dtype: "int32" as const, shape: [train.count], data: train.y },
    vocab,
    valX: { dtype: "float32" as const, shape: [held.count, length, 1], data: held.x },
    valY: { dtype: "int32" as const, shape: [held.count], data: held.y },
    // What the sequence network would read instead (stages/support/train_sequence.ts): none here.
    notes: [...notes],
    report: [],
    encoding: { encoding: "music21" as const, stepsPerQuarter: 4, velocity: "off" as const },
    validationFiles: emptySequences(),
    testFiles: emptySequences(),
  };
}
