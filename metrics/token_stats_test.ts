import assert from "node:assert/strict";
import {
  barRepeatShare,
  distinctTokens,
  hitsPerBar,
  jensenShannonDistance,
  longestRun,
  silentShare,
  tokenCounts,
  tokensPerBar,
  tokenStatistics,
  topTokenShare,
} from "./token_stats.ts";
import { close } from "../tests/_metrics.ts";

const counts = (o: Record<string, number>) => new Map(Object.entries(o));

Deno.test("tokensPerBar() is quarters per bar over quarters per token", () => {
  assert.equal(tokensPerBar(), 8); // 4 / 0.5
  assert.equal(tokensPerBar(0.25), 16);
  assert.equal(tokensPerBar(1.5, 3), 2);
  assert.throws(() => tokensPerBar(0.75), RangeError); // 4 / 0.75 is not whole
  assert.throws(() => tokensPerBar(8), RangeError); // half a token a bar
});

Deno.test("distinctTokens(), topTokenShare() and tokenCounts() on a short list", () => {
  // C4 ×2, E4, 0.4.7 → 3 distinct; the top token holds 2 of 4 → 0.5.
  const tokens = ["C4", "E4", "C4", "0.4.7"];
  assert.equal(distinctTokens(tokens), 3);
  close(topTokenShare(tokens), 0.5);
  assert.deepEqual(tokenCounts(tokens), counts({ "C4": 2, "E4": 1, "0.4.7": 1 }));
  assert.equal(distinctTokens([]), 0);
  close(topTokenShare([]), NaN);
  close(topTokenShare(["A", "A", "A"]), 1);
});

Deno.test("longestRun() finds the longest stretch of one token", () => {
  // C4 C4 | E4 E4 E4 | C4 → 3.
  assert.equal(longestRun(["C4", "C4", "E4", "E4", "E4", "C4"]), 3);
  assert.equal(longestRun(["C4", "E4", "C4"]), 1);
  assert.equal(longestRun(["C4"]), 1);
  assert.equal(longestRun([]), 0);
});

Deno.test("barRepeatShare() compares each full bar with the one before", () => {
  // 2 tokens a bar: AB AB AC AC + partial X (left out) → bars 2..4 vs previous: yes, no, yes
  // → 2/3.
  close(barRepeatShare(["A", "B", "A", "B", "A", "C", "A", "C", "X"], 2), 2 / 3);
  // Default 8 a bar: 16 equal tokens → 2 bars, the second repeats → 1.
  close(barRepeatShare(new Array(16).fill("C4")), 1);
  // 15 tokens → 1 full bar → NaN.
  close(barRepeatShare(new Array(15).fill("C4")), NaN);
  // A repeat needs the whole bar: AB then AA → 0.
  close(barRepeatShare(["A", "B", "A", "A"], 2), 0);
  assert.throws(() => barRepeatShare([], 0), RangeError);
});

Deno.test("jensenShannonDistance() is 0 for identical and 1 for disjoint distributions", () => {
  close(jensenShannonDistance(counts({ A: 1, B: 3 }), counts({ A: 1, B: 3 })), 0);
  // Only proportions matter: {A:1,B:1} and {A:5,B:5} are the same distribution.
  close(jensenShannonDistance(counts({ A: 1, B: 1 }), counts({ A: 5, B: 5 })), 0);
  close(jensenShannonDistance(counts({ A: 2, B: 1 }), counts({ C: 4 })), 1);
  close(jensenShannonDistance(counts({}), counts({ A: 1 })), NaN);
  assert.throws(() => jensenShannonDistance(counts({ A: -1 }), counts({ A: 1 })), RangeError);
});

Deno.test("jensenShannonDistance() is the square root of the base-2 divergence", () => {
  // P = (1, 0), Q = (½, ½) → M = (¾, ¼). KL(P‖M) = log2(4/3);
  // KL(Q‖M) = ½ log2(2/3) + ½ log2 2. JSD = ½ (KL(P‖M) + KL(Q‖M)) ≈ 0.3112781244591328;
  // distance = √JSD ≈ 0.5579230452 (SciPy: jensenshannon([1, 0], [.5, .5], base=2)).
  const jsd = 0.5 * (Math.log2(4 / 3) + 0.5 * Math.log2(2 / 3) + 0.5);
  const p = counts({ A: 1 });
  const q = counts({ A: 1, B: 1 });
  close(jensenShannonDistance(p, q), Math.sqrt(jsd));
  assert.ok(Math.abs(jensenShannonDistance(p, q) - 0.5579230452) < 1e-9);
  // Symmetric.
  close(jensenShannonDistance(q, p), jensenShannonDistance(p, q));
});

Deno.test("tokenStatistics() gathers every statistic, with a reference list or its counts", () => {
  // 16 tokens, 8 a bar: bar 1 = C4 C4 C4 C4 E4 E4 G4 G4, bar 2 the same.
  const bar = ["C4", "C4", "C4", "C4", "E4", "E4", "G4", "G4"];
  const tokens = [...bar, ...bar];
  const reference = ["C4", "E4", "G4", "C4", "E4", "G4"];
  const s = tokenStatistics(tokens, reference);
  // C4 ×8 of 16 → 0.5; the run C4 ×4 at each bar's start (G4 G4 | C4 … does not join) → 4.
  assert.deepEqual({ ...s, js_distance: 0 }, {
    n_tokens: 16,
    distinct_tokens: 3,
    top_token_share: 0.5,
    longest_run: 4,
    bar_repeat_share: 1,
    silent_share: 0,
    hits_per_bar: 8,
    js_distance: 0,
  });
  // P = (½, ¼, ¼), Q = (⅓, ⅓, ⅓): same as via jensenShannonDistance() on the counts.
  close(s.js_distance, jensenShannonDistance(tokenCounts(tokens), tokenCounts(reference)));
  assert.ok(s.js_distance > 0 && s.js_distance < 1);
  close(tokenStatistics(tokens, tokenCounts(reference)).js_distance, s.js_distance);
  // No reference → NaN; a different bar length → bars of 4: C4×4 | E4 E4 G4 G4 | C4×4 | E4…
  // → repeats: no, no, no → 0.
  close(tokenStatistics(tokens).js_distance, NaN);
  close(tokenStatistics(tokens, undefined, { tokensPerBar: 4 }).bar_repeat_share, 0);
  const empty = tokenStatistics([]);
  assert.equal(empty.n_tokens, 0);
  assert.equal(empty.distinct_tokens, 0);
  close(empty.top_token_share, NaN);
  close(empty.bar_repeat_share, NaN);
});

Deno.test("silentShare() and hitsPerBar() count the drum grid's silence and struck parts", () => {
  const bar = ["kick+hihat-closed", "-", "hihat-closed", "-", "snare+hihat-closed", "-", "-", "-"];
  assert.equal(silentShare(bar), 5 / 8);
  assert.equal(hitsPerBar([...bar, ...bar, "kick"], 8), 5);
  close(hitsPerBar(bar.slice(0, 3), 8), NaN);
  close(silentShare([]), NaN);
});
