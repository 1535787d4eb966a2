/**
 * Each MusPy metric on small pieces whose values are worked out by hand from the definitions in
 * muspy/metrics/metrics.py (the working is in the comment above each assertion). Notation:
 * `(time, duration, pitch)`, res = ticks per beat, end = last note-off.
 */
import assert from "node:assert/strict";
import {
  drumInPatternRate,
  drumPatternConsistency,
  emptyBeatRate,
  grooveConsistency,
  muspyMetrics,
  nPitchClassesUsed,
  nPitchesUsed,
  pitchClassEntropy,
  pitchRange,
  polyphony,
} from "./muspy.ts";
import { close, piece } from "../tests/_metrics.ts";
import type { DrumMeter } from "./muspy.ts";

const EMPTY = piece(4, []);

Deno.test("emptyBeatRate() counts beats with no note over floor(end / res) + 1 beats", () => {
  // res 4, notes (0,1) and (12,1): end 13 → 13 // 4 + 1 = 4 beats; the notes cover beats 0..0
  // and 3..3; beats 1 and 2 are empty → 2 / 4 = 0.5.
  close(emptyBeatRate(piece(4, [[0, 1], [12, 1]])), 0.5);
  // res 4, notes (0,1), (8,1), (12,3): end 15 → 4 beats; beats 0, 2, 3 played → 1 − 3/4 = 0.25.
  close(emptyBeatRate(piece(4, [[0, 1], [8, 1], [12, 3]])), 0.25);
  // A note covers every beat from its onset's to its end's: res 2, (1,6) spans beats 0..3 of
  // 7 // 2 + 1 = 4 → 0.
  close(emptyBeatRate(piece(2, [[1, 6]])), 0);
});

Deno.test("emptyBeatRate() keeps MusPy's quirk: a note ending on a beat line marks that beat", () => {
  // res 4, (0,4) and (12,1): end 13 → 4 beats; (0,4) ends at tick 4, beat 1, so it marks beats 0
  // and 1; (12,1) marks beat 3; only beat 2 is empty → 0.25 (not 0.5).
  close(emptyBeatRate(piece(4, [[0, 4], [12, 1]])), 0.25);
  // One note (0,4): end 4 → 4 // 4 + 1 = 2 beats, both marked → 0.
  close(emptyBeatRate(piece(4, [[0, 4]])), 0);
});

Deno.test("emptyBeatRate() is NaN on an empty piece or one that ends at tick 0", () => {
  close(emptyBeatRate(EMPTY), NaN);
  // A zero-length note at 0: end 0 < 1 → NaN although a note exists.
  close(emptyBeatRate(piece(4, [[0, 0]])), NaN);
  // A single note (0,1): end 1 → 1 beat, played → 0.
  close(emptyBeatRate(piece(4, [[0, 1]])), 0);
});

Deno.test("drumInPatternRate() at res 4: duple covers every tick, triple only the beat", () => {
  // res 4: 4 % 4 = 0 → duple marks every 4/4 = 1 tick, so every onset is in the pattern → 1.
  // 4 % 3 ≠ 0 → triple marks only position 0. Onsets 0, 1, 2, 5 → positions 0, 1, 2, 1 → 1/4.
  const p = piece(4, [[0, 1], [1, 1], [2, 1], [5, 1]]);
  close(drumInPatternRate(p, "duple"), 1);
  close(drumInPatternRate(p, "triple"), 0.25);
  close(drumPatternConsistency(p), 1);
});

Deno.test("drumInPatternRate() in triple meter: res 12 marks 0, 4, 8; duple marks 0, 3, 6, 9", () => {
  // Onsets 0, 4, 8, 16, 20 → positions (time % 12) 0, 4, 8, 4, 8. Triple {0,4,8}: all 5 → 1.
  // Duple {0,3,6,9}: only position 0 → 1/5. Consistency = max(1/5, 1) = 1.
  const p = piece(12, [[0, 1], [4, 1], [8, 1], [16, 1], [20, 1]]);
  close(drumInPatternRate(p, "duple"), 0.2);
  close(drumInPatternRate(p, "triple"), 1);
  close(drumPatternConsistency(p), 1);
});

Deno.test("drumInPatternRate() at res 6: duple falls back to halves, triple to thirds", () => {
  // 6 % 4 ≠ 0, 6 % 2 = 0 → duple {0, 3}; 6 % 3 = 0 → triple {0, 2, 4}.
  // Onsets 0, 2, 3, 4, 5: duple hits 0, 3 → 2/5; triple hits 0, 2, 4 → 3/5; consistency 3/5.
  const p = piece(6, [[0, 1], [2, 1], [3, 1], [4, 1], [5, 1]]);
  close(drumInPatternRate(p, "duple"), 0.4);
  close(drumInPatternRate(p, "triple"), 0.6);
  close(drumPatternConsistency(p), 0.6);
});

Deno.test("drumInPatternRate() reads the onset within its beat, on raw human timing", () => {
  // res 480: duple {0, 120, 240, 360}, triple {0, 160, 320}. Onsets 0, 125, 241, 480 →
  // positions 0, 125, 241, 0 → duple 2/4; triple 2/4.
  const p = piece(480, [[0, 60], [125, 60], [241, 60], [480, 60]]);
  close(drumInPatternRate(p, "duple"), 0.5);
  close(drumInPatternRate(p, "triple"), 0.5);
  // A single note off the grid: position 7 → 0 for both; consistency max(0, 0) = 0.
  close(drumPatternConsistency(piece(480, [[7, 1]])), 0);
});

Deno.test("drumInPatternRate() is NaN without notes and rejects other meters", () => {
  close(drumInPatternRate(EMPTY, "duple"), NaN);
  close(drumInPatternRate(EMPTY, "triple"), NaN);
  close(drumPatternConsistency(EMPTY), NaN);
  // A zero-length note still has an onset: position 0 → 1.
  close(drumInPatternRate(piece(4, [[0, 0]]), "triple"), 1);
  assert.throws(() => drumInPatternRate(EMPTY, "quadruple" as DrumMeter), RangeError);
});

Deno.test("grooveConsistency() is 1 − Hamming distance of neighbouring bars / (bar · (T − 1))", () => {
  // res 1, 4 ticks a measure. Onsets 0, 2 | 4, 6 | 8, 11, end 12 → 12 // 4 + 1 = 4 measures
  // (the 4th, empty, is MusPy's extra measure). Onset vectors {0,2}, {0,2}, {0,3}, {}:
  // distances 0, 2, 2 → 1 − 4 / (4 · 3) = 2/3.
  const p = piece(1, [[0, 1], [2, 1], [4, 1], [6, 1], [8, 1], [11, 1]]);
  close(grooveConsistency(p, 4), 2 / 3);
  // Onsets 0 | 4, end 5 → 2 measures, {0} and {0} → 1.
  close(grooveConsistency(piece(1, [[0, 1], [4, 1]]), 4), 1);
});

Deno.test("grooveConsistency() counts the measure a note-off on the bar line opens", () => {
  // Onsets 0, 3 and end 4 → 4 // 4 + 1 = 2 measures: {0,3} and {} → distance 2 → 1 − 2/4 = 0.5.
  close(grooveConsistency(piece(1, [[0, 1], [3, 1]]), 4), 0.5);
  // End 3 → 1 measure → NaN.
  close(grooveConsistency(piece(1, [[0, 1], [2, 1]]), 4), NaN);
});

Deno.test("grooveConsistency() is NaN on an empty piece and rejects a bad measure", () => {
  // End 0 → 1 measure → NaN.
  close(grooveConsistency(EMPTY, 16), NaN);
  assert.throws(() => grooveConsistency(EMPTY, 0), RangeError);
  assert.throws(() => grooveConsistency(EMPTY, 1.5), RangeError);
});

Deno.test("pitch counts, range and pitch-class entropy of a small melody", () => {
  // Pitches 60, 64, 67, 72, 60: distinct {60,64,67,72} → 4; classes {0,4,7} → 3; range 72 − 60
  // = 12. Class counts 0:3, 4:1, 7:1 → p = 0.6, 0.2, 0.2 →
  // H = −(0.6·log2 0.6 + 2·0.2·log2 0.2) ≈ 1.3709505944546687.
  const p = piece(4, [[0, 1, 60], [1, 1, 64], [2, 1, 67], [3, 1, 72], [4, 1, 60]]);
  assert.equal(nPitchesUsed(p), 4);
  assert.equal(nPitchClassesUsed(p), 3);
  assert.equal(pitchRange(p), 12);
  close(pitchClassEntropy(p), -(0.6 * Math.log2(0.6) + 0.4 * Math.log2(0.2)));
  close(pitchClassEntropy(p), 1.3709505944546687);
});

Deno.test("pitch-class entropy is log2 12 for a chromatic scale, 0 for one class", () => {
  // Twelve classes once each: p = 1/12 → H = log2 12.
  const chromatic = piece(4, Array.from({ length: 12 }, (_, i) => [i, 1, 48 + i]));
  close(pitchClassEntropy(chromatic), Math.log2(12));
  assert.equal(nPitchClassesUsed(chromatic), 12);
  assert.equal(pitchRange(chromatic), 11);
  // C3, C4, C5: one class → H = 0; three pitches; range 24.
  const octaves = piece(4, [[0, 1, 48], [0, 1, 60], [0, 1, 72]]);
  close(pitchClassEntropy(octaves), 0);
  assert.equal(nPitchesUsed(octaves), 3);
  assert.equal(pitchRange(octaves), 24);
});

Deno.test("pitch metrics of an empty piece and of a single note", () => {
  // Empty: MusPy returns counts 0 and range 0 (not NaN), entropy NaN.
  assert.equal(nPitchesUsed(EMPTY), 0);
  assert.equal(nPitchClassesUsed(EMPTY), 0);
  assert.equal(pitchRange(EMPTY), 0);
  close(pitchClassEntropy(EMPTY), NaN);
  // One note: 1 pitch, 1 class, range 0, entropy 0.
  const one = piece(4, [[0, 1, 38]]);
  assert.equal(nPitchesUsed(one), 1);
  assert.equal(nPitchClassesUsed(one), 1);
  assert.equal(pitchRange(one), 0);
  close(pitchClassEntropy(one), 0);
});

Deno.test("polyphony() averages sounding pitches over ticks where something sounds", () => {
  // C–E–G (0,4) then C5 (4,4), res 4: pianoroll cells 3·4 + 1·4 = 16 over 8 sounding ticks → 2.
  close(polyphony(piece(4, [[0, 4, 60], [0, 4, 64], [0, 4, 67], [4, 4, 72]])), 2);
  // (0,4,60) and (2,4,64): cells 4 + 4 = 8 over ticks 0..5 = 6 → 4/3.
  close(polyphony(piece(4, [[0, 4, 60], [2, 4, 64]])), 4 / 3);
  // Silent ticks are not counted: (0,2,60), (4,2,62) → 4 cells over 4 ticks → 1.
  close(polyphony(piece(4, [[0, 2, 60], [4, 2, 62]])), 1);
});

Deno.test("polyphony() is binary per cell and ignores zero-length notes", () => {
  // Same pitch overlapping, (0,4,60) and (2,4,60): one row of cells 0..5 → 6 / 6 = 1.
  close(polyphony(piece(4, [[0, 4, 60], [2, 4, 60]])), 1);
  // A zero-length note fills no cell: (0,0,60) + (0,2,62) → 2 / 2 = 1.
  close(polyphony(piece(4, [[0, 0, 60], [0, 2, 62]])), 1);
  // Nothing sounds → NaN; so does an empty piece.
  close(polyphony(piece(4, [[0, 0, 60]])), NaN);
  close(polyphony(EMPTY), NaN);
  // A single note → 1.
  close(polyphony(piece(4, [[3, 5, 60]])), 1);
});

Deno.test("muspyMetrics() gathers every metric and uses beatsPerBar for the measure", () => {
  // res 1, onsets 0, 2 | 3 with beatsPerBar 2 → measures of 2 ticks; end 4 → 3 measures
  // {0}, {0,1}, {} → distances 1, 2 → 1 − 3 / (2 · 2) = 0.25. With 4 beats a bar: end 4 →
  // 2 measures {0,2,3}, {} → 1 − 3/4 = 0.25 as well; with 3: {0,2}, {0} → 1 − 1/3.
  const p = piece(1, [[0, 1, 36], [2, 1, 38], [3, 1, 42]]);
  close(muspyMetrics(p, { beatsPerBar: 2 }).groove_consistency, 0.25);
  close(muspyMetrics(p).groove_consistency, 0.25);
  close(muspyMetrics(p, { beatsPerBar: 3 }).groove_consistency, 2 / 3);
  const m = muspyMetrics(p);
  assert.deepEqual(Object.keys(m).sort(), [
    "drum_in_pattern_rate_duple",
    "drum_in_pattern_rate_triple",
    "drum_pattern_consistency",
    "empty_beat_rate",
    "groove_consistency",
    "n_pitch_classes_used",
    "n_pitches_used",
    "pitch_class_entropy",
    "pitch_range",
    "polyphony",
  ]);
  assert.equal(m.n_pitches_used, 3);
  assert.equal(m.pitch_range, 6);
  // res 1: the pattern is position 0 only, and every onset is at position 0 → 1.
  assert.equal(m.drum_in_pattern_rate_duple, 1);
  // Beats 0..4 (end 4 → 5 beats): (0,1) marks 0, 1; (2,1) marks 2, 3; (3,1) marks 3, 4 → 0.
  assert.equal(m.empty_beat_rate, 0);
});

Deno.test("metrics reject pieces MusPy would not hold", () => {
  assert.throws(() => polyphony(piece(4, [[0.5, 1]])), RangeError);
  assert.throws(() => polyphony(piece(4, [[0, -1]])), RangeError);
  assert.throws(() => nPitchesUsed(piece(4, [[0, 1, 128]])), RangeError);
  assert.throws(() => emptyBeatRate(piece(0, [])), RangeError);
});
