/**
 * Growable typed columns: the tokenizer keeps events, notes and chords in typed arrays rather
 * than one object each, so that a dense 16 MiB file fits in a few hundred MB (an object per
 * event took 2–3 GB and ran out of memory at 50 MB).
 *
 * @module
 */

/** A typed array of any kind the tokenizer uses. */
export type Column = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** A copy of `column` with room for `size` rows (`size` ≥ its length). */
export function widen<T extends Column>(column: T, size: number): T {
  const out = new (column.constructor as new (length: number) => T)(size);
  out.set(column as ArrayLike<number>);
  return out;
}

/** A list of 32-bit integers that doubles its storage as it fills. */
export class IntList {
  /** Rows `[0, length)` are in use. */
  data: Int32Array;
  length = 0;

  constructor(capacity = 16) {
    this.data = new Int32Array(Math.max(1, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.data = widen(this.data, this.length * 2);
    this.data[this.length++] = value;
  }
}
