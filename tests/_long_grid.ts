/**
 * Test helper: tiny MIDI files whose drum grids are enormous, the shapes that once took a
 * 47-byte file to 3.9 GB ("Invalid array length") and a 133-byte one to 20 million silent steps:
 * a kick, then another one a few maximal delta times (0x0FFFFFFF ticks each) later.
 *
 * @module
 */
import { events, meta, smf } from "./_smf.ts";

/** The largest delta time a MIDI file can write (four VLQ bytes). */
export const MAX_DELTA = 0x0fffffff;

/**
 * A kick at tick 0 and another after `gaps` maximal deltas (note-offs between them), padded with
 * a text event to exactly `size` bytes.
 */
function farKicks(division: number, gaps: number, size: number): Uint8Array {
  const body = (padding: number) =>
    events(
      [0, ...meta(0x01, "x".repeat(padding))],
      [0, 0x99, 36, 100],
      ...Array.from({ length: gaps - 1 }, () => [MAX_DELTA, 0x89, 36, 0]),
      [MAX_DELTA, 0x99, 36, 100],
      [0, ...meta(0x2f, [])],
    );
  const bare = smf({ division, tracks: [body(0)] }).length;
  const bytes = smf({ division, tracks: [body(size - bare)] });
  if (bytes.length !== size) throw new Error(`built ${bytes.length} bytes, not ${size}`);
  return bytes;
}

/**
 * 47 bytes: 1 tick per quarter note and one delta of 0x0FFFFFFF, a drum grid of 1,073,741,821
 * sixteenth steps (268,435,455 quarter notes).
 */
export const FAR_HIT_47 = farKicks(1, 1, 47);

/** 133 bytes: 480 ticks per quarter, nine maximal deltas: 20,132,660 sixteenth steps. */
export const FAR_HITS_133 = farKicks(480, 9, 133);
