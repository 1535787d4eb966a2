/**
 * music21 6.7.1's `Stream.quantize` with divisors (4, 3) (SPEC.md §7), in exact integer
 * arithmetic. Quantized values are returned in twelfths of a quarter note, so a multiple of 1/4
 * or 1/3 is always a whole number.
 *
 * @module
 */

/**
 * `Q(num / den)` in twelfths: the nearest point of {k/4} ∪ {k/3}, the lower one on a tie.
 *
 * Exact while `12 * num` and `num * 4` stay below 2^53 (any tick a real file can reach).
 *
 * @param num a non-negative tick count
 * @param den ticks per quarter note, positive
 * @returns the quantized value times 12
 */
export function quantize12(num: number, den: number): number {
  const target = 12 * num;
  const f4 = 3 * Math.floor((4 * num) / den);
  const f3 = 4 * Math.floor((3 * num) / den);
  let best = f4;
  let bestError = Math.abs(target - f4 * den);
  for (const c of [f4 + 3, f3, f3 + 4]) {
    const error = Math.abs(target - c * den);
    if (error < bestError || (error === bestError && c < best)) {
      best = c;
      bestError = error;
    }
  }
  return best;
}

/**
 * The quantized duration of a note or chord, in twelfths of a quarter: negative lengths count
 * as 0, and a non-grace element that snaps to 0 gets 1/4.
 *
 * @param ticks the raw length in ticks (may be negative for a chord)
 * @param ticksPerQuarter the file's division, positive
 * @param grace whether the element was created with zero length
 */
export function quantizeNoteDuration12(
  ticks: number,
  ticksPerQuarter: number,
  grace: boolean,
): number {
  const q = quantize12(Math.max(ticks, 0), ticksPerQuarter);
  return q === 0 && !grace ? 3 : q;
}
