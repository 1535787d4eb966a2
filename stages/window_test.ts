import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import { fakeContext } from "../tests/_helpers.ts";
import { buildVocab, vocab } from "./vocab.ts";
import { window } from "./window.ts";

const notes = ["C2", "0.4", "F#2", "C2", "D2", "0.4", "C2"];

Deno.test("vocab sorts unique tokens as Python's sorted(set(notes)) does", async () => {
  assert.deepEqual(buildVocab(notes).tokens, ["0.4", "C2", "D2", "F#2"]);
  const ctx = fakeContext();
  const out = await vocab.run({ notes }, defaultConfig(), ctx);
  assert.deepEqual(out["vocab.json"], { tokens: ["0.4", "C2", "D2", "F#2"] });
  assert.equal(ctx.collected.metrics.vocabSize, 4);
});

Deno.test("window cuts every run of window.length tokens with the next token as its target", async () => {
  const config = defaultConfig();
  config.window.length = 3;
  const inputs = { notes, vocab: buildVocab(notes) };
  const out = await window.run(inputs, config, fakeContext());
  const { "x.npy": x, "y.npy": y } = out;
  assert.deepEqual(x.shape, [4, 3, 1]);
  assert.deepEqual(y.shape, [4]);
  // ids: C2=1 0.4=0 F#2=3 C2=1 D2=2 0.4=0 C2=1; inputs are ids / 4 (the tutorial's normalisation)
  assert.deepEqual([...x.data.slice(0, 3)], [1 / 4, 0, 3 / 4]);
  assert.deepEqual([...y.data], [1, 2, 0, 1]);
});

Deno.test("window stops with one sentence when there are fewer tokens than window.length + 1", async () => {
  const config = defaultConfig();
  config.window.length = 7;
  const inputs = { notes, vocab: buildVocab(notes) };
  await assert.rejects(
    window.run(inputs, config, fakeContext()),
    /the sample gave 7 tokens, fewer than window\.length \+ 1 = 8/,
  );
});
