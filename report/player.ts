/**
 * What the report page's "Play with the model" section needs beside the page, in `report/`: the
 * run's checkpoint as a script (`model.js`), the page's code (`player.js`: the pipeline's own
 * plain-JS modules made classic scripts by {@link classicScript}, then
 * report/player_browser.js) and, for the tutorial's network, TensorFlow.js's browser build
 * (`tf.min.js`, copied from the project's own npm dependency).
 *
 * The player comes in one kind per network, dispatched on `RUN_MODEL.kind` in the page:
 * - `window`, the tutorial's network: the browser hands the checkpoint's topology, weight specs
 *   and weight bytes to `tf.io.fromMemory`, as model/checkpoint.ts does in Deno, and predicts
 *   from windows as stages/generate.ts does;
 * - `sequence` and `transformer`, the Groove recipe's networks (report/sequence_player.ts): the
 *   page steps the weights with the network's step module (model/sequence/lstm_step.js or
 *   transformer_step.js) through model/continuation.js, the code generate itself runs,
 *   so it needs no TensorFlow.js.
 * A further network adds its kind here ({@link PLAYER_MODULES}, {@link playerAssets}), in
 * player_browser.js's `PLAYERS`, and its controls in report/run_page.ts's playerSection.
 *
 * The checkpoint travels as a script that sets a global, not as files to fetch: Chromium refuses
 * `fetch()` of file:// URLs, so `tf.loadLayersModel("model.json")` cannot work from a page
 * opened from disk, while a `<script src>` beside the page loads.
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
  type PiecePrimer,
  piecePrimers,
  type TokenEncoding,
  tokenEncoding,
  tokenList,
  UNKNOWN_TOKEN,
  vocabulary,
  type Voicings,
  voicingTable,
} from "../formats/tokens.ts";
import { quartersPerToken, renderTokens } from "../music/encoding.ts";
import type { Config } from "../formats/config_schema.ts";
import type { StepLayout } from "../model/sequence/lstm_step.js";
import type { TransformerShape } from "../model/sequence/transformer_step.js";
import { tempoOf } from "../stages/support/tempo.ts";
import { primerIds, stepCheckpoint, transformerCheckpoint } from "./sequence_player.ts";

/** The browser's copy of TensorFlow.js: the npm dependency's browser build (deno.json). */
const TFJS_PACKAGE = new URL("../node_modules/@tensorflow/tfjs/", import.meta.url);

/** The page's code, a plain browser script kept as a real file so it can be read and linted. */
const PLAYER_SCRIPT = new URL("./player_browser.js", import.meta.url);

/** The project's root, which {@link PageModule} paths are relative to. */
const PROJECT_ROOT = new URL("../", import.meta.url);

/**
 * A plain-JS module of the pipeline that the page runs too: no imports, every export a
 * `function` declaration (model/random.js says why), so {@link classicScript} can copy it.
 */
export interface PageModule {
  /** The file, relative to the project's root. */
  file: string;
  /** The global the page finds its functions under. */
  global: string;
}

/** The seeded generator, which the page draws from: one seed, the same draws as in Deno. */
const RANDOM: PageModule = { file: "model/random.js", global: "MODEL_RANDOM" };
/** The choice of the next token from the probabilities (argmax, or a temperature draw). */
const SAMPLING: PageModule = { file: "model/sampling.js", global: "MODEL_SAMPLING" };
/** Generation's loop over a stepped network's primers, as generate runs it. */
const CONTINUATION: PageModule = {
  file: "model/continuation.js",
  global: "SEQUENCE_CONTINUATION",
};
/** The sequence network's step-wise inference, as generate runs it. */
const LSTM_STEP: PageModule = { file: "model/sequence/lstm_step.js", global: "LSTM_STEP" };
/** The Transformer's step-wise inference, as generate runs it. */
const TRANSFORMER_STEP: PageModule = {
  file: "model/sequence/transformer_step.js",
  global: "TRANSFORMER_STEP",
};

/** The kinds of player: one per network the page can run (the module's doc says how each runs). */
export type PlayerKind = "window" | SteppedKind;

/** The networks the page steps in plain JavaScript: their `train.network` is their kind. */
export type SteppedKind = "sequence" | "transformer";

/** The modules each kind of player runs, in order, in front of player_browser.js. */
export const PLAYER_MODULES: Readonly<Record<PlayerKind, readonly PageModule[]>> = {
  window: [RANDOM, SAMPLING],
  sequence: [RANDOM, SAMPLING, CONTINUATION, LSTM_STEP],
  transformer: [RANDOM, SAMPLING, CONTINUATION, TRANSFORMER_STEP],
};

/** File names under `report/` for each kind of player, in the order the page loads them. */
export const PLAYER_FILES: Readonly<Record<PlayerKind, readonly string[]>> = {
  window: ["tf.min.js", "model.js", "player.js"],
  sequence: ["model.js", "player.js"],
  transformer: ["model.js", "player.js"],
};

/** How fast tokens sound. */
export interface PlayerTiming {
  /** Seconds from one token to the next, as render times them. */
  stepSeconds: number;
  /** Seconds a note sounds, as render writes it. */
  noteSeconds: number;
}

/** What every kind of player knows about how the run's tokens sound. */
export interface PlayerSound extends PlayerTiming {
  /** The vocabulary: a token's class id is its index. */
  vocabulary: string[];
  /** For each vocabulary token (same index), the MIDI pitches render writes for it. */
  pitches: number[][];
  /** What render plays the notes on: the tutorial's piano, or General MIDI drums. */
  instrument: "piano" | "drums";
}

/** Everything the page's player knows about the run; `model.js` sets it as `RUN_MODEL`. */
export type PlayerModel = WindowPlayerModel | SteppedPlayerModel;

/** The player of a network the page steps: either kind, with its step module's layout. */
export type SteppedPlayerModel = SequencePlayerModel | TransformerPlayerModel;

/** The tutorial network's player: TensorFlow.js runs the checkpoint on windows of tokens. */
export interface WindowPlayerModel extends PlayerSound {
  kind: "window";
  /** The checkpoint's Keras topology, as model.json holds it. */
  modelTopology: unknown;
  /** The weights manifest's entries, in weights.bin's order. */
  weightSpecs: unknown[];
  /** weights.bin, base64. */
  weightsBase64: string;
  /** Tokens per input window (`window.length`). */
  windowLength: number;
  /**
   * The tokens generation started from (the seeded window of the training tokens), when the run
   * says which; empty for a primed run, whose primer is not in the store.
   */
  startWindow: string[];
  /** The generated piece. */
  piece: string[];
  /** The run's `generate.temperature` and `generate.seed`, shown beside the controls. */
  temperature: number;
  seed: number;
  /** The TensorFlow.js version of the copied browser build. */
  tfjsVersion: string;
}

/**
 * What the players of the stepped networks hold: the network's step module steps the
 * checkpoint's weights, and model/continuation.js continues the run's primers as
 * generate does.
 */
export interface SteppedPlayerBase extends PlayerSound {
  /** The weights by layer name, each layer's in its order: float32 arrays as base64. */
  weights: Record<string, string[]>;
  /**
   * One primer per piece generate drew, in its order (a file may come more than once): the file,
   * its ids, and how fast render plays the piece after it (`render.tempo`).
   */
  primers: ({ path: string; ids: number[] } & PlayerTiming)[];
  /** Bars each primer holds (`generate.primeBars`). */
  primeBars: number;
  /** Tokens each piece holds after its primer: the run's. */
  steps: number;
  /** The run's first piece (tokens.json): Play plays it, at the first primer's timing (the
   * model's own), until the page generates. */
  piece: string[];
  /** The run's `generate.temperature` and `generate.seed`: the page's first values. */
  temperature: number;
  seed: number;
}

/** The sequence network's player: model/sequence/lstm_step.js steps it. */
export interface SequencePlayerModel extends SteppedPlayerBase {
  kind: "sequence";
  /** The checkpoint's input layout and gates, as lstm_step.js takes them. */
  layout: StepLayout;
}

/** The Transformer's player: model/sequence/transformer_step.js steps it. */
export interface TransformerPlayerModel extends SteppedPlayerBase {
  kind: "transformer";
  /** The checkpoint's input layout and blocks, as transformer_step.js takes them. */
  layout: TransformerShape;
}

/**
 * The player's files (named as in {@link PLAYER_FILES}, in its order), or the one sentence saying
 * why the page has no player.
 */
export type PlayerAssets =
  | { files: Record<string, Uint8Array>; model: PlayerModel }
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
  const get = (digest: Digest) => store.get(digest);
  const parse = outputs("parse");
  const optional = (digest: Digest | undefined) =>
    digest === undefined ? Promise.resolve(undefined) : get(digest);
  const inputs: PlayerInputs = {
    modelJson: await get(needed.modelJson),
    weights: await get(needed.weights),
    vocab: await get(needed.vocab),
    tokens: await get(needed.tokens),
    notes: await optional(parse["notes.json"]),
    voicings: await optional(parse["voicings.json"]),
    encoding: await optional(parse["encoding.json"]),
  };
  const files: Record<string, Uint8Array> = {};
  let built: PlayerModel | { reason: string };
  // One kind of player per network (the module's doc comment).
  const network = record.config.train.network;
  if (network === "tutorial") {
    const tfjs = await readTfjs();
    if ("reason" in tfjs) return tfjs;
    files["tf.min.js"] = tfjs.bytes;
    built = playerModel(inputs, record, tfjs.version);
  } else {
    const primers = await optional(outputs("generate")["primers.json"]);
    built = sequencePlayerModel({ ...inputs, primers }, record, network);
  }
  if ("reason" in built) return built;
  const encoder = new TextEncoder();
  files["model.js"] = encoder.encode(playerModelScript(built, record.configHash));
  files["player.js"] = encoder.encode(await playerScript(built.kind));
  return { model: built, files };
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

/**
 * The player's view of a run of a stepped network (`kind`, its `train.network`): the
 * checkpoint's weights as its step module takes them, the primers generate continued (heldout's
 * test files, named by generate's `primers` metric), and the run's settings. A reason instead
 * when they cannot be read or do not fit.
 */
export function sequencePlayerModel(
  inputs: PlayerInputs & { primers?: Uint8Array },
  record: RunRecord,
  kind: SteppedKind,
): SteppedPlayerModel | { reason: string } {
  const config = record.config;
  if (inputs.primers === undefined) {
    return {
      reason: "No model to play with: the generate stage wrote no primers.json (rerun generate).",
    };
  }
  let vocab: string[];
  let piece: string[];
  let encoding: TokenEncoding;
  let voicings: Voicings;
  let primers: PiecePrimer[];
  try {
    vocab = vocabulary.decode(inputs.vocab).tokens;
    piece = tokenList.decode(inputs.tokens);
    encoding = inputs.encoding ? tokenEncoding.decode(inputs.encoding) : MUSIC21;
    voicings = inputs.voicings ? voicingTable.decode(inputs.voicings) : {};
    primers = piecePrimers.decode(inputs.primers);
  } catch (e) {
    return { reason: `No model to play with: the run's outputs cannot be read (${message(e)}).` };
  }
  // Bars of 4/4, as generate counts them.
  const stepsPerBar = 4 * encoding.stepsPerQuarter;
  const read = kind === "transformer" ? transformerCheckpoint : stepCheckpoint;
  const checkpoint = read(inputs.modelJson, inputs.weights, stepsPerBar);
  if ("reason" in checkpoint) return checkpoint;
  if (checkpoint.layout.vocabSize !== vocab.length) {
    return {
      reason: `No model to play with: the checkpoint predicts ${checkpoint.layout.vocabSize} ` +
        `tokens but vocab.json has ${vocab.length}.`,
    };
  }
  const ids = primerIds(primers, vocab);
  if ("reason" in ids) return ids;
  if (ids.length === 0) {
    return { reason: "No model to play with: the generate stage's primers.json is empty." };
  }
  const sound = vocabularySound(vocab, encoding, voicings, config.render);
  const timed = primers.map((primer, i) => ({
    path: primer.file,
    ids: ids[i]!,
    ...sound.timing({ ...config.render, bpm: tempoOf(config.render, primer) }),
  }));
  const weights = Object.fromEntries(
    Object.entries(checkpoint.weights).map(([layer, arrays]) => [
      layer,
      arrays.map((a) => base64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))),
    ]),
  );
  return {
    // The kind and layout as the checkpoint's reader gives them: one of the two models.
    ...checkpoint,
    weights,
    primers: timed,
    primeBars: config.generate.primeBars,
    steps: piece.length,
    piece,
    vocabulary: vocab,
    pitches: sound.pitches,
    instrument: sound.instrument,
    stepSeconds: timed[0]!.stepSeconds,
    noteSeconds: timed[0]!.noteSeconds,
    temperature: config.generate.temperature,
    seed: config.generate.seed,
  };
}

/** The encoding of a run whose parse recorded none: the tutorial's. */
export const MUSIC21: TokenEncoding = {
  encoding: "music21",
  stepsPerQuarter: 4,
  velocity: "off",
};

/**
 * How each of `vocab`'s tokens sounds: each token rendered alone gives exactly the notes render
 * writes for it in a piece; `timing` times them as render does at a tempo.
 */
function vocabularySound(
  vocab: string[],
  encoding: TokenEncoding,
  voicings: Voicings,
  render: Config["render"],
): Pick<PlayerSound, "pitches" | "instrument"> & {
  timing: (render: Config["render"]) => PlayerTiming;
} {
  // `<unk>` (the sequence network's class of rare tokens) is never generated, so never sounds.
  const rendered = vocab.map((token) =>
    token === UNKNOWN_TOKEN
      ? { notes: [], ticksPerQuarter: 1, drums: false }
      : renderTokens([token], encoding, render, voicings)
  );
  const durations = rendered.flatMap((r) =>
    r.notes.map((n) => n.durationTicks / r.ticksPerQuarter)
  );
  const noteQuarters = durations.length > 0 ? Math.max(...durations) : 1;
  return {
    pitches: rendered.map((r) => r.notes.map((n) => n.pitch)),
    instrument: rendered.some((r) => r.drums) ? "drums" : "piano",
    timing: (at) => {
      // music21 tokens are written with no tempo, so MIDI's default 120 bpm holds; a grid has
      // its own.
      const quarter = 60 / (encoding.encoding === "drum-grid" ? at.bpm : 120);
      return {
        stepSeconds: quartersPerToken(encoding, at) * quarter,
        noteSeconds: noteQuarters * quarter,
      };
    },
  };
}

/** How each of `vocab`'s tokens sounds, timed at `render.bpm`. */
export function playerSound(
  vocab: string[],
  encoding: TokenEncoding,
  config: Pick<Config, "render">,
  voicings: Voicings,
): PlayerSound {
  const { timing, ...sound } = vocabularySound(vocab, encoding, voicings, config.render);
  return { vocabulary: vocab, ...sound, ...timing(config.render) };
}

/**
 * The player's view of a run, from its store objects: the checkpoint, the vocabulary with each
 * token's pitches, and the tokens it can start from. A reason instead when they do not fit.
 */
export function playerModel(
  inputs: PlayerInputs,
  record: RunRecord,
  tfjsVersion: string,
): WindowPlayerModel | { reason: string } {
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
  if (encoding.encoding === "drum-expressive") {
    // Its tokens are not evenly spaced in time, which the page's timing assumes.
    return { reason: "No model to play with: the page does not play drum-expressive tokens yet." };
  }
  const startWindow = seedWindow(inputs.notes, record, windowLength);
  if (startWindow.length + piece.length < windowLength) {
    return {
      reason: `No model to play with: the piece has ${piece.length} tokens, fewer than a ` +
        `window (${windowLength}), and the tokens it started from are not in the store.`,
    };
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightsBase64: base64(inputs.weights),
    windowLength,
    startWindow,
    piece,
    ...playerSound(vocab, encoding, config, voicings),
    temperature: config.generate.temperature,
    seed: config.generate.seed,
    tfjsVersion,
    kind: "window",
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

/** `player.js`: the kind's modules as classic scripts, then report/player_browser.js. */
async function playerScript(kind: PlayerKind): Promise<string> {
  const modules = await Promise.all(
    PLAYER_MODULES[kind].map(async (module) =>
      classicScript(await Deno.readTextFile(new URL(module.file, PROJECT_ROOT)), module)
    ),
  );
  return `${modules.join("\n")}\n${await Deno.readTextFile(PLAYER_SCRIPT)}`;
}

/**
 * A plain-JS module of the pipeline (its text given as `source`) as a classic script that sets
 * `module.global` to its exported functions: a page opened from file:// cannot import an ES
 * module in Chromium, so the module's own text goes into the page, its `export` keywords dropped,
 * inside a function. The module is written for this (no imports, every export a function
 * declaration); one that is not is refused rather than half copied.
 *
 * @throws {SyntaxError} naming the file when the module imports or exports anything else.
 */
export function classicScript(source: string, module: PageModule): string {
  if (/^\s*import\b/m.test(source) || /^export (?!function )/m.test(source)) {
    throw new SyntaxError(
      `Cannot copy ${module.file} into the report page: it must import nothing and export ` +
        "only function declarations (report/player.ts runs it there as a classic script)",
    );
  }
  const names = [...source.matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
  return `// ${module.file} as a classic script (written by report/player.ts).\n` +
    `globalThis.${module.global} = (() => {\n"use strict";\n` +
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
