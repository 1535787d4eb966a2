import assert from "node:assert/strict";
import { FormatError } from "./codec.ts";
import type { ParsedFile } from "./files.ts";
import {
  buildSequences,
  emptySequences,
  splitSequences,
  type TokenSequences,
  tokenSequences,
  trainingSequences,
} from "./sequences.ts";
import { encodeTokens, UNKNOWN_TOKEN, unknownId } from "./tokens.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("tokenSequences round-trips, compact, and refuses what is not such a value", () => {
  const value: TokenSequences = {
    paths: ["a.mid", "b/c.mid", "e.mid"],
    lengths: [3, 0, 2],
    ids: [0, 4, 2, 1, 1],
  };
  const encoded = tokenSequences.encode(value);
  assert.equal(
    new TextDecoder().decode(encoded),
    '{"paths":["a.mid","b/c.mid","e.mid"],"lengths":[3,0,2],"ids":[0,4,2,1,1]}',
  );
  assert.deepEqual(tokenSequences.decode(encoded), value);
  assert.deepEqual(
    tokenSequences.decode(tokenSequences.encode(emptySequences())),
    emptySequences(),
  );
  for (
    const [text, why] of [
      ["[]", "it is not an object"],
      ['{"paths":[],"lengths":[]}', "it lacks one of the lists paths, lengths and ids"],
      ['{"paths":["a"],"lengths":[],"ids":[]}', "it has 0 lengths for 1 paths"],
      ['{"paths":["a"],"lengths":[2],"ids":[1]}', "its lengths add up to 2 but it has 1 ids"],
      ['{"paths":["a"],"lengths":[-1],"ids":[]}', "length 0 is -1"],
      ['{"paths":["a"],"lengths":[2],"ids":[1,1.5]}', "id 1 is 1.5"],
      ['{"paths":[3],"lengths":[0],"ids":[]}', "path 0 is 3"],
    ]
  ) {
    assert.throws(
      () => tokenSequences.decode(bytes(text!)),
      (e: unknown) => e instanceof FormatError && e.message.endsWith(why!),
      text,
    );
  }
});

Deno.test("splitSequences() cuts the flat ids by the lengths, one Int32Array per file", () => {
  const parts = splitSequences([0, 4, 2, 1, 1], [3, 0, 2]);
  assert.deepEqual(parts, [Int32Array.of(0, 4, 2), Int32Array.of(), Int32Array.of(1, 1)]);
  assert.deepEqual(splitSequences(Int32Array.of(5, 6), [2]), [Int32Array.of(5, 6)]);
  assert.throws(() => splitSequences([1, 2], [3]), /the lengths add up to 3 but there are 2 ids/);
});

Deno.test("encodeTokens(): a token the vocabulary lacks maps to <unk> when it has one, else to -1", () => {
  const vocab = { tokens: ["-", "kick", "snare", UNKNOWN_TOKEN] };
  const unk = unknownId(vocab);
  assert.equal(unk, 3);
  const held = encodeTokens(["kick", "crash", "-", "ride", "snare"], vocab);
  assert.deepEqual([...held.ids], [1, unk, 0, unk, 2]);
  assert.equal(held.unknown, 2);
  // Without <unk> (vocab.minCount 1): as before, -1, the mark makeWindows leaves out.
  const full = { tokens: ["-", "kick", "ride", "snare"] };
  assert.equal(unknownId(full), undefined);
  const old = encodeTokens(["kick", "crash", "ride"], full);
  assert.deepEqual([...old.ids], [1, -1, 2]);
  assert.equal(old.unknown, 1);
});

Deno.test("buildSequences(): with <unk> every file is kept; without it, a file holding an unknown token is left out", () => {
  const files = [
    { path: "a.mid", tokens: ["kick", "snare"] },
    { path: "b.mid", tokens: ["kick", "crash"] },
    { path: "c.mid", tokens: [] },
  ];
  const withUnk = buildSequences(files, { tokens: ["kick", "snare", UNKNOWN_TOKEN] });
  assert.deepEqual(withUnk, {
    sequences: { paths: ["a.mid", "b.mid", "c.mid"], lengths: [2, 2, 0], ids: [0, 1, 0, 2] },
    unknown: 1,
    leftOut: [],
  });
  const without = buildSequences(files, { tokens: ["kick", "snare"] });
  assert.deepEqual(without, {
    sequences: { paths: ["a.mid", "c.mid"], lengths: [2, 0], ids: [0, 1] },
    unknown: 1,
    leftOut: ["b.mid"],
  });
});

Deno.test("trainingSequences() cuts parse's notes.json by parse_report.json, skipping failed files", () => {
  const notes = ["kick", "-", "snare", "ride", "kick", "kick", "-"];
  const report: ParsedFile[] = [
    { path: "a.mid", sha256: "x", tokens: 3 },
    { path: "bad.mid", sha256: "y", error: "MIDI file is corrupt" },
    { path: "b.mid", sha256: "z", tokens: 4 },
  ];
  const vocab = { tokens: ["-", "kick", UNKNOWN_TOKEN] }; // vocab.minCount 2 of these notes
  const seqs = trainingSequences(notes, report, vocab);
  assert.deepEqual(seqs, {
    paths: ["a.mid", "b.mid"],
    lengths: [3, 4],
    ids: [1, 0, 2, 2, 1, 1, 0],
  });
  assert.deepEqual(
    splitSequences(seqs.ids, seqs.lengths).map((a) => [...a]),
    [[1, 0, 2], [2, 1, 1, 0]],
  );
  assert.throws(
    () => trainingSequences(notes.slice(1), report, vocab),
    /parse_report\.json counts 7 tokens but notes\.json holds 6/,
  );
});
