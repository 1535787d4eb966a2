/**
 * stats: each generated piece measured as the training files were (datastats), and read against
 * them: per metric, the piece's value, the data's mean and spread, and how many standard
 * deviations apart they are, for every piece of `pieces.json` (generate.count). A piece's notes
 * are the ones render writes for its tokens.
 *
 * @module
 */
import { asMetric, defineStage, input } from "../core/stage.ts";
import {
  type Comparison,
  dataStats,
  type PieceStats,
  pieceStats,
  type Spread,
} from "../formats/stats.ts";
import { tokenEncoding, tokenLists, voicingTable } from "../formats/tokens.ts";
import { pieceStatistics, tokensPerBar, tokenStatistics } from "../metrics/mod.ts";
import { quartersPerToken, renderTokens } from "../music/encoding.ts";

export const stats = defineStage({
  name: "stats",
  module: import.meta.url,
  description: "measures the generated piece and reads it against the training files",
  inputs: {
    pieces: input("generate", "pieces.json", tokenLists),
    data: input("datastats", "data_stats.json", dataStats),
    encoding: input("parse", "encoding.json", tokenEncoding),
    voicings: input("parse", "voicings.json", voicingTable),
  },
  outputs: { "stats.json": pieceStats },
  reads: ["render"],
  async run({ pieces, data, encoding, voicings }, config, ctx) {
    const counts = new Map(Object.entries(data.tokenCounts));
    const perBar = tokensPerBar(quartersPerToken(encoding, config.render));
    const measured = pieces.map((tokens): PieceStats => {
      // The notes as render writes them: what is heard is what is measured.
      const rendered = renderTokens(tokens, encoding, config.render, voicings);
      const notes = rendered.notes.map((n) => ({
        time: n.tick,
        duration: n.durationTicks,
        pitch: n.pitch,
      }));
      return {
        tokens: compare(tokenStatistics(tokens, counts, { tokensPerBar: perBar }), data.tokens),
        music: compare(
          pieceStatistics({ resolution: rendered.ticksPerQuarter, notes }),
          data.music,
        ),
      };
    });
    ctx.metric("pieces", asMetric(measured));
    ctx.metric("withinOneStd", withinOneStd(measured));
    const piece = measured[0]!;
    const t = piece.tokens;
    ctx.info(
      `${t.distinct_tokens?.value} distinct tokens (data: ${
        fixed(t.distinct_tokens?.dataMean)
      }), ` +
        `top token ${fixed(t.top_token_share?.value)} of all, ` +
        `JS distance to the data ${fixed(t.js_distance?.value)}`,
    );
    return { "stats.json": measured };
  },
});

/**
 * The statistics a groove is judged by (distinct tokens, silent steps, hits per bar, groove
 * consistency, empty beats, bars repeating the previous one): for each, the share of the pieces
 * whose value lies within the data's mean ± 1 std, and whether the pieces' mean does.
 */
const JUDGED: readonly ["tokens" | "music", string][] = [
  ["tokens", "distinct_tokens"],
  ["tokens", "silent_share"],
  ["tokens", "hits_per_bar"],
  ["music", "groove_consistency"],
  ["music", "empty_beat_rate"],
  ["tokens", "bar_repeat_share"],
];

function withinOneStd(pieces: readonly PieceStats[]) {
  const out: Record<string, { pieces: number; mean: number | null; meanWithin: boolean }> = {};
  for (const [group, name] of JUDGED) {
    const cs = pieces.map((p) => (p[group] as Record<string, Comparison>)[name]);
    const valued = cs.filter((c) => c !== undefined && c.value !== null && c.dataStd !== null);
    if (valued.length === 0) continue;
    const inside = (v: number, c: Comparison) => Math.abs(v - c.dataMean!) <= c.dataStd!;
    const mean = valued.reduce((a, c) => a + c!.value!, 0) / valued.length;
    out[name] = {
      pieces: valued.filter((c) => inside(c!.value!, c!)).length / valued.length,
      mean,
      meanWithin: inside(mean, valued[0]!),
    };
  }
  return out;
}

/** Each value beside the data's mean and spread of the same metric. */
function compare(
  values: object,
  data: Record<string, Spread>,
): Record<string, Comparison> {
  const out: Record<string, Comparison> = {};
  for (const [name, raw] of Object.entries(values) as [string, number][]) {
    const value = Number.isFinite(raw) ? raw : null;
    const spread = data[name];
    const mean = spread?.mean ?? null;
    const std = spread?.std ?? null;
    const z = value !== null && mean !== null && std !== null && std > 0
      ? (value - mean) / std
      : null;
    out[name] = { value, dataMean: mean, dataStd: std, z };
  }
  return out;
}

function fixed(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : Number.isInteger(v) ? String(v) : v.toFixed(3);
}
