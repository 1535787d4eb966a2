import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import { encodeTokens, UNKNOWN_TOKEN, unknownId, vocabulary } from "../formats/tokens.ts";
import { fakeContext } from "../tests/_helpers.ts";
import { buildVocab, vocab } from "./vocab.ts";

const NOTES = ["kick", "-", "snare", "-", "kick", "ride", "-", "kick", "crash", "snare"];

Deno.test("vocab with vocab.minCount 1 (the default) is every token, sorted, no <unk>", async () => {
  const out = await vocab.run({ notes: NOTES }, defaultConfig(), fakeContext());
  assert.deepEqual(out["vocab.json"], { tokens: ["-", "crash", "kick", "ride", "snare"] });
  assert.deepEqual(buildVocab(NOTES), out["vocab.json"]);
  assert.deepEqual(buildVocab(NOTES, 1), out["vocab.json"]);
});

Deno.test("vocab with vocab.minCount 2 leaves rare tokens out and appends <unk> as the last id", async () => {
  const config = defaultConfig();
  config.vocab.minCount = 2;
  const ctx = fakeContext();
  const built = (await vocab.run({ notes: NOTES }, config, ctx))["vocab.json"];
  assert.deepEqual(built, { tokens: ["-", "kick", "snare", "<unk>"] });
  assert.equal(built.tokens.indexOf("<unk>"), built.tokens.length - 1);
  assert.deepEqual(ctx.collected.metrics, { vocabSize: 4, rareTokens: 2, rareSteps: 2 });
  // Even when no token is rare, the unknown class is there for held-out tokens.
  assert.deepEqual(buildVocab(["a", "a", "b", "b"], 2).tokens, ["a", "b", "<unk>"]);
  assert.deepEqual(buildVocab(NOTES, 3).tokens, ["-", "kick", "<unk>"]);
  // The codec reads it back, and refuses <unk> anywhere but last.
  assert.deepEqual(vocabulary.decode(vocabulary.encode(built)), built);
  assert.throws(
    () => vocabulary.decode(new TextEncoder().encode('{"tokens":["<unk>","a"]}')),
    /<unk> is not its last token/,
  );
});

Deno.test("with vocab.minCount 2, a token absent from training and a rare training token both map to <unk>", () => {
  const training = ["kick", "kick", "snare", "snare", "-", "-", "-", "ride"]; // ride is rare
  const vocab = buildVocab(training, 2);
  assert.deepEqual(vocab.tokens, ["-", "kick", "snare", UNKNOWN_TOKEN]);
  const unk = unknownId(vocab);
  assert.equal(unk, 3);
  // crash never appears in training; ride appears once, under minCount.
  const held = encodeTokens(["kick", "crash", "-", "ride", "snare"], vocab);
  assert.deepEqual([...held.ids], [1, unk, 0, unk, 2]);
  assert.equal(held.unknown, 2);
  // Without <unk> (minCount 1): as before, -1, the mark makeWindows leaves out.
  const full = buildVocab(training);
  assert.equal(unknownId(full), undefined);
  const old = encodeTokens(["kick", "crash", "ride"], full);
  assert.deepEqual([...old.ids], [1, -1, 2]);
  assert.equal(old.unknown, 1);
});
