// @ts-check
/**
 * Seeded randomness: every random choice of the pipeline (sampling files, shuffling windows,
 * initial weights, dropout masks, the start of generation) comes from a seed in the config, so a
 * run can be repeated exactly. This is the one module that turns seeds into streams and derives
 * seeds from seeds; model/ and stages/ both use it (through model/random.ts, its typed entry
 * point), and it imports nothing.
 *
 * Plain JavaScript with JSDoc types, so that the report page's in-browser player draws from the
 * very same code: report/player.ts puts this file, its `export` keywords dropped, in front of the
 * player's classic script. Keep it that way: no imports, every export a `function` declaration.
 *
 * @module
 */

/** @typedef {() => number} Rng A function returning uniform floats in [0, 1), determined by its seed. */

/**
 * How {@link mixSeed} combines: `xor` for the streams of the pipeline (each epoch's shuffle and
 * dropout streams), `hashed` for the fused LSTM's recurrent dropout masks, which take one
 * seed per training step and so need neighbouring counters to give unrelated seeds.
 *
 * @typedef {"xor" | "hashed"} SeedMixing
 */

/**
 * Makes a generator from a 32-bit seed (mulberry32).
 *
 * @param {number} seed
 * @returns {Rng}
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of stream `n` of `seed`: the one place where seeds are combined.
 *
 * The two mixings are the two that checkpoints were made with: `xor` multiplies `n` by a
 * golden-ratio constant and xors it in; `hashed` does the same with the 32-bit golden ratio and
 * `n + 1`, then runs murmur3's finaliser so that consecutive `n` differ in every bit. Either
 * changed would change every trained model's bytes, so both are kept exactly.
 *
 * @param {number} seed
 * @param {number} n
 * @param {SeedMixing} [mixing]
 * @returns {number}
 */
export function mixSeed(seed, n, mixing = "xor") {
  if (mixing === "xor") return (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  let s = (seed ^ Math.imul(n + 1, 0x9e3779b9)) >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  return (s ^ (s >>> 16)) >>> 0;
}

/**
 * A source of seeds drawn from `seed`: deterministic, different on every call. Gives each layer
 * of a model its own seed, and each dropout mask of a layer its own.
 *
 * @param {number} seed
 * @returns {() => number}
 */
export function seedStream(seed) {
  const rng = seededRandom(seed);
  return () => Math.floor(rng() * 0x7fffffff);
}

/**
 * A uniform integer in [0, n).
 *
 * @param {Rng} rng
 * @param {number} n
 * @returns {number}
 */
export function randomInt(rng, n) {
  return Math.floor(rng() * n);
}

/**
 * Shuffles `items` in place (Fisher–Yates) and returns it.
 *
 * @template T
 * @param {T[]} items
 * @param {Rng} rng
 * @returns {T[]}
 */
export function shuffleInPlace(items, rng) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [items[i], items[j]] = [/** @type {T} */ (items[j]), /** @type {T} */ (items[i])];
  }
  return items;
}
