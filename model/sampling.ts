/**
 * Choosing the next token, typed: the code is model/sampling.js (plain JavaScript with JSDoc
 * types), which the report page's in-browser player runs too (report/player.ts), so the page and
 * the pipeline choose alike. Import it from here.
 *
 * @module
 */
export { argMax, chooseNext } from "./sampling.js";
export type { Sampling } from "./sampling.js";
