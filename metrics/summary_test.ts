import assert from "node:assert/strict";
import { meanAndSpread, pieceStatistics, summarize } from "./summary.ts";
import { muspyMetrics } from "./muspy.ts";
import { quantize } from "./piece.ts";
import { close, piece } from "../tests/_metrics.ts";

Deno.test("pieceStatistics() reports each metric raw and on sixteenths (_q16)", () => {
  // res 480, a kick (pitch 36) at tick 2 and a snare (38) at 478, each 60 long. Raw onsets sit at
  // positions 2 and 478 of the beat: duple {0,120,240,360} and triple {0,160,320} miss both → 0.
  // Quantized: 2/120 → 0 and 478/120 ≈ 3.98 → 4 at res 4 → positions 0, 0 → duple 1, triple 1.
  const p = piece(480, [[2, 60, 36], [478, 60, 38]]);
  const s = pieceStatistics(p);
  assert.equal(s.drum_in_pattern_rate_duple, 0);
  assert.equal(s.drum_in_pattern_rate_triple, 0);
  assert.equal(s.drum_pattern_consistency, 0);
  assert.equal(s.drum_in_pattern_rate_duple_q16, 1);
  assert.equal(s.drum_in_pattern_rate_triple_q16, 1);
  assert.equal(s.drum_pattern_consistency_q16, 1);
  // Pitch metrics do not depend on timing.
  assert.equal(s.n_pitches_used, 2);
  assert.equal(s.n_pitches_used_q16, 2);
  assert.equal(s.pitch_range_q16, 2);
  // Raw: end 538 → 538 // 480 + 1 = 2 beats, both played → 0. Quantized: (0,1) and (4,1),
  // end 5 → 2 beats, both played → 0.
  assert.equal(s.empty_beat_rate, 0);
  assert.equal(s.empty_beat_rate_q16, 0);
  // Every field has its twin, and the twins are muspyMetrics(quantize(p, 4)).
  const q = muspyMetrics(quantize(p, 4));
  assert.equal(Object.keys(s).length, 20);
  for (const [k, v] of Object.entries(q)) {
    close((s as unknown as Record<string, number>)[`${k}_q16`]!, v, k);
  }
});

Deno.test("pieceStatistics() of an empty piece: NaN where MusPy gives NaN, counts 0", () => {
  const s = pieceStatistics(piece(480, []));
  close(s.empty_beat_rate, NaN);
  close(s.groove_consistency_q16, NaN);
  close(s.polyphony, NaN);
  close(s.pitch_class_entropy_q16, NaN);
  assert.equal(s.n_pitches_used, 0);
  assert.equal(s.pitch_range_q16, 0);
});

Deno.test("meanAndSpread() ignores NaN and gives the population std", () => {
  // 1, 2, 3: mean 2, variance (1 + 0 + 1) / 3 = 2/3.
  const s = meanAndSpread([1, NaN, 2, 3]);
  close(s.mean, 2);
  close(s.std, Math.sqrt(2 / 3));
  assert.deepEqual({ min: s.min, max: s.max, n: s.n }, { min: 1, max: 3, n: 3 });
  assert.deepEqual(meanAndSpread([5]), { mean: 5, std: 0, min: 5, max: 5, n: 1 });
  const none = meanAndSpread([NaN]);
  assert.equal(none.n, 0);
  for (const v of [none.mean, none.std, none.min, none.max]) close(v, NaN);
  assert.equal(meanAndSpread([]).n, 0);
});

Deno.test("summarize() gives each metric's spread over records", () => {
  // a: 1, 3 → mean 2, std 1. b: NaN, 2 → mean 2 from one value.
  const out = summarize([{ a: 1, b: NaN }, { a: 3, b: 2 }]);
  assert.deepEqual(out.a, { mean: 2, std: 1, min: 1, max: 3, n: 2 });
  assert.deepEqual(out.b, { mean: 2, std: 0, min: 2, max: 2, n: 1 });
  // Works on pieceStatistics records directly.
  const rows = [piece(4, [[0, 1, 36]]), piece(4, [[0, 1, 36], [1, 1, 38]])].map((p) =>
    pieceStatistics(p)
  );
  assert.deepEqual(summarize(rows).n_pitches_used, { mean: 1.5, std: 0.5, min: 1, max: 2, n: 2 });
  assert.deepEqual(summarize([]), {});
});
