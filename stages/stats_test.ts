import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import type { DataStats } from "../formats/stats.ts";
import type { TokenEncoding } from "../formats/tokens.ts";
import { fakeContext } from "../tests/_helpers.ts";
import { stats, testContinuations } from "./stats.ts";

const GRID: TokenEncoding = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" };
const V = ["-", "hihat-closed", "kick", "snare"];

/** A bar of sixteenths: kick, hat, snare, hat on the quarters (`shift` moves the snare). */
function bar(shift = 0): string[] {
  const b = Array.from({ length: 16 }, () => "-");
  b[0] = "kick";
  b[4] = b[12] = "hihat-closed";
  b[8 + shift] = "snare";
  return b;
}

function sequences(files: string[][]) {
  return {
    paths: files.map((_, i) => `f${i}.mid`),
    lengths: files.map((f) => f.length),
    ids: files.flat().map((t) => V.indexOf(t)),
  };
}

const TRAINING: DataStats = { files: 3, tokens: {}, music: {}, tokenCounts: { kick: 5, "-": 20 } };

Deno.test("testContinuations() takes bars primeBars + 1 … primeBars + bars of the files that long", () => {
  const long = [...bar(0), ...bar(0), ...bar(1), ...bar(2), ...bar(3)]; // 5 bars
  const short = [...bar(0), ...bar(0), ...bar(1)]; // 3 bars: too short for 2 + 2
  const out = testContinuations(sequences([short, long]), V, { primeBars: 2, bars: 2 }, 16);
  assert.deepEqual(out, [[...bar(1), ...bar(2)]]);
  assert.deepEqual(testContinuations(sequences([long]), V, { primeBars: 2, bars: 0 }, 16), []);
});

Deno.test("stats reads pieces primed from test files against those files' continuations, else the training files", async () => {
  const config = defaultConfig();
  config.generate.primeBars = 2;
  config.generate.bars = 2;
  // Twelve test files whose third and fourth bars hold the piece's pattern, the snare moved in half.
  const files = Array.from({ length: 12 }, (_, i) => [
    ...bar(0),
    ...bar(0),
    ...bar(0),
    ...bar(i % 2 === 0 ? 0 : 2),
  ]);
  const inputs = {
    pieces: [[...bar(0), ...bar(0)]],
    data: TRAINING,
    encoding: GRID,
    voicings: {},
    test: sequences(files),
    vocab: { tokens: V },
    primers: [{ file: "f0.mid", tokens: bar(0) }],
  };
  const ctx = fakeContext();
  const out = await stats.run(inputs, config, ctx);
  assert.equal(ctx.collected.metrics.reference, "test continuations (12)");
  const hits = out["stats.json"][0]!.tokens.hits_per_bar!;
  // Every continuation has 4 hits a bar, as the piece: mean 4, no spread.
  assert.equal(hits.value, 4);
  assert.equal(hits.dataMean, 4);
  assert.equal(hits.dataStd, 0);

  // The tutorial's pieces have no primers: the training files' figures, as before.
  const tutorial = fakeContext();
  await stats.run({ ...inputs, primers: [] }, config, tutorial);
  assert.equal(tutorial.collected.metrics.reference, "training files (3)");
});
