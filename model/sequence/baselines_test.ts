import assert from "node:assert/strict";
import {
  type BaselineModel,
  distribution,
  fitBaselines,
  fitCopyBar,
  fitNgram,
  fitStepUnigram,
  fitUnigram,
  modifiedKnDiscounts,
  score,
  scoreBaselines,
} from "./baselines.ts";
import { tokenizeFile } from "../../music/encoding.ts";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} is not ${b} (±${tol})`);

/** A seeded generator (mulberry32), so the made-up corpora are the same every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Files whose token depends on the bar position (4 steps), the one bar back, and chance. */
function grooves(seed: number, files: number, steps: number, vocab: number): Int32Array[] {
  const rnd = random(seed);
  return Array.from({ length: files }, () => {
    const seq = new Int32Array(steps);
    for (let t = 0; t < steps; t++) {
      const r = rnd();
      seq[t] = t >= 4 && r < 0.5
        ? seq[t - 4]!
        : r < 0.8
        ? (t % 4) * 2 + (rnd() < 0.7 ? 0 : 1)
        : Math.floor(rnd() * vocab);
    }
    return seq;
  });
}

Deno.test("every baseline's distribution sums to 1 at every step, first included", () => {
  const V = 10; // ids 8 and 9 appear only by chance; the scored file holds 9 and more
  const train = grooves(1, 6, 64, 9);
  const validation = grooves(2, 3, 64, 10);
  const models = fitBaselines(train, validation, V, 4);
  const held = Int32Array.from([9, 0, 2, 4, 6, 9, 9, 9, 0, 1, 3, 5, 7, 8, 9, 0]);
  for (const model of Object.values(models) as BaselineModel[]) {
    for (const t of [0, 1, 3, 4, 5, 8, 15]) {
      const p = distribution(model, held, t);
      assert.equal(p.length, V);
      close(p.reduce((a, b) => a + b, 0), 1, 1e-12);
      assert.ok(p.every((x) => x > 0), `${model.kind} gives some token 0 at step ${t}`);
    }
  }
});

Deno.test("the unigram, step unigram and copy-bar distributions, worked by hand", () => {
  const train = [Int32Array.from([0, 1, 0, 0])]; // counts 3, 1, 0 of 4
  const u = fitUnigram(train, [], 3, { alpha: 0.5 });
  assert.deepEqual([...u.probabilities], [3.5 / 5.5, 1.5 / 5.5, 0.5 / 5.5]);
  // Two bar positions: position 0 saw 0, 0; position 1 saw 1, 0.
  const s = fitStepUnigram(train, [], 3, 2, { unigram: u, weight: 0.25 });
  const at1 = distribution(s, Int32Array.from([2, 2]), 1);
  close(at1[0]!, 0.75 * 0.5 + 0.25 * 3.5 / 5.5);
  close(at1[2]!, 0.25 * 0.5 / 5.5);
  const c = fitCopyBar(train, [], 3, 2, { step: s, weight: 0.6 });
  const seq = Int32Array.from([1, 2, 2, 1]);
  // Step 2 (bar position 0) copies step 0's token 1; step 1 has no bar before it.
  const p2 = distribution(c, seq, 2);
  close(p2[1]!, 0.6 + 0.4 * 0.25 * 1.5 / 5.5);
  close(p2[0]!, 0.4 * (0.75 + 0.25 * 3.5 / 5.5));
  assert.deepEqual([...distribution(c, seq, 1)], [...at1]);
});

// Kneser-Ney on [0, 1, 0, 1, 1] with one discount D = ½, vocabulary {0, 1, 2}, B = begin-of-file.
// Bigrams: B0 1, 01 2, 10 1, 11 1. Unigram level, continuation counts (distinct left
// neighbours): 0 ← {B, 1} 2, 1 ← {0, 1} 2, 2 never: total 4, γ = ½·2/4 = ¼, so
// p1(0) = p1(1) = 1.5/4 + ¼·⅓ = 11/24, p1(2) = 1/12.
//   p(0 | B) = ½/1 + (½·1/1)·11/24 = 35/48
//   p(1 | 0) = 1.5/2 + (½·1/2)·11/24 = 83/96
//   p(2 | 1) = 0 + (½·2/2)·1/12 = 1/24
//   p(1 | 2) = p1(1) = 11/24 (a context never seen: the unigram level)
Deno.test("interpolated Kneser-Ney matches hand-computed values on a tiny corpus", () => {
  const train = [Int32Array.from([0, 1, 0, 1, 1])];
  const held = Int32Array.from([0, 1, 2, 1]);
  const bigram = fitNgram(train, [], 3, { order: 2, discount: 0.5 });
  const expected = [35 / 48, 83 / 96, 1 / 24, 11 / 24];
  for (const [t, p] of expected.entries()) close(distribution(bigram, held, t)[held[t]!]!, p);
  close(distribution(bigram, held, 3)[0]!, 11 / 24);
  close(distribution(bigram, held, 3)[2]!, 1 / 12);
  const s = score(bigram, [held]);
  close(s.loss, -expected.reduce((a, p) => a + Math.log(p), 0) / 4);
  assert.equal(s.steps, 4);
  // Order 3: the context "B" keeps its raw count below the top order (nothing precedes it), so
  // the first step is as before; p(1 | B 0) = ½/1 + (½·1/1)·p(1 | 0) = 179/192.
  const trigram = fitNgram(train, [], 3, { order: 3, discount: 0.5 });
  close(distribution(trigram, held, 0)[0]!, 35 / 48);
  close(distribution(trigram, held, 1)[1]!, 179 / 192);
});

Deno.test("modified Kneser-Ney's discounts follow Chen & Goodman", () => {
  // Y = 10/(10 + 2·5) = ½: D1 = 1 − 2Y·5/10, D2 = 2 − 3Y·3/5, D3 = 3 − 4Y·2/3.
  const [d1, d2, d3] = modifiedKnDiscounts([10, 5, 3, 2]);
  close(d1, 0.5);
  close(d2, 1.1);
  close(d3, 3 - 4 / 3);
  // Too few counts to estimate three: one discount, Y.
  assert.deepEqual(modifiedKnDiscounts([4, 0, 0, 0]), [1, 1, 1]);
});

Deno.test("copying the bar before reaches a low loss on a periodic sequence", () => {
  const periodic = (bar: number[], bars: number) =>
    Int32Array.from({ length: bar.length * bars }, (_, t) => bar[t % bar.length]!);
  const train = [periodic([0, 1, 2, 1], 40), periodic([0, 3, 2, 3], 40)];
  const validation = [periodic([0, 1, 2, 3], 30)];
  const copy = fitCopyBar(train, validation, 5, 4);
  assert.ok(copy.weight > 0.999, `λ = ${copy.weight}`);
  // A bar never seen in training, of tokens seen at their bar positions.
  const held = [periodic([0, 3, 2, 1], 50)];
  const s = score(copy, held);
  const step = score(copy.step, held);
  assert.ok(s.loss < 0.05, `copy-bar loss ${s.loss}`);
  assert.ok(s.loss < step.loss / 10, `${s.loss} against the step unigram's ${step.loss}`);
  assert.ok(Number.isFinite(s.loss));
  // After the first bar the copy; in it, each token is the most probable at its position or
  // tied with 1 or 3 (ties count for the true token, as evaluate.ts ranks).
  assert.equal(s.top1, 1);
});

Deno.test("the step unigram beats the unigram when tokens follow the bar position", () => {
  const train = grooves(3, 8, 64, 8);
  const validation = grooves(4, 4, 64, 8);
  const held = grooves(5, 4, 64, 8);
  const models = fitBaselines(train, validation, 8, 4);
  const scores = scoreBaselines(models, held);
  assert.ok(scores.stepUnigram.loss < scores.unigram.loss - 0.3, JSON.stringify(scores));
  assert.ok(scores.copyBar.loss < scores.stepUnigram.loss, JSON.stringify(scores));
  assert.ok(models.stepUnigram.weight > 0 && models.stepUnigram.weight < 0.5);
  for (const s of Object.values(scores)) {
    assert.ok(s.top1 <= s.top5);
    assert.equal(s.steps, 256);
  }
});

Deno.test("the n-gram order is the one with the lowest validation loss", () => {
  // x_t = x_{t−1} + x_{t−2} mod 7 after two random tokens: order 3 predicts it, order 2 cannot.
  const fib = (seed: number, files: number) => {
    const rnd = random(seed);
    return Array.from({ length: files }, () => {
      const seq = new Int32Array(40);
      for (let t = 0; t < 40; t++) {
        seq[t] = t < 2 ? Math.floor(rnd() * 7) : (seq[t - 1]! + seq[t - 2]!) % 7;
      }
      return seq;
    });
  };
  const model = fitNgram(fib(6, 30), fib(7, 10), 7, { orders: [2, 3, 4, 5] });
  const losses = model.validationLoss;
  assert.deepEqual(Object.keys(losses).map(Number), [2, 3, 4, 5]);
  assert.equal(model.order, Number(Object.entries(losses).sort((a, b) => a[1] - b[1])[0]![0]));
  assert.ok(model.order >= 3 && losses[2]! > losses[model.order]! + 0.5, JSON.stringify(losses));
  assert.ok(score(model, fib(8, 5)).loss < 0.5);
  // Tokens drawn independently: longer contexts only add noise, so the shortest is best.
  const rnd = random(9);
  const iid = (files: number) =>
    Array.from(
      { length: files },
      () => Int32Array.from({ length: 200 }, () => Math.floor(rnd() * 6)),
    );
  assert.equal(fitNgram(iid(10), iid(5), 6, { orders: [2, 3, 4, 5] }).order, 2);
});

Deno.test("a token id never seen in training gets a finite loss from every baseline", () => {
  const train = [Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1])];
  const validation = [Int32Array.from([0, 1, 0, 1, 0, 1, 1, 0])];
  const models = fitBaselines(train, validation, 3, 2); // id 2: the unknown class
  const scores = scoreBaselines(models, [Int32Array.from([2, 2, 0, 2, 1, 2])]);
  for (const [name, s] of Object.entries(scores)) {
    assert.ok(Number.isFinite(s.loss) && s.loss > 0, `${name}: ${s.loss}`);
    assert.ok(s.top1 <= s.top5, name);
  }
  assert.throws(() => score(models.unigram, [Int32Array.from([3])]), RangeError);
  assert.throws(() => fitNgram(train, [], 3), /validation/);
});

// --- the Groove drum grid ----------------------------------------------------------------------

const GROOVE = new URL("../../data/groove/", import.meta.url);

/** Every Groove file's drum grid, by the split info.csv gives it. */
function grooveSplits(): Record<string, string[][]> {
  const [header, ...rows] = Deno.readTextFileSync(new URL("info.csv", GROOVE)).trim().split("\n");
  const columns = header!.split(",");
  const file = columns.indexOf("midi_filename"), split = columns.indexOf("split");
  const out: Record<string, string[][]> = { train: [], validation: [], test: [] };
  for (const row of rows) {
    const cells = row.split(",");
    const bytes = Deno.readFileSync(new URL(cells[file]!, GROOVE));
    const { tokens } = tokenizeFile(bytes, {
      encoding: "drum-grid",
      stepsPerQuarter: 4,
      velocity: "off",
    });
    out[cells[split]!]!.push(tokens);
  }
  return out;
}

Deno.test("the baselines on the Groove drum grid land near the PyTorch figures", () => {
  const started = performance.now();
  const splits = grooveSplits();
  assert.deepEqual([splits.train!.length, splits.validation!.length, splits.test!.length], [
    897,
    124,
    129,
  ]);
  const vocab = [...new Set(splits.train!.flat())].sort();
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const unk = vocab.length;
  const numbered = (files: string[][]) =>
    files.map((tokens) => Int32Array.from(tokens, (t) => ids.get(t) ?? unk));
  const [train, validation, test] = [splits.train!, splits.validation!, splits.test!].map(numbered);
  const tokenized = performance.now();
  const models = fitBaselines(train!, validation!, vocab.length + 1, 16);
  const fitted = performance.now();
  const scores = scoreBaselines(models, test!);
  const scored = performance.now();
  const f = (x: number) => x.toFixed(3);
  console.log(
    `drum grid: vocabulary ${vocab.length} + unk; ` +
      `α ${models.unigram.alpha}, step weight ${f(models.stepUnigram.weight)}, ` +
      `n-gram order ${models.ngram.order}, copy λ ${f(models.copyBar.weight)}`,
  );
  const byOrder = Object.entries(models.ngram.validationLoss).map(([n, l]) => `${n}: ${f(l)}`);
  console.log(`n-gram validation loss by order: ${byOrder.join(", ")}`);
  for (const [name, s] of Object.entries(scores)) {
    console.log(
      `test ${name}: loss ${f(s.loss)} top1 ${f(s.top1)} top5 ${f(s.top5)} (${s.steps} steps)`,
    );
  }
  console.log(
    `tokenize ${f((tokenized - started) / 1000)} s, fit ${f((fitted - tokenized) / 1000)} s, ` +
      `score ${f((scored - fitted) / 1000)} s`,
  );
  const steps = test!.reduce((a, s) => a + s.length, 0);
  for (const s of Object.values(scores)) {
    assert.equal(s.steps, steps);
    assert.ok(s.top1 <= s.top5);
  }
  assert.ok(Math.abs(scores.unigram.loss - 2.69) < 0.1, `unigram ${scores.unigram.loss}`);
  assert.ok(Math.abs(scores.stepUnigram.loss - 2.45) < 0.1, `step ${scores.stepUnigram.loss}`);
  assert.ok(scores.ngram.loss < 2.18 + 0.1, `n-gram ${scores.ngram.loss}`);
  assert.ok(scores.ngram.loss > 1.13, `n-gram ${scores.ngram.loss} below the LSTM's 1.13`);
  assert.ok(
    scores.copyBar.loss < scores.stepUnigram.loss && scores.copyBar.loss > 1.13,
    `copy-bar ${scores.copyBar.loss}`,
  );
});
