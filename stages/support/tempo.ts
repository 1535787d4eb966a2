/**
 * The tempo a piece or a file plays at, where a split table's tempo (Groove's info.csv bpm) is
 * trusted only within render.bpm's own range (formats/config_schema.ts): render, perform, the
 * humanizer and the report page play at the same tempo for the same file.
 *
 * @module
 */
import type { Config } from "../../formats/config_schema.ts";
import type { PiecePrimer } from "../../formats/tokens.ts";

/** Within render.bpm's own range: a split table's tempo is untrusted. */
export function usableTempo(bpm: number): boolean {
  return bpm >= 4 && bpm <= 1000;
}

/** The tempo a piece renders at: its primer's with `render.tempo: primer`, else `render.bpm`. */
export function tempoOf(render: Config["render"], primer: PiecePrimer | undefined): number {
  const own = render.tempo === "primer" ? primer?.bpm : undefined;
  return own !== undefined && usableTempo(own) ? own : render.bpm;
}

/**
 * The tempo a dataset file was played at: its split table's, else its own tempo event's, else
 * 120 (a MIDI file's default).
 */
export function fileTempo(table: number | undefined, own: number | undefined): number {
  for (const bpm of [table, own]) if (bpm !== undefined && usableTempo(bpm)) return bpm;
  return 120;
}
