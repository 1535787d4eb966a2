/**
 * MusPy's objective metrics (muspy/metrics/metrics.py, salu133445/muspy at 2e1dc66), written
 * again from their definitions so that figures computed here can be set beside figures in papers
 * that used MusPy. Every quirk of the reference is kept on purpose, because a "fixed" metric
 * would no longer be comparable:
 *
 * - a note covers every beat (and every measure) from its onset's to its note-off's, both
 *   included, so a note ending exactly on a beat line also marks the next beat as played;
 * - a piece has `floor(end / unit) + 1` beats or measures, so one that ends exactly on a line
 *   gets one more (possibly empty) beat or measure;
 * - drum_in_pattern_rate looks at the onset's position within its beat (`time % resolution`),
 *   not within its bar;
 * - on an empty piece the counts and pitch_range are 0, the rates NaN.
 *
 * One deliberate difference: MusPy splits tracks into drum and non-drum tracks (pitch metrics skip
 * drums, drum metrics read only drums). A {@link Piece} has no tracks, because the generated
 * pieces are written as piano while the data is drums, so here every metric reads every note. On
 * drum music the pitch metrics thus count drum instruments (pitch = General MIDI drum key).
 *
 * @module
 */
import { endTime, type Piece, validatePiece } from "./piece.ts";

/** The two meters MusPy's drum pattern knows. */
export type DrumMeter = "duple" | "triple";

/**
 * Ratio of empty beats to all beats (MusPy `empty_beat_rate`). A beat is `resolution` ticks; the
 * piece has `floor(end / resolution) + 1` beats; each note marks the beats from `time //
 * resolution` to `(time + duration) // resolution`, both included.
 *
 * @param piece the piece
 * @returns the rate in [0, 1]; NaN when the piece ends before tick 1 (no notes, or only
 *   zero-length notes at tick 0)
 */
export function emptyBeatRate(piece: Piece): number {
  validatePiece(piece);
  const length = endTime(piece);
  if (length < 1) return NaN;
  const res = piece.resolution;
  const nBeats = Math.floor(length / res) + 1;
  const played = new Uint8Array(nBeats);
  let count = 0;
  for (const n of piece.notes) {
    const last = Math.floor((n.time + n.duration) / res);
    for (let beat = Math.floor(n.time / res); beat <= last; beat++) {
      if (played[beat] === 0) {
        played[beat] = 1;
        count++;
      }
    }
  }
  return 1 - count / nBeats;
}

/**
 * Which positions within a beat of `resolution` ticks belong to MusPy's drum pattern: the
 * downbeat always; for duple meter every quarter and every half of the beat (only where the
 * resolution divides evenly); for triple meter every third.
 */
function drumPattern(resolution: number, meter: DrumMeter): boolean[] {
  const pattern = new Array<boolean>(resolution).fill(false);
  const mark = (every: number) => {
    for (let i = 0; i < resolution; i += every) pattern[i] = true;
  };
  pattern[0] = true;
  if (meter === "duple") {
    if (resolution % 4 === 0) mark(resolution / 4);
    if (resolution % 2 === 0) mark(resolution / 2);
  } else if (meter === "triple") {
    if (resolution % 3 === 0) mark(resolution / 3);
  } else {
    throw new RangeError(`Only duple and triple meters are supported (found ${meter})`);
  }
  return pattern;
}

/**
 * Share of notes whose onset falls on the drum pattern of a meter (MusPy `drum_in_pattern_rate`):
 * duple marks each sixteenth of the beat when the resolution is a multiple of 4 (each eighth when
 * only of 2), triple each eighth-note triplet when it is a multiple of 3. On a piece quantized to
 * sixteenths the duple rate is therefore always 1 and the triple rate is the share of onsets on
 * the beat.
 *
 * @param piece the piece (every note counts as a drum note, see the module comment)
 * @param meter `"duple"` or `"triple"`
 * @returns the rate in [0, 1]; NaN when there are no notes
 * @throws {RangeError} for another meter
 */
export function drumInPatternRate(piece: Piece, meter: DrumMeter): number {
  validatePiece(piece);
  const pattern = drumPattern(piece.resolution, meter);
  if (piece.notes.length < 1) return NaN;
  let inPattern = 0;
  for (const n of piece.notes) if (pattern[n.time % piece.resolution]) inPattern++;
  return inPattern / piece.notes.length;
}

/**
 * The larger of the duple and triple drum-in-pattern rates (MusPy `drum_pattern_consistency`).
 *
 * @param piece the piece
 * @returns the rate in [0, 1]; NaN when there are no notes
 */
export function drumPatternConsistency(piece: Piece): number {
  const duple = drumInPatternRate(piece, "duple");
  if (Number.isNaN(duple)) return NaN;
  const triple = drumInPatternRate(piece, "triple");
  return duple > triple ? duple : triple;
}

/**
 * One minus the mean Hamming distance between the onset vectors of neighbouring measures, per
 * position (MusPy `groove_consistency`). The piece has `floor(end / measureResolution) + 1`
 * measures; a measure's onset vector has a one at each position some note starts.
 *
 * @param piece the piece
 * @param measureResolution ticks per measure, e.g. `4 * resolution` for 4/4
 * @returns the consistency in [0, 1]; NaN when the piece has fewer than two measures (an empty
 *   piece has one)
 * @throws {RangeError} when `measureResolution` is not a positive integer
 */
export function grooveConsistency(piece: Piece, measureResolution: number): number {
  validatePiece(piece);
  if (!Number.isInteger(measureResolution) || measureResolution < 1) {
    throw new RangeError(
      `Measure resolution must be a positive integer (found ${measureResolution})`,
    );
  }
  const nMeasures = Math.floor(endTime(piece) / measureResolution) + 1;
  if (nMeasures < 2) return NaN;
  // Sparse onset vectors: at raw tick resolution a measure has thousands of positions and few
  // onsets, so sets of positions, with the Hamming distance as the symmetric difference's size.
  const onsets = Array.from({ length: nMeasures }, () => new Set<number>());
  for (const n of piece.notes) {
    onsets[Math.floor(n.time / measureResolution)]!.add(n.time % measureResolution);
  }
  let hamming = 0;
  for (let m = 1; m < nMeasures; m++) {
    const prev = onsets[m - 1]!;
    const cur = onsets[m]!;
    for (const p of prev) if (!cur.has(p)) hamming++;
    for (const p of cur) if (!prev.has(p)) hamming++;
  }
  return 1 - hamming / (measureResolution * (nMeasures - 1));
}

/**
 * Number of distinct pitches (MusPy `n_pitches_used`).
 *
 * @param piece the piece
 * @returns 0–128; 0 for an empty piece
 */
export function nPitchesUsed(piece: Piece): number {
  validatePiece(piece);
  return new Set(piece.notes.map((n) => n.pitch)).size;
}

/**
 * Number of distinct pitch classes, `pitch % 12` (MusPy `n_pitch_classes_used`).
 *
 * @param piece the piece
 * @returns 0–12; 0 for an empty piece
 */
export function nPitchClassesUsed(piece: Piece): number {
  validatePiece(piece);
  return new Set(piece.notes.map((n) => n.pitch % 12)).size;
}

/**
 * Highest pitch minus lowest pitch, in semitones (MusPy `pitch_range`).
 *
 * @param piece the piece
 * @returns 0–127; 0 (not NaN, as in MusPy) for an empty piece
 */
export function pitchRange(piece: Piece): number {
  validatePiece(piece);
  if (piece.notes.length === 0) return 0;
  let highest = 0;
  let lowest = 127;
  for (const n of piece.notes) {
    if (n.pitch > highest) highest = n.pitch;
    if (n.pitch < lowest) lowest = n.pitch;
  }
  return highest - lowest;
}

/**
 * Total length covered by half-open tick intervals, overlaps counted once: the number of
 * pianoroll rows the intervals switch on.
 */
function coveredTicks(intervals: [number, number][]): number {
  intervals.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let start = -1;
  let end = -1;
  for (const [s, e] of intervals) {
    if (s >= e) continue; // a zero-length note switches on no pianoroll cell
    if (s > end) {
      total += end - start;
      start = s;
      end = e;
    } else if (e > end) {
      end = e;
    }
  }
  return total + (end - start);
}

/**
 * Mean number of pitches sounding at the ticks where at least one sounds (MusPy `polyphony`).
 * MusPy builds a binary pianoroll (tick × pitch, a note fills `[time, time + duration)`) and
 * divides its cell count by the number of non-empty rows; the same counts are taken here from
 * merged intervals, without the pianoroll. Two overlapping notes of one pitch fill one cell per
 * tick; zero-length notes fill none.
 *
 * @param piece the piece
 * @returns at least 1; NaN when no note has a positive length
 */
export function polyphony(piece: Piece): number {
  validatePiece(piece);
  const byPitch = new Map<number, [number, number][]>();
  const all: [number, number][] = [];
  for (const n of piece.notes) {
    const interval: [number, number] = [n.time, n.time + n.duration];
    let list = byPitch.get(n.pitch);
    if (list === undefined) byPitch.set(n.pitch, list = []);
    list.push(interval);
    all.push([interval[0], interval[1]]);
  }
  const rowsOn = coveredTicks(all);
  if (rowsOn < 1) return NaN;
  let cellsOn = 0;
  for (const list of byPitch.values()) cellsOn += coveredTicks(list);
  return cellsOn / rowsOn;
}

/**
 * Shannon entropy, in bits, of the pitch-class histogram of the notes (MusPy
 * `pitch_class_entropy`): every note counts once, whatever its length.
 *
 * @param piece the piece
 * @returns 0 to log2(12) ≈ 3.585; NaN for an empty piece
 */
export function pitchClassEntropy(piece: Piece): number {
  validatePiece(piece);
  const counts = new Array<number>(12).fill(0);
  for (const n of piece.notes) counts[n.pitch % 12]!++;
  const total = piece.notes.length;
  if (total < 1) return NaN;
  let entropy = 0;
  for (const c of counts) {
    if (c > 0) {
      const p = c / total;
      entropy -= p * Math.log2(p);
    }
  }
  return entropy;
}

/** The MusPy metrics of one piece, under MusPy's own names. */
export interface MuspyMetrics {
  empty_beat_rate: number;
  /** `drum_in_pattern_rate(music, "duple")`. */
  drum_in_pattern_rate_duple: number;
  /** `drum_in_pattern_rate(music, "triple")`. */
  drum_in_pattern_rate_triple: number;
  drum_pattern_consistency: number;
  /** With `measure_resolution = beatsPerBar · resolution`. */
  groove_consistency: number;
  n_pitches_used: number;
  n_pitch_classes_used: number;
  pitch_range: number;
  polyphony: number;
  pitch_class_entropy: number;
}

/** Options of {@link muspyMetrics}. */
export interface MuspyMetricsOptions {
  /**
   * Quarter notes per bar, for groove_consistency's measure; default 4 (Groove is almost all
   * 4/4, and the renderer writes 4/4).
   */
  beatsPerBar?: number;
}

/**
 * Every metric of this module on one piece.
 *
 * @param piece the piece
 * @param opts the bar length for groove_consistency
 * @returns the metrics, NaN where MusPy gives NaN
 * @throws {RangeError} when the piece is invalid or `beatsPerBar · resolution` is not a positive
 *   integer
 */
export function muspyMetrics(piece: Piece, opts: MuspyMetricsOptions = {}): MuspyMetrics {
  const beatsPerBar = opts.beatsPerBar ?? 4;
  return {
    empty_beat_rate: emptyBeatRate(piece),
    drum_in_pattern_rate_duple: drumInPatternRate(piece, "duple"),
    drum_in_pattern_rate_triple: drumInPatternRate(piece, "triple"),
    drum_pattern_consistency: drumPatternConsistency(piece),
    groove_consistency: grooveConsistency(piece, beatsPerBar * piece.resolution),
    n_pitches_used: nPitchesUsed(piece),
    n_pitch_classes_used: nPitchClassesUsed(piece),
    pitch_range: pitchRange(piece),
    polyphony: polyphony(piece),
    pitch_class_entropy: pitchClassEntropy(piece),
  };
}
