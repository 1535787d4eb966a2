/**
 * The statistics a run records: for a piece, every MusPy metric on the notes as played and on
 * the notes snapped to sixteenths; for the training files, each metric's mean and spread, so a
 * generated piece's value can be read against the data's distribution ("how far from the data").
 *
 * Both timings are kept because they answer different questions: raw timing describes the
 * performance (Groove's human micro-timing puts almost no onset exactly on the grid, so raw
 * drum_in_pattern_rate is about 0.03), the quantized figures describe the pattern, which is what
 * a token sequence can express.
 *
 * What to expect on Groove (200 files, measured with this code): raw drum_in_pattern_rate is about
 * 0.03 and raw groove_consistency about 0.98 (a bar has 4 · 480 positions and few onsets, so
 * neighbouring bars differ in few positions whatever is played); on sixteenths the duple rate is
 * 1 by construction (every sixteenth is in MusPy's duple pattern), the triple rate becomes the
 * share of onsets on the beat (≈ 0.31) and groove_consistency spreads out (≈ 0.5 ± 0.35).
 * Quantizing can also add a measure: a note ending within half a step of a bar line ends on it,
 * and MusPy counts `floor(end / measure) + 1` measures, so a one-bar fill (NaN raw) may get a
 * groove_consistency_q16 that compares its bar with an empty one.
 *
 * @module
 */
import { type MuspyMetrics, muspyMetrics } from "./muspy.ts";
import { type Piece, quantize } from "./piece.ts";

/** Every MusPy metric, raw (MusPy's name) and on the piece quantized to sixteenths (`_q16`). */
export type PieceStatistics = MuspyMetrics & { [K in keyof MuspyMetrics as `${K}_q16`]: number };

/** Options of {@link pieceStatistics}. */
export interface PieceStatisticsOptions {
  /** Quarter notes per bar, for groove_consistency; default 4. */
  beatsPerBar?: number;
}

/**
 * Every MusPy metric of a piece, on its own ticks and quantized to sixteenths
 * (`quantize(piece, 4)`). Pitch metrics do not depend on timing, so their `_q16` twins are equal
 * to them; they are kept so every metric has both columns.
 *
 * @param piece the piece
 * @param opts bar length for groove_consistency (`beatsPerBar · resolution` ticks per measure)
 * @returns the statistics, NaN where MusPy gives NaN
 * @throws {RangeError} when the piece is invalid
 */
export function pieceStatistics(piece: Piece, opts: PieceStatisticsOptions = {}): PieceStatistics {
  const raw = muspyMetrics(piece, opts);
  const q16 = muspyMetrics(quantize(piece, 4), opts);
  // Spelled out so that a metric added to MuspyMetrics fails to compile here until it has a twin.
  return {
    ...raw,
    empty_beat_rate_q16: q16.empty_beat_rate,
    drum_in_pattern_rate_duple_q16: q16.drum_in_pattern_rate_duple,
    drum_in_pattern_rate_triple_q16: q16.drum_in_pattern_rate_triple,
    drum_pattern_consistency_q16: q16.drum_pattern_consistency,
    groove_consistency_q16: q16.groove_consistency,
    n_pitches_used_q16: q16.n_pitches_used,
    n_pitch_classes_used_q16: q16.n_pitch_classes_used,
    pitch_range_q16: q16.pitch_range,
    polyphony_q16: q16.polyphony,
    pitch_class_entropy_q16: q16.pitch_class_entropy,
  };
}

/** Where a set of values lies: the shape a run record keeps per metric for the training data. */
export interface Spread {
  /** Arithmetic mean; NaN when `n` is 0. */
  mean: number;
  /** Population standard deviation (divides by n, like NumPy's default); NaN when `n` is 0. */
  std: number;
  /** NaN when `n` is 0. */
  min: number;
  /** NaN when `n` is 0. */
  max: number;
  /** Number of values that were not NaN. */
  n: number;
}

/**
 * Mean, spread and range of values, NaN values left out: a metric that is undefined for a file
 * (NaN, e.g. groove_consistency of a one-bar file) says nothing about the others.
 *
 * @param values the values, e.g. one metric over all training files
 * @returns mean, population std, min, max and how many values counted
 */
export function meanAndSpread(values: readonly number[]): Spread {
  const kept = values.filter((v) => !Number.isNaN(v));
  const n = kept.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, n: 0 };
  const mean = kept.reduce((a, b) => a + b, 0) / n;
  // Two passes (mean first) rather than E[x²] − E[x]², which loses precision.
  const variance = kept.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  return { mean, std: Math.sqrt(variance), min: Math.min(...kept), max: Math.max(...kept), n };
}

/**
 * {@link meanAndSpread} of every metric over a set of records, e.g. the `pieceStatistics` of all
 * training files. A metric missing from a record counts as NaN for it.
 *
 * @param records one statistics record per file
 * @returns metric name → its spread, for every name that appears in some record
 */
export function summarize<T extends object>(
  records: readonly T[],
): Record<string, Spread> {
  const names = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) names.add(k);
  const out: Record<string, Spread> = {};
  for (const name of names) {
    out[name] = meanAndSpread(
      records.map((r) => {
        const v = (r as Record<string, unknown>)[name];
        return typeof v === "number" ? v : NaN;
      }),
    );
  }
  return out;
}
