/**
 * Seeded randomness, typed: the code is model/random.js (plain JavaScript with JSDoc types),
 * which the report page's in-browser player runs too (report/player.ts), so the page and the
 * pipeline draw from one generator. Import it from here.
 *
 * @module
 */
export { mixSeed, randomInt, seededRandom, seedStream, shuffleInPlace } from "./random.js";
