/**
 * stats: each generated piece measured and read against the data: per metric, the piece's value,
 * the data's mean and spread, and how many standard deviations apart they are, for every piece
 * of `pieces.json` (generate.count). A piece's notes are the ones render writes for its tokens.
 *
 * The data it is read against: for pieces primed from test files (the sequence network), the
 * test files' own continuations — in each test file long enough, the `generate.bars` bars after
 * its first `generate.primeBars`, measured exactly as a piece is (its tokens rendered) — so like
 * is compared with like: the same length (a count such as distinct tokens grows with length),
 * the same place in a file, the same rendering. Otherwise (the tutorial's network, or too few
 * test files that long), the training files as datastats measured them.
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
import {
  piecePrimers,
  tokenEncoding,
  tokenLists,
  vocabulary,
  voicingTable,
} from "../formats/tokens.ts";
import { type TokenSequences, tokenSequences } from "../formats/sequences.ts";
import type { Config } from "../formats/config_schema.ts";
import { pieceStatistics, summarize, tokenStatistics } from "../metrics/mod.ts";
import { barTokens } from "./support/token_timing.ts";
import { renderTokens } from "../music/encoding.ts";

export const stats = defineStage({
  name: "stats",
  module: import.meta.url,
  description: "measures the generated piece and reads it against the training files",
  inputs: {
    pieces: input("generate", "pieces.json", tokenLists),
    data: input("datastats", "data_stats.json", dataStats),
    encoding: input("parse", "encoding.json", tokenEncoding),
    voicings: input("parse", "voicings.json", voicingTable),
    test: input("heldout", "test-sequences.json", tokenSequences),
    vocab: input("vocab", "vocab.json", vocabulary),
    primers: input("generate", "primers.json", piecePrimers),
  },
  outputs: { "stats.json": pieceStats },
  reads: ["render", "generate"],
  async run({ pieces, data, encoding, voicings, test, vocab, primers }, config, ctx) {
    const counts = new Map(Object.entries(data.tokenCounts));
    const perBar = barTokens(encoding, config.render);
    // Measured as render writes the tokens: what is heard is what is measured.
    const measure = (tokens: readonly string[]) => {
      const rendered = renderTokens([...tokens], encoding, config.render, voicings);
      const notes = rendered.notes.map((n) => ({
        time: n.tick,
        duration: n.durationTicks,
        pitch: n.pitch,
      }));
      return {
        tokens: tokenStatistics(tokens, counts, { tokensPerBar: perBar }),
        music: pieceStatistics({ resolution: rendered.ticksPerQuarter, notes }),
      };
    };
    const continuations = primers.length > 0
      ? testContinuations(test, vocab.tokens, config.generate, perBar)
      : [];
    let reference: { tokens: Record<string, Spread>; music: Record<string, Spread> } = data;
    if (continuations.length >= MIN_REFERENCE_FILES) {
      const measuredTest = continuations.map(measure);
      reference = {
        tokens: summarize(measuredTest.map((m) => m.tokens)),
        music: summarize(measuredTest.map((m) => m.music)),
      };
      ctx.info(
        `read against the test files' own continuations: bars ${config.generate.primeBars + 1}–` +
          `${config.generate.primeBars + config.generate.bars} of the ${continuations.length} ` +
          "test files that long",
      );
    }
    ctx.metric(
      "reference",
      reference === data
        ? `training files (${data.files})`
        : `test continuations (${continuations.length})`,
    );
    const measured = pieces.map((tokens): PieceStats => {
      const m = measure(tokens);
      return {
        tokens: compare(m.tokens, reference.tokens),
        music: compare(m.music, reference.music),
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

/** Fewer test files this long, and the pieces are read against the training files instead. */
const MIN_REFERENCE_FILES = 10;

/**
 * What the test files themselves play where the pieces are generated: the tokens of bars
 * primeBars + 1 … primeBars + bars of every test file that long (none when `generate.bars` is 0).
 */
export function testContinuations(
  test: TokenSequences,
  vocabulary: readonly string[],
  generate: Pick<Config["generate"], "bars" | "primeBars">,
  stepsPerBar: number,
): string[][] {
  if (generate.bars < 1) return [];
  const from = generate.primeBars * stepsPerBar;
  const to = from + generate.bars * stepsPerBar;
  const out: string[][] = [];
  let offset = 0;
  for (const length of test.lengths) {
    if (length >= to) {
      out.push(test.ids.slice(offset + from, offset + to).map((id) => vocabulary[id]!));
    }
    offset += length;
  }
  return out;
}

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
