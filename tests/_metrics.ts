/** Shared by the metrics tests: a terse way to write a piece, and a float comparison. */
import assert from "node:assert/strict";
import type { Piece } from "../metrics/piece.ts";

/**
 * A piece from `[time, duration, pitch]` triples.
 *
 * @param resolution ticks per quarter
 * @param notes `[time, duration, pitch]` per note; pitch defaults to 60
 */
export function piece(resolution: number, notes: [number, number, number?][]): Piece {
  return {
    resolution,
    notes: notes.map(([time, duration, pitch]) => ({ time, duration, pitch: pitch ?? 60 })),
  };
}

/** Asserts `actual` is within 1e-12 of `expected` (NaN only equals NaN). */
export function close(actual: number, expected: number, message?: string): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${message ?? ""} expected NaN, got ${actual}`);
    return;
  }
  assert.ok(
    Math.abs(actual - expected) <= 1e-12,
    `${message ?? ""} expected ${expected}, got ${actual}`,
  );
}
