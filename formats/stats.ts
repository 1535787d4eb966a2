/**
 * The music statistics artifacts: the training files' (`data_stats.json`, once per sample) and
 * each generated piece's against them (`stats.json`). JSON writes NaN (a metric MusPy leaves
 * undefined, such as groove consistency of a one-bar piece) as null; readers take null as NaN.
 *
 * @module
 */
import { type Codec, jsonCodec } from "./codec.ts";
import type { ExpressionReport } from "../metrics/expression.ts";

/** Where a metric lies over the training files. */
export interface Spread {
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** Files the metric was defined for. */
  n: number;
}

/** `data_stats.json`: the training files' statistics. */
export interface DataStats {
  /** Files measured (parsed and readable as MIDI). */
  files: number;
  /** Token statistic → spread over the files. */
  tokens: Record<string, Spread>;
  /** MusPy metric (raw and `_q16`) → spread over the files. */
  music: Record<string, Spread>;
  /** How often each token occurs in all training files: the distribution generated pieces are
   * compared with. */
  tokenCounts: Record<string, number>;
}

/** One generated piece's value of a metric, read against the data. */
export interface Comparison {
  value: number | null;
  dataMean: number | null;
  dataStd: number | null;
  /** (value − mean) / std: how many standard deviations from the data; null when undefined. */
  z: number | null;
}

/** `stats.json`: each generated piece's statistics against the data. */
export interface PieceStats {
  tokens: Record<string, Comparison>;
  music: Record<string, Comparison>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const dataStats: Codec<DataStats> = jsonCodec<DataStats>(
  "an object {files, tokens, music, tokenCounts}",
  (v) =>
    isObject(v) && typeof v.files === "number" && isObject(v.tokens) && isObject(v.music) &&
      isObject(v.tokenCounts)
      ? undefined
      : "a field is missing",
);

export const pieceStats: Codec<PieceStats[]> = jsonCodec<PieceStats[]>(
  "a list of {tokens, music} comparisons, one per piece",
  (v) =>
    Array.isArray(v) && v.every((p) => isObject(p) && isObject(p.tokens) && isObject(p.music))
      ? undefined
      : "an entry is not {tokens, music}",
);

/** perform's `expression.json` (metrics/expression.ts), or null without a humanizer. */
export const expressionReport: Codec<ExpressionReport | null> = jsonCodec<ExpressionReport | null>(
  "an expression report or null",
  (v) =>
    v === null || (typeof v === "object" && typeof (v as ExpressionReport).statistics === "object")
      ? undefined
      : "it has no statistics",
  (v) => JSON.stringify(v, null, 1),
);
