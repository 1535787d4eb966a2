/**
 * Every config key, its type, default, allowed range and meaning. The YAML keys are these
 * property names, so an error that names `train.batchSize` points at what the user typed.
 * The defaults are the tutorial's recipe (configs/deep-lstm.yaml spells them out).
 *
 * Here, with the other shapes of what the pipeline reads and writes, because a config file is one
 * (core/config.ts reads, checks and hashes it): a table that grows by a few lines with every key a
 * recipe adds, imported by every stage for its types; it imports nothing.
 *
 * @module
 */

/** One config key: its kind, default, limits and a line of documentation. */
export type Field =
  & (
    | { kind: "int"; default: number; min: number; max?: number; doc: string }
    | { kind: "number"; default: number; min: number; max?: number; doc: string }
    | {
      kind: "string";
      default: string;
      doc: string;
      /** `""` is allowed and means "none" (an optional path, such as `generate.prime`). */
      allowEmpty?: true;
    }
    | { kind: "bool"; default: boolean; doc: string }
    | { kind: "enum"; default: string; values: readonly string[]; doc: string }
  )
  & {
    /**
     * An option added after the tutorial's recipe: left at its default it is left out of the
     * config hash and of stage keys, so adding it changes no run's name and no cached result.
     */
    added?: true;
  };

const int = (d: number, min: number, doc: string, max?: number) =>
  ({ kind: "int", default: d, min, max, doc }) as const;
const num = (d: number, min: number, doc: string, max?: number) =>
  ({ kind: "number", default: d, min, max, doc }) as const;
const str = (d: string, doc: string) => ({ kind: "string", default: d, doc }) as const;
/** An optional path: `""` (the default) means none. */
const optionalPath = (doc: string) =>
  ({ kind: "string", default: "", allowEmpty: true, doc }) as const;
const bool = (d: boolean, doc: string) => ({ kind: "bool", default: d, doc }) as const;
/** Marks a field as {@link Field.added}. */
const added = <F extends Field>(field: F) => ({ ...field, added: true }) as const;
const oneOf = <const V extends readonly string[]>(d: V[number], values: V, doc: string) =>
  ({ kind: "enum", default: d, values, doc }) as const;

/** The schema: section → key → field. Sections are the stages' config slices. */
export const SCHEMA = {
  dataset: {
    dir: str(
      "data/groove",
      "folder scanned recursively for .mid/.midi files (relative to the folder you run from: the project root under deno task)",
    ),
    split: added(optionalPath(
      "the dataset's own split: a CSV file in dataset.dir (a path relative to it, such as Groove's info.csv) whose header row names midi_filename and split (train, validation or test); sample draws only train files, heldout takes every validation and test file; empty = none (a seeded draw)",
    )),
  },
  sample: {
    count: int(200, 1, "how many files to draw from the dataset"),
    seed: int(42, 0, "seed of the random sample"),
  },
  parse: {
    onError: oneOf(
      "skip",
      ["skip", "fail"] as const,
      "what to do with a file music21 could not read",
    ),
    maxFileBytes: added(int(
      16 * 1024 * 1024,
      1,
      "a larger MIDI file is skipped with a warning (bounds parse memory; the largest Groove file is 156 KB)",
    )),
    encoding: added(oneOf(
      "music21",
      ["music21", "drum-grid", "drum-expressive"] as const,
      "music21: the tutorial's note and chord tokens; drum-grid: one token per time step holding the drums struck on it (Magenta's nine drum classes), silence included; drum-expressive: the drum grid's steps (parse.stepsPerQuarter, dividing 96; parse.maxQuarters), each ended by a step token, with every hit a token of its drum and velocity (buckets of 5), preceded where it is off the grid by a token of its offset from the step (96ths of a quarter), so a groove's dynamics and timing are kept",
    )),
    stepsPerQuarter: added(int(
      4,
      1,
      "drum-grid: time steps per quarter note (4: sixteenths)",
      480,
    )),
    maxQuarters: added(int(
      18_000,
      1,
      "drum-grid: a file whose grid would be longer, in quarter notes, is skipped with a warning before its steps are made (bounds parse memory: a few bytes of delta times can ask for billions of steps; the default is an hour at 300 bpm, the longest Groove file 2,556)",
    )),
    velocity: added(oneOf(
      "off",
      ["off", "coarse"] as const,
      "drum-grid: coarse adds the loudest hit's bucket to each step's token (soft 1–59, medium 60–99, loud 100–127)",
    )),
  },
  vocab: {
    minCount: added(int(
      1,
      1,
      "a token seen fewer times in the training tokens is left out of the vocabulary; from 2, one unknown class <unk> is appended as the last id and every token the vocabulary lacks maps to it; 1 = every token, no <unk> (the tutorial's)",
    )),
  },
  window: {
    length: int(100, 1, "tokens per input window; the next token is the target"),
  },
  train: {
    backend: oneOf(
      "auto",
      ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const,
      "tfjs backend; auto takes the fastest that loads",
    ),
    lstm: oneOf(
      "auto",
      ["auto", "blas", "tfjs"] as const,
      "LSTM kernels: blas (fused, native OpenBLAS), tfjs (tf.layers.lstm); auto = blas when it loads",
    ),
    lstmUnits: int(256, 1, "units in each LSTM layer"),
    lstmLayers: int(2, 1, "stacked LSTM layers", 8),
    recurrentDropout: num(0.3, 0, "recurrent dropout of the first LSTM layer", 0.95),
    denseUnits: int(128, 1, "units of the hidden dense layer"),
    dropout: num(0.3, 0, "dropout after each batch normalisation", 0.95),
    learningRate: num(0.001, 0, "Adam learning rate"),
    batchSize: int(32, 1, "windows per training step"),
    epochs: int(30, 1, "passes over the windows"),
    shuffle: bool(true, "shuffle the windows every epoch"),
    seed: int(1, 0, "seed of weight initialisation, shuffling and dropout"),
    monitor: added(oneOf(
      "loss",
      ["loss", "val_loss"] as const,
      "what the kept checkpoint follows: the lowest training loss (the tutorial's) or the lowest validation loss",
    )),
    targets: added(oneOf(
      "last",
      ["last", "all"] as const,
      "last: one target per window, the token after it, windows overlapping by all but one token (the tutorial's); all: windows train.stride tokens apart with the next token as the target at every position (as char-rnn and Magenta train), about 1/window.length of the steps per epoch",
    )),
    stride: added(int(
      0,
      0,
      "train.targets all: tokens from the start of one window to the start of the next; 0 = window.length (windows that do not overlap)",
    )),
    network: added(oneOf(
      "tutorial",
      ["tutorial", "sequence", "transformer"] as const,
      "tutorial: the tutorial's stacked LSTM on windows of one normalised number per token; sequence: one LSTM of train.lstmUnits over each whole file, fed a learnt token embedding, the position in the bar and the tokens train.lookbackBars bars back (Magenta drums_rnn's lookback), trained on crops with a target at every step and scored on every step of every held-out file (needs the drum grid); transformer: the sequence network's inputs, training and scoring (its keys apply), through a causal Transformer of train.blocks blocks instead of the LSTM",
    )),
    embedding: added(int(64, 1, "sequence network: size of the learnt token embedding", 1024)),
    barPosition: added(bool(
      true,
      "sequence network: feed the step's position in the bar as a learnt embedding",
    )),
    lookbackBars: added(int(
      2,
      0,
      "sequence network: also feed the tokens 1 … lookbackBars bars back",
      8,
    )),
    cropLength: added(int(
      128,
      2,
      "sequence network: grid steps per training crop (a target at every step); transformer: also its context window, the steps each attention step reaches back (itself included)",
      4096,
    )),
    weightDecay: added(num(
      0.05,
      0,
      "sequence network: decoupled weight decay (AdamW); 0 = plain Adam",
      1,
    )),
    clipNorm: added(num(1, 0, "sequence network: clip gradients to this global norm; 0 = off")),
    schedule: added(oneOf(
      "cosine",
      ["constant", "cosine"] as const,
      "sequence network: learning rate after a short warm-up: constant, or cosine decay over train.epochs",
    )),
    blocks: added(int(3, 1, "transformer: blocks (causal self-attention, then an MLP)", 32)),
    heads: added(int(4, 1, "transformer: attention heads per block, dividing train.width", 64)),
    width: added(int(128, 1, "transformer: model width, a multiple of train.heads", 4096)),
  },
  generate: {
    length: int(500, 1, "tokens to generate"),
    seed: int(1, 0, "seed that picks the starting window (and the draws when temperature > 0)"),
    temperature: num(
      0,
      0,
      "0 = argmax, as the tutorial; above 0 samples from the softmax at that temperature",
      10,
    ),
    topK: added(int(
      0,
      0,
      "when sampling (temperature > 0): draw only among the topK most likely tokens; 0 = no limit",
    )),
    topP: added(num(
      1,
      0.001,
      "when sampling: draw only among the most likely tokens whose probabilities sum to topP (nucleus); 1 = no limit",
      1,
    )),
    prime: added(optionalPath(
      "a MIDI file whose last window.length tokens start the piece instead of a seeded window of the training tokens (relative to the folder you run from); empty = none",
    )),
    mode: added(oneOf(
      "window",
      ["window", "stateful"] as const,
      "window: each token from a fresh pass over the last window.length tokens (the tutorial's); stateful: the LSTM state carried from token to token, one step each (as Magenta's RNNs generate)",
    )),
    count: added(int(
      1,
      1,
      "pieces to generate, each from its own seeded start (the first is the piece a count of 1 gives)",
      100,
    )),
    bars: added(int(
      0,
      0,
      "sequence network: bars to generate after the primer (a piece that starts and ends on a bar line); 0 = generate.length steps",
      256,
    )),
    style: added(
      {
        kind: "string",
        default: "",
        allowEmpty: true,
        doc:
          "sequence network: draw the primers only from test-split files of this style (the split table's style column, its part before any /, such as jazz), so the pieces continue that style and the humanizer plays them in it; empty = any",
      } as const,
    ),
    primeBars: added(int(
      2,
      1,
      "sequence network: each piece starts from the first primeBars bars of a test-split file drawn by generate.seed (or of generate.prime)",
      64,
    )),
  },
  validation: {
    count: added(int(
      50,
      0,
      "held-out files, drawn from outside the training sample, scored after every epoch (validation loss, top-1/top-5 accuracy, perplexity); 0 turns it off",
    )),
    seed: added(int(7, 0, "seed of the held-out draw")),
  },
  render: {
    step: num(
      0.5,
      0.001,
      "quarter notes between consecutive tokens (the tutorial's offset += 0.5)",
    ),
    instrument: added(oneOf(
      "piano",
      ["piano", "drums"] as const,
      "piano: the tutorial's create_midi, byte for byte; drums: General MIDI drums on channel 10, each chord token on the drums that most often made it in the training files",
    )),
    bpm: added(num(
      120,
      4,
      "drum-grid tokens: the tempo of the rendered grid, in quarter notes per minute (music21 tokens keep create_midi's 120)",
      1000,
    )),
    tempo: added(oneOf(
      "fixed",
      ["fixed", "primer"] as const,
      "drum-grid tokens: fixed: every piece at render.bpm; primer: each piece of the sequence network at the tempo of the file its primer came from (the dataset.split table's bpm column, as Groove's info.csv), render.bpm where that file has none",
    )),
  },
  humanize: {
    epochs: added(int(
      0,
      0,
      "drum grid with dataset.split: epochs of the humanizer, which learns from the train split's performances each hit's velocity and offset from the grid; the pieces are then also played by it (perform), and `deno task pipeline humanize` plays a MIDI file; 0 = no humanizer",
      1000,
    )),
    hidden: added(int(256, 1, "units of each of the humanizer's two hidden layers", 4096)),
    context: added(int(16, 0, "steps on either side of a step that the humanizer reads", 256)),
    style: added(bool(
      true,
      "condition the humanizer on the style (dataset.split's style column, its part before any /)",
    )),
    dropout: added(num(0.4, 0, "dropout on the humanizer's hidden layers while training", 0.9)),
    learningRate: added(num(0.001, 1e-6, "the humanizer's Adam learning rate", 1)),
    batchSize: added(int(256, 1, "steps per humanizer training batch", 65536)),
    seed: added(int(1, 0, "seed of the humanizer's initial weights, shuffles and dropout")),
    temperature: added(num(
      1,
      0,
      "perform: the pieces' velocities and offsets are drawn at this temperature (seeded by humanize.seed); 0 = each distribution's median",
      10,
    )),
  },
} as const satisfies Record<string, Record<string, Field>>;

type FieldValue<F> = F extends { kind: "int" | "number" } ? number
  : F extends { kind: "bool" } ? boolean
  : F extends { kind: "enum"; values: readonly (infer V)[] } ? V
  : string;

/** The resolved config: every key present, typed from {@link SCHEMA}. */
export type Config = {
  -readonly [S in keyof typeof SCHEMA]: {
    -readonly [K in keyof (typeof SCHEMA)[S]]: FieldValue<(typeof SCHEMA)[S][K]>;
  };
};

/** The config with every key at its default: the tutorial's recipe. */
export function defaultConfig(): Config {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, fields] of Object.entries(SCHEMA)) {
    out[section] = {};
    for (const [key, field] of Object.entries(fields as Record<string, Field>)) {
      out[section]![key] = field.default;
    }
  }
  return out as Config;
}
