/**
 * train and generate with `train.network: sequence` on a small made-up groove: the split's files,
 * the test figures scored once with the baselines beside them, and pieces primed from test files
 * that start and end on a bar line and never hold `<unk>`.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import type { TokenSequences } from "../formats/sequences.ts";
import { UNKNOWN_TOKEN } from "../formats/tokens.ts";
import { fakeContext } from "../tests/_helpers.ts";
import { generate } from "./generate.ts";
import { train } from "./train.ts";

const V = ["-", "hihat-closed", "hihat-closed+kick", "hihat-closed+snare", UNKNOWN_TOKEN];
/** A two-bar pattern with a little variation, file by file. */
function groove(bars: number, seed: number): string[] {
  const out: string[] = [];
  for (let b = 0; b < bars; b++) {
    for (let s = 0; s < 16; s++) {
      const t = s % 8 === 0 ? V[2]! : s % 8 === 4 ? V[3]! : s % 2 === 0 ? V[1]! : V[0]!;
      out.push((b + seed) % 7 === 3 && s === 6 ? V[2]! : t);
    }
  }
  return out;
}

function sequences(files: string[][]): TokenSequences {
  return {
    paths: files.map((_, i) => `f${i}.mid`),
    lengths: files.map((f) => f.length),
    ids: files.flat().map((t) => V.indexOf(t)),
  };
}

function config() {
  const c = defaultConfig();
  Object.assign(c.train, {
    network: "sequence",
    backend: "cpu",
    lstm: "tfjs",
    lstmUnits: 8,
    embedding: 4,
    epochs: 2,
    batchSize: 4,
    cropLength: 32,
    learningRate: 0.01,
  });
  Object.assign(c.generate, { temperature: 1, bars: 2, primeBars: 2, count: 3 });
  return c;
}

const trainFiles = [groove(8, 0), groove(6, 1), groove(8, 2)];
const inputs = () => ({
  x: { dtype: "float32" as const, shape: [0, 2, 1], data: new Float32Array() },
  y: { dtype: "int32" as const, shape: [0], data: new Int32Array() },
  vocab: { tokens: V },
  valX: { dtype: "float32" as const, shape: [0, 2, 1], data: new Float32Array() },
  valY: { dtype: "int32" as const, shape: [0], data: new Int32Array() },
  notes: trainFiles.flat(),
  report: trainFiles.map((f, i) => ({
    path: `t${i}.mid`,
    sha256: "0".repeat(64),
    tokens: f.length,
  })),
  encoding: { encoding: "drum-grid" as const, stepsPerQuarter: 4, velocity: "off" as const },
  validationFiles: sequences([groove(4, 3), groove(4, 4)]),
  testFiles: sequences([groove(4, 5), groove(5, 6)]),
});

Deno.test("train (sequence network): validation picks the epoch, test is scored once beside the baselines", async () => {
  const ctx = fakeContext();
  const out = await train.run(inputs(), config(), ctx);
  const m = ctx.collected.metrics;
  assert.equal(out["history.json"].network, "sequence");
  assert.equal(out["validation.json"].loss.length, 2);
  assert.equal(m.testSteps, 64 + 80);
  assert.ok(
    Number.isFinite(m.testLoss as number) && (m.testAccuracy as number) <= (m.testTop5 as number),
  );
  const baselines = m.baselines as Record<string, { loss: number }>;
  assert.deepEqual(Object.keys(baselines).sort(), ["copyBar", "ngram", "stepUnigram", "unigram"]);
  assert.equal(
    out["validation.json"].contextFree?.loss,
    out["validation.json"].baselines?.unigram?.loss,
  );

  const gctx = fakeContext();
  const pieces = await generate.run(
    {
      tokens: trainFiles.flat(),
      vocab: { tokens: V },
      modelJson: out["model.json"],
      weights: out["weights.bin"],
      history: out["history.json"],
      encoding: inputs().encoding,
      // f0.mid has a tempo in the split table, f1.mid none.
      testFiles: { ...inputs().testFiles, bpm: [96, null] },
    },
    config(),
    gctx,
  );
  assert.equal(pieces["pieces.json"].length, 3);
  // Each piece says where its primer came from: a test file's first two bars, and its tempo.
  const test = inputs().testFiles;
  for (const primer of pieces["primers.json"]) {
    const at = test.paths.indexOf(primer.file);
    assert.ok(at >= 0, primer.file);
    const start = test.lengths.slice(0, at).reduce((a, b) => a + b, 0);
    assert.deepEqual(primer.tokens, test.ids.slice(start, start + 32).map((id) => V[id]));
    assert.equal(primer.bpm, primer.file === "f0.mid" ? 96 : undefined);
  }
  for (const piece of pieces["pieces.json"]) {
    assert.equal(piece.length, 32, "two bars of sixteenths");
    assert.ok(!piece.includes(UNKNOWN_TOKEN));
  }
  assert.deepEqual(pieces["tokens.json"], pieces["pieces.json"][0]);

  // generate.style draws the primers from that style's test files only; an unknown one is named.
  const generateIn = (style: string) => {
    const c = config();
    c.generate.style = style;
    return generate.run(
      {
        tokens: trainFiles.flat(),
        vocab: { tokens: V },
        modelJson: out["model.json"],
        weights: out["weights.bin"],
        history: out["history.json"],
        encoding: inputs().encoding,
        testFiles: { ...inputs().testFiles, styles: ["rock", "jazz"] },
      },
      c,
      fakeContext(),
    );
  };
  const jazz = await generateIn("jazz");
  assert.deepEqual(jazz["primers.json"].map((p) => p.file), ["f1.mid", "f1.mid", "f1.mid"]);
  await assert.rejects(
    generateIn("polka"),
    /generate.style polka: no test-split file of that style .*\(styles there: jazz, rock\)/,
  );
});

Deno.test("train: a key of one network set for the other is refused in one sentence", () => {
  const tutorial = defaultConfig();
  tutorial.train.lookbackBars = 3;
  assert.throws(() => train.check!(tutorial), /train.lookbackBars shapes the sequence network/);
  const sequence = config();
  sequence.train.targets = "all";
  assert.throws(() => train.check!(sequence), /train.targets applies to the tutorial's network/);
});

Deno.test("train (sequence network): the tutorial's encoding or a vocabulary without <unk> is one sentence", async () => {
  const music21 = {
    ...inputs(),
    encoding: { encoding: "music21" as const, stepsPerQuarter: 4, velocity: "off" as const },
  };
  await assert.rejects(
    train.run(music21, config(), fakeContext()),
    /set parse.encoding: drum-grid/,
  );
  const noUnk = { ...inputs(), vocab: { tokens: V.slice(0, -1) } };
  await assert.rejects(
    train.run(noUnk, config(), fakeContext()),
    /set vocab.minCount to 2 or more/,
  );
});

Deno.test("train (transformer): the same data, scores and pieces as the sequence network, through a causal Transformer", async () => {
  const c = config();
  Object.assign(c.train, { network: "transformer", blocks: 1, heads: 2, width: 8 });
  const ctx = fakeContext();
  const out = await train.run(inputs(), c, ctx);
  assert.equal(out["history.json"].network, "transformer");
  assert.equal(out["validation.json"].loss.length, 2);
  assert.equal(ctx.collected.metrics.testSteps, 64 + 80);
  assert.ok(Number.isFinite(ctx.collected.metrics.testLoss as number));
  const json = new TextDecoder().decode(out["model.json"]);
  assert.ok(json.includes('"CausalSelfAttention"') && !json.includes('"LSTM"'));
  const pieces = await generate.run(
    {
      tokens: trainFiles.flat(),
      vocab: { tokens: V },
      modelJson: out["model.json"],
      weights: out["weights.bin"],
      history: out["history.json"],
      encoding: inputs().encoding,
      testFiles: inputs().testFiles,
    },
    c,
    fakeContext(),
  );
  assert.equal(pieces["pieces.json"].length, 3);
  for (const piece of pieces["pieces.json"]) {
    assert.equal(piece.length, 32, "two bars of sixteenths");
    assert.ok(!piece.includes(UNKNOWN_TOKEN));
  }
});

Deno.test("train: the transformer's keys are refused for another network, and a width heads do not divide, in one sentence", () => {
  const sequence = config();
  sequence.train.blocks = 2;
  assert.throws(
    () => train.check!(sequence),
    /^Error: train\.blocks shapes the transformer, but train\.network is sequence: set train\.network: transformer or leave train\.blocks out$/,
  );
  const transformer = config();
  Object.assign(transformer.train, { network: "transformer", heads: 3, width: 128 });
  assert.throws(
    () => train.check!(transformer),
    /train\.width 128 must be a multiple of train\.heads 3/,
  );
  transformer.train.heads = 4;
  train.check!(transformer);
});
