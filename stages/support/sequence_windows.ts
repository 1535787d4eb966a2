/**
 * Windows with a target at every position, for `train.targets: all`: each window of `length`
 * ids is paired with the same ids shifted by one (the next token after each position), and
 * consecutive windows start `stride` ids apart, as char-rnn and Magenta cut their training
 * sequences. With the stride at the window length every token is a target exactly once per
 * epoch, in about 1/length of the tutorial's windows.
 *
 * Train cuts these from the token stream that the window stage's windows spell out, rather than
 * the window stage cutting them, so the option changes train's key alone (window and heldout stay
 * cached, and the held-out windows stay the tutorial's). For the same reason this lives apart
 * from _windows.ts: window and heldout import that file, and its code is part of their keys.
 *
 * @module
 */

/** Windows with every position's target: inputs `x` and targets `y`, both [count × length]. */
export interface SequenceWindows {
  /** Ids divided by the vocabulary size (the tutorial's normalisation), window after window. */
  x: Float32Array;
  /** The id after each input position: `y[w·length + t]` is the id after `x[w·length + t]`. */
  y: Int32Array;
  count: number;
}

/**
 * Cuts windows of `length` ids starting every `stride` ids (0, stride, 2·stride, …) for as long
 * as a window and the id after its last position fit in `ids`; the few ids after the last window
 * that fits (fewer than `stride`) are no one's target.
 *
 * @throws {RangeError} when `length` or `stride` is not a positive integer.
 */
export function makeSequenceWindows(
  ids: Int32Array,
  length: number,
  stride: number,
  vocabSize: number,
): SequenceWindows {
  for (const [name, value] of [["length", length], ["stride", stride]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot cut windows: ${name} must be a positive integer (found ${value})`,
      );
    }
  }
  const count = ids.length < length + 1 ? 0 : Math.floor((ids.length - length - 1) / stride) + 1;
  const x = new Float32Array(count * length);
  const y = new Int32Array(count * length);
  for (let w = 0; w < count; w++) {
    const start = w * stride;
    for (let t = 0; t < length; t++) {
      x[w * length + t] = ids[start + t]! / vocabSize;
      y[w * length + t] = ids[start + t + 1]!;
    }
  }
  return { x, y, count };
}

/**
 * The ids that `count` windows one id apart were cut from (what _windows.ts's makeWindows makes
 * of a stream with no unknown tokens, as the window stage's are): the first window's ids, then
 * every window's target, `count + length` ids in all. Null when the windows are not that, so a
 * caller never trains on a stream they do not spell out: every input is checked against it.
 */
export function streamOfWindows(
  x: Float32Array,
  y: Int32Array,
  count: number,
  length: number,
  vocabSize: number,
): Int32Array | null {
  if (count < 1 || x.length !== count * length || y.length !== count) return null;
  const ids = new Int32Array(count + length);
  for (let t = 0; t < length; t++) ids[t] = Math.round(x[t]! * vocabSize);
  ids.set(y, length);
  // Each input is the float32 of id / vocabSize, as makeWindows stores it: compare exactly.
  for (let w = 0; w < count; w++) {
    for (let t = 0; t < length; t++) {
      if (x[w * length + t] !== Math.fround(ids[w + t]! / vocabSize)) return null;
    }
  }
  return ids;
}
