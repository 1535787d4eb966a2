/**
 * What the report page's "Play with the model" section needs beside the page, in `report/`:
 * TensorFlow.js's browser build (`tf.min.js`, copied from the project's own npm dependency),
 * the run's checkpoint as a script (`model.js`), and the page's code (`player.js`:
 * report/player_browser.js after model/random.js, the pipeline's seeded generator, made a
 * classic script by {@link classicRandomScript}).
 *
 * The checkpoint travels as a script that sets a global, not as `model.json` + `weights.bin`:
 * Chromium refuses `fetch()` of file:// URLs, so `tf.loadLayersModel("model.json")` cannot work
 * from a page opened from disk, while a `<script src>` beside the page loads. The browser hands
 * the same topology, weight specs and weight bytes to `tf.io.fromMemory`, as
 * model/checkpoint.ts does in Deno.
 *
 * Everything musical is worked out here, so the page needs no music code: `model.js` holds, for
 * every vocabulary token, the MIDI pitches render writes for it (music/encoding.ts's
 * renderTokens, with the run's token encoding, `render.*` settings and parse's voicings), and how
 * far apart tokens sound.
 *
 * @module
 */
import type { RunRecord } from "../core/run_record.ts";
import type { Store } from "../core/storage.ts";
import type { Digest } from "../core/hash.ts";
import {
  type TokenEncoding,
  tokenEncoding,
  tokenList,
  vocabulary,
  type Voicings,
  voicingTable,
} from "../formats/tokens.ts";
import { quartersPerToken, renderTokens } from "../music/encoding.ts";

/** The browser's copy of TensorFlow.js: the npm dependency's browser build (deno.json). */
const TFJS_PACKAGE = new URL("../node_modules/@tensorflow/tfjs/", import.meta.url);

/** The page's code, a plain browser script kept as a real file so it can be read and linted. */
const PLAYER_SCRIPT = new URL("./player_browser.js", import.meta.url);

/** The pipeline's seeded generator, which the page's code draws from (`MODEL_RANDOM`). */
const RANDOM_MODULE = new URL("../model/random.js", import.meta.url);

/** File names under `report/`, in the order the page loads them. */
export const PLAYER_FILES = ["tf.min.js", "model.js", "player.js"] as const;

/** Everything the page's player knows about the run; `model.js` sets it as `RUN_MODEL`. */
export interface PlayerModel {
  /** The checkpoint's Keras topology, as model.json holds it. */
  modelTopology: unknown;
  /** The weights manifest's entries, in weights.bin's order. */
  weightSpecs: unknown[];
  /** weights.bin, base64. */
  weightsBase64: string;
  /** The vocabulary: a token's class id is its index. */
  vocabulary: string[];
  /** Tokens per input window (`window.length`). */
  windowLength: number;
  /**
   * The tokens generation started from (the seeded window of the training tokens), when the run
   * says which; empty for a primed run, whose primer is not in the store.
   */
  startWindow: string[];
  /** The generated piece. */
  piece: string[];
  /** For each vocabulary token (same index), the MIDI pitches render writes for it. */
  pitches: number[][];
  /** What render plays the notes on: the tutorial's piano, or General MIDI drums. */
  instrument: "piano" | "drums";
  /** Seconds from one token to the next, as render times them. */
  stepSeconds: number;
  /** Seconds a note sounds, as render writes it. */
  noteSeconds: number;
  /** The run's `generate.temperature` and `generate.seed`, shown beside the controls. */
  temperature: number;
  seed: number;
  /** The TensorFlow.js version of the copied browser build. */
  tfjsVersion: string;
}

/** The player's files, or the one sentence saying why the page has no player. */
export type PlayerAssets =
  | { files: Record<(typeof PLAYER_FILES)[number], Uint8Array>; model: PlayerModel }
  | { reason: string };

/**
 * The files the player needs for `record`'s run, read from `store` and the project's
 * node_modules; a reason instead when the run has no checkpoint or the browser build is missing.
 */
export async function playerAssets(store: Store, record: RunRecord): Promise<PlayerAssets> {
  const outputs = (stage: string) => record.stages[stage]?.outputs ?? {};
  const needed = {
    modelJson: outputs("train")["model.json"],
    weights: outputs("train")["weights.bin"],
    vocab: outputs("vocab")["vocab.json"],
    tokens: outputs("generate")["tokens.json"],
  };
  if (needed.modelJson === undefined || needed.weights === undefined) {
    return { reason: "No model to play with: the train stage did not run." };
  }
  if (needed.vocab === undefined || needed.tokens === undefined) {
    return { reason: "No model to play with: the generate stage did not run." };
  }
  if (record.config.train.network === "sequence") {
    return {
      reason:
        "The in-browser player runs the tutorial's network; this run's sequence network is played here from its generated pieces only.",
    };
  }
  const tfjs = await readTfjs();
  if ("reason" in tfjs) return tfjs;
  const get = (digest: Digest) => store.get(digest);
  const parse = outputs("parse");
  const optional = (digest: Digest | undefined) =>
    digest === undefined ? Promise.resolve(undefined) : get(digest);
  const built = playerModel(
    {
      modelJson: await get(needed.modelJson),
      weights: await get(needed.weights),
      vocab: await get(needed.vocab),
      tokens: await get(needed.tokens),
      notes: await optional(parse["notes.json"]),
      voicings: await optional(parse["voicings.json"]),
      encoding: await optional(parse["encoding.json"]),
    },
    record,
    tfjs.version,
  );
  if ("reason" in built) return built;
  const encoder = new TextEncoder();
  return {
    model: built,
    files: {
      "tf.min.js": tfjs.bytes,
      "model.js": encoder.encode(playerModelScript(built, record.configHash)),
      "player.js": encoder.encode(await playerScript()),
    },
  };
}

/**
 * The store objects {@link playerModel} reads: train's checkpoint, vocab's vocabulary,
 * generate's piece and parse's tokens, voicings and encoding (where parse recorded them).
 */
export interface PlayerInputs {
  modelJson: Uint8Array;
  weights: Uint8Array;
  vocab: Uint8Array;
  tokens: Uint8Array;
  notes?: Uint8Array;
  voicings?: Uint8Array;
  encoding?: Uint8Array;
}

/** The encoding of a run whose parse recorded none: the tutorial's. */
const MUSIC21: TokenEncoding = { encoding: "music21", stepsPerQuarter: 4, velocity: "off" };

/**
 * The player's view of a run, from its store objects: the checkpoint, the vocabulary with each
 * token's pitches, and the tokens it can start from. A reason instead when they do not fit.
 */
export function playerModel(
  inputs: PlayerInputs,
  record: RunRecord,
  tfjsVersion: string,
): PlayerModel | { reason: string } {
  const config = record.config;
  const windowLength = config.window.length;
  let json: { modelTopology?: unknown; weightsManifest?: { weights: unknown[] }[] };
  let vocab: string[];
  let piece: string[];
  let encoding: TokenEncoding;
  let voicings: Voicings;
  try {
    json = JSON.parse(new TextDecoder().decode(inputs.modelJson));
    vocab = vocabulary.decode(inputs.vocab).tokens;
    piece = tokenList.decode(inputs.tokens);
    encoding = inputs.encoding ? tokenEncoding.decode(inputs.encoding) : MUSIC21;
    voicings = inputs.voicings ? voicingTable.decode(inputs.voicings) : {};
  } catch (e) {
    return { reason: `No model to play with: the run's outputs cannot be read (${message(e)}).` };
  }
  if (json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
    return { reason: "No model to play with: the checkpoint's model.json has no topology." };
  }
  const startWindow = seedWindow(inputs.notes, record, windowLength);
  if (startWindow.length + piece.length < windowLength) {
    return {
      reason: `No model to play with: the piece has ${piece.length} tokens, fewer than a ` +
        `window (${windowLength}), and the tokens it started from are not in the store.`,
    };
  }
  // Each token rendered alone: its notes are exactly the ones render writes for it in a piece.
  const rendered = vocab.map((token) => renderTokens([token], encoding, config.render, voicings));
  const durations = rendered.flatMap((r) =>
    r.notes.map((n) => n.durationTicks / r.ticksPerQuarter)
  );
  // music21 tokens are written with no tempo, so MIDI's default 120 bpm holds; a grid has its own.
  const quarter = 60 / (encoding.encoding === "drum-grid" ? config.render.bpm : 120);
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightsBase64: base64(inputs.weights),
    vocabulary: vocab,
    windowLength,
    startWindow,
    piece,
    pitches: rendered.map((r) => r.notes.map((n) => n.pitch)),
    instrument: rendered.some((r) => r.drums) ? "drums" : "piano",
    stepSeconds: quartersPerToken(encoding, config.render) * quarter,
    noteSeconds: (durations.length > 0 ? Math.max(...durations) : 1) * quarter,
    temperature: config.generate.temperature,
    seed: config.generate.seed,
    tfjsVersion,
  };
}

/**
 * The window generate started the piece from: `window.length` training tokens from the
 * `startIndex` it recorded (the first, where it generated several pieces: tokens.json is the
 * first piece). Empty for a primed run (its primer is a file outside the store).
 */
function seedWindow(notes: Uint8Array | undefined, record: RunRecord, length: number): string[] {
  const recorded = record.metrics["generate"]?.["startIndex"];
  const start = Array.isArray(recorded) ? recorded[0] : recorded;
  if (typeof start !== "number" || notes === undefined) return [];
  const tokens = tokenList.decode(notes);
  const window = tokens.slice(start, start + length);
  return window.length === length ? window : [];
}

/** `model.js`: a script that sets `RUN_MODEL` (a script, because file:// pages cannot fetch). */
export function playerModelScript(model: PlayerModel, configHash: string): string {
  return `// The checkpoint and tokens of run ${configHash}, for report/player.js ` +
    `(written by report/player.ts).\nglobalThis.RUN_MODEL = ${JSON.stringify(model)};\n`;
}

/** `player.js`: model/random.js as a classic script, then report/player_browser.js. */
async function playerScript(): Promise<string> {
  const random = classicRandomScript(await Deno.readTextFile(RANDOM_MODULE));
  return `${random}\n${await Deno.readTextFile(PLAYER_SCRIPT)}`;
}

/**
 * model/random.js (given as `source`) as a classic script that sets `MODEL_RANDOM` to its
 * functions: a page opened from file:// cannot import an ES module in Chromium, so the module's
 * own text goes into the page, its `export` keywords dropped, inside a function. The module is
 * written for this (no imports, every export a function declaration); one that is not is refused
 * rather than half copied.
 */
export function classicRandomScript(source: string): string {
  if (/^\s*import\b/m.test(source) || /^export (?!function )/m.test(source)) {
    throw new Error(
      "model/random.js must import nothing and export only function declarations: " +
        "report/player.ts copies it into the page as a classic script",
    );
  }
  const names = [...source.matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
  return "// model/random.js, the pipeline's seeded generator, as a classic script " +
    "(written by report/player.ts).\n" +
    `globalThis.MODEL_RANDOM = (() => {\n"use strict";\n` +
    source.replace(/^export function /gm, "function ") +
    `return { ${names.join(", ")} };\n})();\n`;
}

/** The browser build of the tfjs npm dependency, or why it is missing. */
async function readTfjs(): Promise<{ bytes: Uint8Array; version: string } | { reason: string }> {
  const script = new URL("dist/tf.min.js", TFJS_PACKAGE);
  try {
    const bytes = await Deno.readFile(script);
    const pkg = JSON.parse(await Deno.readTextFile(new URL("package.json", TFJS_PACKAGE)));
    return { bytes, version: String(pkg.version) };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return {
      reason: `No model to play with: TensorFlow.js's browser build was not found at ` +
        `${decodeURIComponent(script.pathname)} (run \`deno install\` in the project).`,
    };
  }
}

/** Bytes as base64, in chunks (a spread of millions of arguments would overflow the stack). */
function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
