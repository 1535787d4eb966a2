/**
 * A small seeded random generator (mulberry32), so that every random choice of the pipeline
 * comes from a seed in the config and a run can be repeated exactly.
 *
 * @module
 */

/** A function returning uniform floats in [0, 1), determined by its seed. */
export type Rng = () => number;

/** Makes a generator from a 32-bit seed. */
export function seededRandom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for stream `n` of `seed` (each epoch's shuffle and dropout masks, say). */
export function mixSeed(seed: number, n: number): number {
  return (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0;
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Shuffles `items` in place (Fisher–Yates) and returns it. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
