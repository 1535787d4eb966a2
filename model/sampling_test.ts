import assert from "node:assert/strict";
import { seededRandom } from "./random.ts";
import { argMax, chooseNext, type Sampling } from "./sampling.ts";

const at = (temperature: number, topK = 0, topP = 1): Sampling => ({ temperature, topK, topP });
const P = [0.1, 0.2, 0.3, 0.4];

/** How often each index is drawn in `n` draws. */
function counts(sampling: Sampling, n = 4000, p: number[] = P): number[] {
  const rng = seededRandom(7);
  const out = p.map(() => 0);
  for (let i = 0; i < n; i++) out[chooseNext(p, sampling, rng)]!++;
  return out;
}

Deno.test("argMax() takes the first of equal maxima, as numpy.argmax", () => {
  assert.equal(argMax([0.1, 0.4, 0.4, 0.1]), 1);
  assert.equal(chooseNext([0.1, 0.4, 0.4, 0.1], at(0, 1, 0.1), () => 0.99), 1, "T = 0: argmax");
});

Deno.test("chooseNext() draws in proportion to p^(1/T) and concentrates on the maximum as T falls", () => {
  const warm = counts(at(1));
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(warm[i]! / 4000 - P[i]!) < 0.03, `${warm}`);
  assert.ok(counts(at(0.05), 1000)[3]! > 990);
});

Deno.test("chooseNext() with topK draws only among the K most likely", () => {
  const c = counts(at(1, 2));
  assert.deepEqual([c[0], c[1]], [0, 0]);
  // Renormalised over the two kept: 0.3 / 0.7 and 0.4 / 0.7.
  assert.ok(Math.abs(c[3]! / 4000 - 4 / 7) < 0.03, `${c}`);
});

Deno.test("chooseNext() with topP draws only from the smallest set reaching that mass", () => {
  // Most likely first: 0.4, then 0.3 (0.7 ≥ 0.6): the nucleus is {3, 2}.
  const c = counts(at(1, 0, 0.6));
  assert.deepEqual([c[0], c[1]], [0, 0]);
  // A nucleus smaller than the top token still keeps it.
  assert.deepEqual(counts(at(1, 0, 0.01), 500), [0, 0, 0, 500]);
});

Deno.test("chooseNext() without a cut draws exactly as the plain temperature draw", () => {
  // Same rng, same sequence: topK 0 and topP 1 change nothing.
  const plain = counts(at(0.8), 500);
  assert.deepEqual(counts(at(0.8, 0, 1), 500), plain);
  assert.deepEqual(counts(at(0.8, 4, 1), 500), plain, "K = vocabulary size cuts nothing");
});
