/**
 * A MIDI file as a {@link Piece}: every note of every track, at the file's own resolution, read
 * with @tonejs/midi (a general MIDI reader is right here: statistics want the notes as played,
 * not music21's tokens; DECISIONS 2).
 *
 * @module
 */
import tonejs from "@tonejs/midi";
import { type Piece, validatePiece } from "./piece.ts";

const { Midi } = tonejs;

/**
 * The notes of a MIDI file.
 *
 * @param bytes the file
 * @returns the piece, ticks as in the file (resolution: its ticks per quarter)
 * @throws {Error} when the file cannot be read as MIDI or its notes make no valid piece (an
 *   Error always: @tonejs/midi throws strings, which come out as an Error's message)
 */
export function pieceFromMidi(bytes: Uint8Array): Piece {
  let midi;
  try {
    midi = new Midi(bytes);
  } catch (e) {
    // midi-file throws its reasons as strings ("Unrecognised MIDI event type: 0").
    throw e instanceof Error ? e : new Error(String(e));
  }
  const piece: Piece = {
    resolution: midi.header.ppq,
    notes: midi.tracks.flatMap((t) =>
      t.notes.map((n) => ({
        time: n.ticks,
        duration: n.durationTicks,
        pitch: n.midi,
        velocity: Math.round(n.velocity * 127),
      }))
    ),
  };
  validatePiece(piece);
  return piece;
}
