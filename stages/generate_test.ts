import assert from "node:assert/strict";
import { emptySequences } from "../formats/sequences.ts";
import * as tf from "@tensorflow/tfjs";
import type { Config } from "../formats/config_schema.ts";
import { randomInt, seededRandom } from "../model/random.ts";
import { StageInputError } from "../core/stage.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { fakeContext, GROOVE, tinyTrainConfig, trainInputs, TUNE } from "../tests/_helpers.ts";
import { renderMidi } from "../music/render_midi.ts";
import { tokenizeMidi } from "../music/tokenize.ts";
import { FAR_HIT_47 } from "../tests/_long_grid.ts";
import { generate } from "./generate.ts";
import { train } from "./train.ts";
import { type TokenEncoding, tokenIds } from "../formats/tokens.ts";
import { buildVocab } from "./vocab.ts";

const MUSIC21: TokenEncoding = { encoding: "music21", stepsPerQuarter: 4, velocity: "off" };

/** About 50 tokens of a little tune: 7 distinct tokens. */
const VOCAB = buildVocab(TUNE);

function tinyConfig(): Config {
  const config = tinyTrainConfig();
  config.generate.length = 20;
  return config;
}

/** One tiny checkpoint, trained once for every test here. */
const checkpoint = await (async () => {
  const out = await train.run(trainInputs(TUNE, 8), tinyConfig(), fakeContext());
  return {
    modelJson: out["model.json"],
    weights: out["weights.bin"],
    history: out["history.json"],
  };
})();

function inputs(notes: string[] = TUNE) {
  return {
    tokens: notes,
    vocab: VOCAB,
    encoding: MUSIC21,
    testFiles: emptySequences(),
    ...checkpoint,
  };
}

Deno.test("generate writes generate.length tokens, every one from the vocabulary", async () => {
  const ctx = fakeContext();
  const out = await generate.run(inputs(), tinyConfig(), ctx);
  const tokens = out["tokens.json"];
  assert.equal(tokens.length, 20);
  for (const token of tokens) assert.ok(VOCAB.tokens.includes(token), token);
  assert.equal(ctx.collected.metrics.distinctTokens, new Set(tokens).size);
  assert.equal(ctx.collected.metrics.backend, "cpu");
});

Deno.test("generate gives identical tokens for the same seed", async () => {
  const a = await generate.run(inputs(), tinyConfig(), fakeContext());
  const b = await generate.run(inputs(), tinyConfig(), fakeContext());
  assert.deepEqual(a["tokens.json"], b["tokens.json"]);
});

Deno.test("generate starts from the window generate.seed picks among all windows", async () => {
  for (const seed of [1, 2, 3]) {
    const config = tinyConfig();
    config.generate.seed = seed;
    const ctx = fakeContext();
    await generate.run(inputs(), config, ctx);
    assert.equal(ctx.collected.metrics.startIndex, randomInt(seededRandom(seed), TUNE.length - 8));
  }
});

Deno.test("generate predicts greedily: each token is the argmax after the sliding window", async () => {
  const config = tinyConfig();
  config.generate.length = 3;
  const ctx = fakeContext();
  const out = await generate.run(inputs(), config, ctx);
  const tokens = out["tokens.json"];
  const index = tokenIds(VOCAB);
  const start = ctx.collected.metrics.startIndex as number;
  const pattern = TUNE.slice(start, start + 8).map((t) => index.get(t)!);
  const expected = await greedyReference(pattern, 3);
  assert.deepEqual(tokens, expected);
});

Deno.test("generate rejects a window.length the checkpoint was not trained on", async () => {
  const config = tinyConfig();
  config.window.length = 5;
  await assert.rejects(
    () => generate.run(inputs(), config, fakeContext()),
    (error: unknown) =>
      error instanceof StageInputError && /takes windows of 8/.test(error.message),
  );
});

Deno.test("generate rejects a token missing from the vocabulary", async () => {
  await assert.rejects(
    () => generate.run(inputs([...TUNE, "X9"]), tinyConfig(), fakeContext()),
    /"X9" is not in vocab\.json/,
  );
});

Deno.test("generate frees every tensor it makes", async () => {
  await generate.run(inputs(), tinyConfig(), fakeContext());
  const before = tf.memory().numTensors;
  await generate.run(inputs(), tinyConfig(), fakeContext());
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("generate: other temperatures or top-p values give other pieces, each reproducible", async () => {
  const piece = async (temperature: number, topP: number) => {
    const config = tinyConfig();
    config.generate.length = 40;
    Object.assign(config.generate, { temperature, topP });
    return (await generate.run(inputs(), config, fakeContext()))["tokens.json"];
  };
  const a = await piece(1, 1);
  assert.deepEqual(await piece(1, 1), a, "the same settings give the same piece");
  assert.notDeepEqual(await piece(1, 0.3), a);
  assert.notDeepEqual(await piece(2, 1), a);
});

/** A MIDI file of `tokens`, as render writes it: parse reads the same tokens back. */
function primerMidi(tokens: string[]): Uint8Array {
  const bytes = renderMidi(tokens).bytes;
  assert.deepEqual(tokenizeMidi(bytes), tokens, "the primer tokenizes back to its tokens");
  return bytes;
}

function primedConfig(): Config {
  const config = tinyConfig();
  config.generate.prime = "primer.mid";
  return config;
}

Deno.test("generate.prime starts greedy generation from the primer's last window.length tokens", async () => {
  const config = primedConfig();
  config.generate.length = 3;
  const ctx = fakeContext({}, { "primer.mid": primerMidi(TUNE) });
  const out = await generate.run(inputs(), config, ctx);
  assert.equal(ctx.collected.metrics.primerTokens, TUNE.length);
  assert.equal(ctx.collected.metrics.startIndex, undefined);
  const index = tokenIds(VOCAB);
  const pattern = TUNE.slice(-8).map((t) => index.get(t)!);
  const expected = await greedyReference(pattern, 3);
  assert.deepEqual(out["tokens.json"], expected, "only the generated tokens, primer left out");
});

Deno.test("generate.prime shorter than window.length: one sentence saying how many are needed", async () => {
  const ctx = fakeContext({}, { "primer.mid": primerMidi(TUNE.slice(0, 5)) });
  await assert.rejects(
    () => generate.run(inputs(), primedConfig(), ctx),
    (e: unknown) =>
      e instanceof StageInputError &&
      e.message ===
        "generate.prime primer.mid gives 5 tokens; generation needs at least window.length = 8: give a longer file or lower window.length",
  );
});

Deno.test("generate.prime with tokens the vocabulary lacks (a Groove file on a tune's model) names them", async () => {
  const file = [...Deno.readDirSync(`${GROOVE}/drummer1/session1`)]
    .map((e) => e.name).filter((n) => n.endsWith(".mid")).sort()[0]!;
  const bytes = await Deno.readFile(`${GROOVE}/drummer1/session1/${file}`);
  const window = tokenizeMidi(bytes).slice(-8);
  const unknown = [...new Set(window.filter((t) => !VOCAB.tokens.includes(t)))];
  assert.ok(unknown.length > 0);
  const listed = unknown.slice(0, 3).join(", ");
  const more = unknown.length > 3 ? ` \\(and ${unknown.length - 3} more\\)` : "";
  const ctx = fakeContext({}, { "groove.mid": bytes });
  const config = tinyConfig();
  config.generate.prime = "groove.mid";
  await assert.rejects(
    () => generate.run(inputs(), config, ctx),
    (e: unknown) =>
      e instanceof StageInputError &&
      new RegExp(
        `^generate\\.prime groove\\.mid holds tokens the training vocabulary lacks: ${
          listed.replace(/[.#]/g, "\\$&")
        }${more}; prime from a file closer to the training data$`,
      ).test(e.message),
  );
});

Deno.test("generate.prime that is not MIDI: one sentence", async () => {
  const ctx = fakeContext({}, { "primer.mid": new TextEncoder().encode("hello") });
  await assert.rejects(
    () => generate.run(inputs(), primedConfig(), ctx),
    (e: unknown) =>
      e instanceof StageInputError &&
      /^generate\.prime primer\.mid cannot be read as a MIDI file \([^\n]*\); give a Standard MIDI File$/
        .test(e.message),
  );
});

Deno.test("generate.prime whose drum grid would be too long: one sentence, at once", async () => {
  const ctx = fakeContext({}, { "primer.mid": FAR_HIT_47 });
  const grid: TokenEncoding = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" };
  const began = performance.now();
  await assert.rejects(
    () => generate.run({ ...inputs(), encoding: grid }, primedConfig(), ctx),
    (e: unknown) =>
      e instanceof StageInputError &&
      e.message ===
        "generate.prime primer.mid: its drum grid would be 268435456 quarter notes long, over " +
          "the limit of 18000 (parse.maxQuarters' default, which generate keeps); prime from a " +
          "shorter file",
  );
  assert.ok(performance.now() - began < 2000);
});

/** `count` tokens predicted greedily after `pattern` (ids) by tfjs itself: the reference. */
async function greedyReference(pattern: number[], count: number): Promise<string[]> {
  const model = await loadCheckpoint({
    "model.json": checkpoint.modelJson,
    "weights.bin": checkpoint.weights,
  });
  const expected: string[] = [];
  for (let i = 0; i < count; i++) {
    const x = tf.tensor3d(pattern.map((id) => id / VOCAB.tokens.length), [1, 8, 1]);
    const probabilities = (model.predict(x) as tf.Tensor).dataSync();
    const next = probabilities.indexOf(Math.max(...probabilities));
    expected.push(VOCAB.tokens[next]!);
    pattern.push(next);
    pattern.shift();
    x.dispose();
  }
  model.dispose();
  return expected;
}

Deno.test("generate.mode stateful: reproducible, and its first token is window mode's (same start, zero state)", async () => {
  const piece = async (mode: "window" | "stateful") => {
    const config = tinyConfig();
    config.generate.mode = mode;
    const ctx = fakeContext();
    const tokens = (await generate.run(inputs(), config, ctx))["tokens.json"];
    return { tokens, ctx };
  };
  const window = await piece("window");
  const stateful = await piece("stateful");
  assert.equal(stateful.tokens.length, 20);
  assert.deepEqual((await piece("stateful")).tokens, stateful.tokens);
  assert.equal(stateful.tokens[0], window.tokens[0]);
  assert.equal(stateful.ctx.collected.metrics.startIndex, window.ctx.collected.metrics.startIndex);
});

Deno.test("generate.count: that many pieces, each from its own seeded start, the first as with a count of 1", async () => {
  const config = tinyConfig();
  config.generate.temperature = 1;
  const one = await generate.run(inputs(), config, fakeContext());
  config.generate.count = 3;
  const ctx = fakeContext();
  const out = await generate.run(inputs(), config, ctx);
  const pieces = out["pieces.json"];
  assert.equal(pieces.length, 3);
  for (const piece of pieces) assert.equal(piece.length, 20);
  assert.deepEqual(pieces[0], one["tokens.json"]);
  assert.deepEqual(out["tokens.json"], pieces[0]);
  const starts = ctx.collected.metrics.startIndex as number[];
  assert.equal(starts.length, 3);
  assert.equal(starts[0], randomInt(seededRandom(config.generate.seed), TUNE.length - 8));
  assert.notDeepEqual(pieces[1], pieces[0]);
  assert.deepEqual(one["pieces.json"], [one["tokens.json"]]);
});
