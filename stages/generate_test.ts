import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { Config } from "../core/config_schema.ts";
import { randomInt, seededRandom } from "../model/random.ts";
import { StageInputError } from "../core/stage.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { fakeContext, tinyTrainConfig, trainInputs, TUNE } from "../tests/_helpers.ts";
import { generate } from "./generate.ts";
import { train } from "./train.ts";
import { tokenIds } from "../formats/tokens.ts";
import { buildVocab } from "./vocab.ts";

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
  return { tokens: notes, vocab: VOCAB, ...checkpoint };
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
  const model = await loadCheckpoint({
    "model.json": checkpoint.modelJson,
    "weights.bin": checkpoint.weights,
  });
  const expected: string[] = [];
  for (let i = 0; i < 3; i++) {
    const x = tf.tensor3d(pattern.map((id) => id / VOCAB.tokens.length), [1, 8, 1]);
    const probabilities = (model.predict(x) as tf.Tensor).dataSync();
    const next = probabilities.indexOf(Math.max(...probabilities));
    expected.push(VOCAB.tokens[next]!);
    pattern.push(next);
    pattern.shift();
    x.dispose();
  }
  model.dispose();
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
