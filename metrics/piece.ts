/**
 * The piece the music statistics are computed on: notes in integer ticks at a resolution (ticks
 * per quarter note), the subset of a MusPy `Music` object its objective metrics read.
 *
 * Why one flat note list and no tracks: the training files (Groove, drums on channel 10) and the
 * generated pieces (the tutorial's render writes the drums as piano) must go through the same
 * code, so nothing here may depend on a channel or an `is_drum` flag. Every metric therefore
 * reads every note; see metrics/muspy.ts for what that means for MusPy's drum-only and
 * drum-ignoring metrics.
 *
 * Why quantization lives here: Groove is played by people, so its onsets sit a few ticks off the
 * grid and MusPy's timing metrics (drum_in_pattern_rate, groove_consistency) measure that
 * micro-timing rather than the pattern. {@link quantize} snaps a piece to a grid so a run can
 * report the timing metrics both ways.
 *
 * @module
 */
import type { RenderedNote } from "../music/render_midi.ts";
import { TICKS_PER_QUARTER } from "../music/render_midi.ts";

/** One note, as MusPy's `Note` holds it. */
export interface PieceNote {
  /** Onset in ticks, a non-negative integer. */
  time: number;
  /** Length in ticks, a non-negative integer (MusPy allows zero-length notes). */
  duration: number;
  /** MIDI pitch, an integer 0–127 (for drums: the General MIDI drum key). */
  pitch: number;
  /** MIDI velocity; no metric reads it, it is kept so a piece can round-trip a file. */
  velocity?: number;
}

/** A piece: MusPy's `Music` reduced to what its metrics read, all tracks merged. */
export interface Piece {
  /** Ticks per quarter note (MusPy's `resolution`), a positive integer. */
  resolution: number;
  /** Every note, whatever its channel or track, in any order. */
  notes: readonly PieceNote[];
}

/**
 * Checks that a piece is something MusPy itself would accept: integer ticks (MusPy's times are
 * ints; a fractional tick would make its beat and pianoroll indices meaningless), non-negative
 * times and durations (MusPy rejects a negative duration), pitches 0–127.
 *
 * @param piece the piece to check
 * @throws {RangeError} naming the first offending field
 */
export function validatePiece(piece: Piece): void {
  const { resolution, notes } = piece;
  if (!Number.isInteger(resolution) || resolution < 1) {
    throw new RangeError(`Piece resolution must be a positive integer (found ${resolution})`);
  }
  notes.forEach((n, i) => {
    if (!Number.isInteger(n.time) || n.time < 0) {
      throw new RangeError(`Note ${i}: time must be a non-negative integer (found ${n.time})`);
    }
    if (!Number.isInteger(n.duration) || n.duration < 0) {
      throw new RangeError(
        `Note ${i}: duration must be a non-negative integer (found ${n.duration})`,
      );
    }
    if (!Number.isInteger(n.pitch) || n.pitch < 0 || n.pitch > 127) {
      throw new RangeError(`Note ${i}: pitch must be an integer 0–127 (found ${n.pitch})`);
    }
  });
}

/**
 * The time of the last note-off, MusPy's `Music.get_end_time()` for a piece that holds only notes
 * (0 when there are none). Every length-based metric measures the piece up to here.
 *
 * @param piece the piece
 * @returns the largest `time + duration`, or 0
 */
export function endTime(piece: Piece): number {
  let end = 0;
  for (const n of piece.notes) end = Math.max(end, n.time + n.duration);
  return end;
}

/**
 * Python's `round()` on a float: to the nearest integer, halves to the even one. Used so that
 * {@link quantize} places every note where MusPy's `adjust_resolution` would.
 */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const frac = x - floor; // exact for doubles: floor is within 1 of x
  if (frac > 0.5) return floor + 1;
  if (frac < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Snaps a piece to a grid of `stepsPerBeat` steps per quarter note (4: sixteenths). The result's
 * resolution is `stepsPerBeat`, so one tick is one step.
 *
 * Each note's onset and note-off are rounded to the nearest step, exactly as MusPy's
 * `music.adjust_resolution(target=stepsPerBeat)` rounds them (`round(tick * target /
 * resolution)`, Python's half-to-even rounding, duration = rounded end − rounded start), with one
 * difference: a note that would round to zero length keeps one step, because a played note that
 * vanished would change the polyphony and empty-beat figures for a reason that has nothing to do
 * with the music.
 *
 * @param piece the piece, at any resolution
 * @param stepsPerBeat steps per quarter note, a positive integer; default 4 (sixteenths)
 * @returns a new piece at resolution `stepsPerBeat`; velocities are kept
 * @throws {RangeError} when `stepsPerBeat` is not a positive integer or the piece is invalid
 */
export function quantize(piece: Piece, stepsPerBeat = 4): Piece {
  if (!Number.isInteger(stepsPerBeat) || stepsPerBeat < 1) {
    throw new RangeError(`stepsPerBeat must be a positive integer (found ${stepsPerBeat})`);
  }
  validatePiece(piece);
  // The same floating-point factor MusPy multiplies by, so ties fall the same way.
  const factor = stepsPerBeat / piece.resolution;
  const notes = piece.notes.map((n): PieceNote => {
    const time = roundHalfEven(n.time * factor);
    const end = roundHalfEven((n.time + n.duration) * factor);
    const note: PieceNote = { time, duration: Math.max(1, end - time), pitch: n.pitch };
    if (n.velocity !== undefined) note.velocity = n.velocity;
    return note;
  });
  return { resolution: stepsPerBeat, notes };
}

/**
 * The piece a rendered token list makes: the notes music/render_midi.ts writes (one quarter each,
 * tokens `render.step` apart) at its 1024 ticks per quarter. These are the notes as written; a
 * MIDI reader that pairs a repeated pitch's overlapping note-on/note-off differently would see
 * shorter notes.
 *
 * @param notes `tokensToNotes(tokens, opts).notes` or `renderMidi(...).notes`
 * @returns the piece (no velocities: no metric reads them)
 */
export function pieceFromRendered(notes: readonly RenderedNote[]): Piece {
  return {
    resolution: TICKS_PER_QUARTER,
    notes: notes.map((n) => ({
      time: n.tick,
      duration: n.durationTicks,
      pitch: n.pitch,
    })),
  };
}
