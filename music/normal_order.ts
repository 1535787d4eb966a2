/**
 * `chord.normalOrder` of music21 6.7.1 (SPEC.md §12.2), which is not Forte's normal order for
 * the 204 pitch-class sets whose inversion is the prime form: there the form is the prime
 * form's interval sequence reversed, e.g. {0, 3, 4, 8} gives `8.0.3.4`.
 *
 * @module
 */

/** Normal orders by pitch-class bitmask (bit `pc` set), computed on first use. */
const cache: (readonly number[] | undefined)[] = new Array(4096);

/**
 * The Forte comparison key of a rotation: span first, then each interval from the first pitch
 * class up to the second-to-last. Negative when `a` sorts before `b`.
 */
function compareRotations(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const spanA = (a[n - 1]! - a[0]! + 12) % 12;
  const spanB = (b[n - 1]! - b[0]! + 12) % 12;
  if (spanA !== spanB) return spanA - spanB;
  for (let i = 1; i < n - 1; i++) {
    const da = (a[i]! - a[0]! + 12) % 12;
    const db = (b[i]! - b[0]! + 12) % 12;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Forte normal order of ascending distinct pitch classes; ties go to the lower first pc. */
function forteNormal(sorted: readonly number[]): number[] {
  const n = sorted.length;
  let best: number[] | undefined;
  for (let k = 0; k < n; k++) {
    const rotation = [...sorted.slice(k), ...sorted.slice(0, k)];
    if (best === undefined) {
      best = rotation;
      continue;
    }
    const c = compareRotations(rotation, best);
    if (c < 0 || (c === 0 && rotation[0]! < best[0]!)) best = rotation;
  }
  return best!;
}

const transposeTo0 = (xs: readonly number[]) => xs.map((x) => (x - xs[0]! + 12) % 12);

const sameList = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function compute(mask: number): number[] {
  const set: number[] = [];
  for (let pc = 0; pc < 12; pc++) if (mask & (1 << pc)) set.push(pc);
  const n = set.length;
  const a = transposeTo0(forteNormal(set));
  const inverted = [...new Set(set.map((x) => (12 - x) % 12))].sort((x, y) => x - y);
  const b = transposeTo0(forteNormal(inverted));
  const prime = compareRotations(b, a) < 0 ? b : a;
  const form = sameList(a, prime) ? prime : prime.map((_, k) => prime[n - 1]! - prime[n - 1 - k]!);
  for (let t = 0; t < 12; t++) {
    let m = 0;
    for (const f of form) m |= 1 << ((f + t) % 12);
    if (m === mask) return form.map((f) => (f + t) % 12);
  }
  throw new RangeError(`Cannot find the normal order of pitch-class set ${set.join(".")}`);
}

/**
 * music21 6.7.1's `normalOrder` of a set of pitch classes.
 *
 * @param mask a non-empty 12-bit set: bit `pc` is set for each pitch class present
 * @returns the pitch classes in normal order
 * @throws {RangeError} when the mask is empty or wider than 12 bits
 */
export function normalOrderOfMask(mask: number): readonly number[] {
  if (!Number.isInteger(mask) || mask <= 0 || mask >= 4096) {
    throw new RangeError(`Cannot take the normal order of pitch-class mask ${mask}`);
  }
  return cache[mask] ??= compute(mask);
}

/**
 * The pitch classes of `pitches` in music21 6.7.1's normal order; octaves, duplicates and the
 * given order are ignored.
 *
 * @param pitches MIDI numbers (0–127)
 * @returns the normal order
 */
export function normalOrder(pitches: Iterable<number>): readonly number[] {
  let mask = 0;
  for (const p of pitches) mask |= 1 << (p % 12);
  return normalOrderOfMask(mask);
}

/** Chord tokens by mask, joined once. */
const tokenCache: (string | undefined)[] = new Array(4096);

/**
 * The tutorial's chord token: the normal order joined by `.`, e.g. C-E-G → `0.4.7`.
 *
 * @param pitches MIDI numbers (0–127) of the chord
 * @returns the token
 */
export function chordToken(pitches: Iterable<number>): string {
  let mask = 0;
  for (const p of pitches) mask |= 1 << (p % 12);
  return tokenCache[mask] ??= normalOrderOfMask(mask).join(".");
}
