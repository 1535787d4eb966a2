/**
 * Music statistics for the training data and for generated pieces, one entry point: the piece
 * model and quantization, MusPy's objective metrics, token statistics and the summaries a run
 * record keeps. All pure functions (no file access), so any stage or command can use them.
 *
 * @module
 */
export * from "./piece.ts";
export * from "./muspy.ts";
export * from "./token_stats.ts";
export * from "./summary.ts";
export * from "./midi_piece.ts";
