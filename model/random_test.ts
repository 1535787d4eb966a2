import assert from "node:assert/strict";
import { mixSeed, seededRandom, seedStream, shuffleInPlace } from "./random.ts";
import { recurrentMask } from "./seeded_dropout.ts";

// The values below are what the pipeline computed before these functions moved here: every
// checkpoint's bytes depend on them, so they must never change.

Deno.test("mixSeed() gives the seeds checkpoints were made with, for both mixings", () => {
  assert.deepEqual(
    [mixSeed(1, 0), mixSeed(1, 1), mixSeed(42, 7), mixSeed(0xffffffff, 123456)],
    [1, 2654435760, 1401181181, 4278342079],
  );
  assert.deepEqual(
    [
      mixSeed(9, 0, "hashed"),
      mixSeed(9, 1, "hashed"),
      mixSeed(1, 0x100000 * 3 + 2, "hashed"),
      mixSeed(0x7fffffff, 12345, "hashed"),
    ],
    [2980047484, 1759968645, 3023167679, 1399249648],
  );
});

Deno.test("seedStream() and recurrentMask() draw what they always drew", () => {
  const next = seedStream(1);
  assert.deepEqual([next(), next(), next()], [1346631032, 5874916, 1132683892]);
  const keep = Math.fround(1 / 0.7);
  assert.deepEqual(Array.from(recurrentMask(1, 8, 0.3, 1, 0)), [
    keep,
    keep,
    keep,
    keep,
    keep,
    0,
    keep,
    keep,
  ]);
});

Deno.test("shuffleInPlace() permutes repeatably from the seed", () => {
  const a = shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7], seededRandom(3));
  assert.deepEqual(shuffleInPlace([0, 1, 2, 3, 4, 5, 6, 7], seededRandom(3)), a);
  assert.deepEqual([...a].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
});
