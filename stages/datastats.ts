/**
 * datastats: the training files measured once per sample, so that every generated piece can be
 * read against them. For each file that parsed: its token statistics (its distance to the whole
 * sample's token distribution included) and MusPy's objective metrics on its notes as played and
 * snapped to sixteenths; then each metric's mean and spread over the files.
 *
 * Reading notes needs the files themselves, so each is checked against the sha256 scan recorded,
 * as parse does.
 *
 * @module
 */
import { asMetric, defineStage, input } from "../core/stage.ts";
import { parseReport } from "../formats/files.ts";
import { dataStats } from "../formats/stats.ts";
import { tokenEncoding, tokenList } from "../formats/tokens.ts";
import { barTokens } from "./support/token_timing.ts";
import {
  pieceFromMidi,
  type PieceStatistics,
  pieceStatistics,
  summarize,
  tokenCounts,
  type TokenStatistics,
  tokenStatistics,
} from "../metrics/mod.ts";
import { readScannedFile } from "./support/scanned_file.ts";

export const datastats = defineStage({
  name: "datastats",
  module: import.meta.url,
  description: "measures the training files: token statistics and MusPy's metrics, with spread",
  inputs: {
    notes: input("parse", "notes.json", tokenList),
    report: input("parse", "parse_report.json", parseReport),
    encoding: input("parse", "encoding.json", tokenEncoding),
  },
  outputs: { "data_stats.json": dataStats },
  reads: ["render"],
  async run({ notes, report, encoding }, config, ctx) {
    const perBar = barTokens(encoding, config.render);
    const counts = tokenCounts(notes);
    const tokenRecords: TokenStatistics[] = [];
    const musicRecords: PieceStatistics[] = [];
    const bar = ctx.progress("measuring", report.length);
    // notes.json is every parsed file's tokens, in report order.
    let offset = 0;
    for (const entry of report) {
      ctx.signal.throwIfAborted();
      bar.tick();
      if (!("tokens" in entry)) continue;
      const tokens = notes.slice(offset, offset + entry.tokens);
      offset += entry.tokens;
      tokenRecords.push(tokenStatistics(tokens, counts, { tokensPerBar: perBar }));
      const bytes = await readScannedFile(ctx, entry);
      try {
        musicRecords.push(pieceStatistics(pieceFromMidi(bytes)));
      } catch (e) {
        // Whatever was thrown: @tonejs/midi throws strings, whose .message is undefined.
        const reason = e instanceof Error ? e.message : String(e);
        ctx.warn(`cannot measure the notes of ${entry.path} (${reason})`);
      }
    }
    bar.done();
    const stats = {
      files: musicRecords.length,
      tokens: summarize(tokenRecords),
      music: summarize(musicRecords),
      tokenCounts: Object.fromEntries(counts),
    };
    ctx.metric("files", stats.files);
    ctx.metric("tokens", asMetric(stats.tokens));
    ctx.metric("music", asMetric(stats.music));
    return { "data_stats.json": stats };
  },
});
