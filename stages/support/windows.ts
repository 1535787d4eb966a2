/**
 * Windows of token ids with the next id as the target, as the tutorial's prepare_sequences cuts
 * them: shared by window (the training windows) and heldout (the validation windows). Inputs are
 * ids divided by the vocabulary size (the tutorial's normalisation).
 *
 * @module
 */

/** Windows of `length` ids → normalised inputs `x` [count × length] and targets `y` [count]. */
export interface Windows {
  x: Float32Array;
  y: Int32Array;
  count: number;
  /** Windows left out because their input or target holds an id below 0 (a token the
   * vocabulary lacks). */
  leftOut: number;
}

/**
 * Cuts every window of `length` consecutive ids whose `length + 1` ids (input and target) are all
 * known; an id below 0 marks a token the vocabulary lacks.
 */
export function makeWindows(ids: Int32Array, length: number, vocabSize: number): Windows {
  const total = Math.max(0, ids.length - length);
  // unknownBefore[i]: unknown ids among ids[0..i), so a window's unknowns count in O(1).
  const unknownBefore = new Int32Array(ids.length + 1);
  for (let i = 0; i < ids.length; i++) {
    unknownBefore[i + 1] = unknownBefore[i]! + (ids[i]! < 0 ? 1 : 0);
  }
  const keep: number[] = [];
  for (let i = 0; i < total; i++) {
    if (unknownBefore[i + length + 1]! === unknownBefore[i]!) keep.push(i);
  }
  const x = new Float32Array(keep.length * length);
  const y = new Int32Array(keep.length);
  keep.forEach((start, w) => {
    for (let t = 0; t < length; t++) x[w * length + t] = ids[start + t]! / vocabSize;
    y[w] = ids[start + length]!;
  });
  return { x, y, count: keep.length, leftOut: total - keep.length };
}
