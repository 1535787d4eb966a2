import assert from "node:assert/strict";
import { endTime, pieceFromRendered, quantize, validatePiece } from "./piece.ts";
import { piece } from "../tests/_metrics.ts";
import { tokensToNotes } from "../music/render_midi.ts";

Deno.test("quantize() snaps onsets and note-offs to the nearest sixteenth", () => {
  // res 480 → 4 steps a beat: one step is 120 ticks.
  // (125, 100): onset 125/120 ≈ 1.04 → 1; off 225/120 = 1.875 → 2; duration 1.
  // (470, 500): onset 3.92 → 4; off 970/120 ≈ 8.08 → 8; duration 4.
  const q = quantize({
    resolution: 480,
    notes: [
      { time: 125, duration: 100, pitch: 36, velocity: 100 },
      { time: 470, duration: 500, pitch: 38 },
    ],
  });
  assert.deepEqual(q, {
    resolution: 4,
    notes: [
      { time: 1, duration: 1, pitch: 36, velocity: 100 },
      { time: 4, duration: 4, pitch: 38 },
    ],
  });
});

Deno.test("quantize() rounds halves to even, as MusPy's adjust_resolution does", () => {
  // Onsets 60, 180, 300 are 0.5, 1.5, 2.5 steps → 0, 2, 2 (Python's round()).
  const q = quantize(piece(480, [[60, 240], [180, 240], [300, 240]]));
  assert.deepEqual(q.notes.map((n) => n.time), [0, 2, 2]);
  // Offs 300, 420, 540 → 2.5, 3.5, 4.5 → 2, 4, 4; durations 2, 2, 2.
  assert.deepEqual(q.notes.map((n) => n.duration), [2, 2, 2]);
});

Deno.test("quantize() keeps every note at least one step long", () => {
  // (180, 5): onset 1.5 → 2, off 185/120 ≈ 1.54 → 2 → zero length, kept as 1 step.
  // A zero-length note (0, 0) likewise becomes one step.
  const q = quantize(piece(480, [[180, 5], [0, 0]]));
  assert.deepEqual(q.notes.map((n) => [n.time, n.duration]), [[2, 1], [0, 1]]);
});

Deno.test("quantize() to other grids, and an already-quantized piece is unchanged", () => {
  // res 96 to triplet eighths (3 a beat, 32 ticks a step): 40 → 1.25 → 1; off 100 → 3.125 → 3.
  assert.deepEqual(quantize(piece(96, [[40, 60]]), 3).notes, [{ time: 1, duration: 2, pitch: 60 }]);
  const p = piece(4, [[0, 1], [3, 2], [9, 7]]);
  assert.deepEqual(quantize(p), p);
  assert.deepEqual(quantize(piece(4, [])), piece(4, []));
  assert.throws(() => quantize(p, 0), RangeError);
  assert.throws(() => quantize(p, 2.5), RangeError);
});

Deno.test("validatePiece() rejects what MusPy would not hold", () => {
  validatePiece(piece(480, [[0, 0, 0], [10, 5, 127]]));
  assert.throws(() => validatePiece(piece(0, [])), /resolution/);
  assert.throws(() => validatePiece(piece(4.5, [])), /resolution/);
  assert.throws(() => validatePiece(piece(4, [[-1, 1]])), /Note 0: time/);
  assert.throws(() => validatePiece(piece(4, [[0, 1], [1.5, 1]])), /Note 1: time/);
  assert.throws(() => validatePiece(piece(4, [[0, -2]])), /duration/);
  assert.throws(() => validatePiece(piece(4, [[0, 1, 128]])), /pitch/);
  assert.throws(() => validatePiece(piece(4, [[0, 1, -1]])), /pitch/);
});

Deno.test("endTime() is the last note-off, 0 when there are no notes", () => {
  assert.equal(endTime(piece(4, [])), 0);
  assert.equal(endTime(piece(4, [[8, 1], [0, 20], [3, 0]])), 20);
});

Deno.test("pieceFromRendered() gives the notes the renderer writes, at 1024 ticks a quarter", () => {
  // Tokens half a quarter apart: C4 at 0, the chord 0.4.7 (C4 E4 G4) at 512; each 1024 long.
  const p = pieceFromRendered(tokensToNotes(["C4", "0.4.7"]).notes);
  assert.deepEqual(p, {
    resolution: 1024,
    notes: [
      { time: 0, duration: 1024, pitch: 60 },
      { time: 512, duration: 1024, pitch: 60 },
      { time: 512, duration: 1024, pitch: 64 },
      { time: 512, duration: 1024, pitch: 67 },
    ],
  });
});
