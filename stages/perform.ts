/**
 * perform: the generated drum-grid pieces played by the humanizer (issue 23): each hit given a
 * velocity and an offset from the grid, drawn at `humanize.temperature` in the style and at the
 * tempo of the test file its primer came from. Written as expressive drum tokens
 * (`performed.json`), as MIDI loops a DAW takes as they are (`loops.tar`: one track on channel
 * 10 with tempo and 4/4, starting on the bar line, file and track named `piece-01-funk-104bpm`),
 * and the first piece as `performed.mid` and `performed.svg`, its piano roll shaded by velocity.
 *
 * `expression.json` measures the pieces' expression (metrics/expression.ts) against the test
 * files' own performances over the same steps (bars primeBars + 1 to primeBars + bars of the
 * test files that long): per statistic the pieces' mean beside the test files' mean and spread,
 * and the correlation of the pieces' offset template and accents (mean offset and velocity by
 * step in the bar) with the test files'. And the style check of issue 23 (metrics/style.ts): a
 * nearest-centroid classifier fitted on the train files' same bars assigns each piece a style,
 * which should be the style it was asked for (`generate.style`, else its primer's: the network
 * continues a test file of that style, and the humanizer plays in it) at least as often as it
 * assigns the test files theirs.
 *
 * Without a humanizer (`humanize.epochs: 0`) it writes empty outputs and reads nothing.
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import type { Config } from "../formats/config_schema.ts";
import { rawBytes, text } from "../formats/codec.ts";
import { type Bundle, optionalBundle, pieceName } from "../formats/bundle.ts";
import { fileList, styleLookup } from "../formats/files.ts";
import { humanizerModel } from "../formats/humanizer.ts";
import { expressionReport } from "../formats/stats.ts";
import { piecePrimers, tokenEncoding, tokenLists, UNKNOWN_TOKEN } from "../formats/tokens.ts";
import { SILENT_STEP } from "../music/drums/drum_grid.ts";
import { expressiveDrumsMidi } from "../music/drums/expressive_drums.ts";
import {
  gridPerformance,
  type Performance,
  performanceSlice,
  performanceTokens,
} from "../music/drums/performance.ts";
import { compareExpression, type ExpressionStats, expressionStats } from "../metrics/expression.ts";
import { fitCentroids, styleAccuracy, styleFeatures } from "../metrics/style.ts";
import { type HumanizerModel, playHits } from "../model/humanizer/humanize_step.js";
import { mixSeed, seededRandom } from "../model/random.ts";
import { pianoRollSvg } from "../plots/piano_roll.ts";
import { filesOfSplit } from "./support/sample.ts";
import { readPerformances } from "./support/performances.ts";
import { tempoOf } from "./support/tempo.ts";

export const perform = defineStage({
  name: "perform",
  module: import.meta.url,
  description:
    "plays the generated drum-grid pieces with the humanizer's velocities and offsets, as MIDI loops, and measures their expression",
  inputs: {
    pieces: input("generate", "pieces.json", tokenLists),
    primers: input("generate", "primers.json", piecePrimers),
    humanizer: input("humanizer", "humanizer.json", humanizerModel),
    dataset: input("scan", "files.json", fileList),
    encoding: input("parse", "encoding.json", tokenEncoding),
  },
  outputs: {
    "performed.json": tokenLists,
    "loops.tar": optionalBundle,
    "performed.mid": rawBytes,
    "performed.svg": text,
    "expression.json": expressionReport,
  },
  reads: ["humanize", "render", "parse", "generate"],
  async run({ pieces, primers, humanizer, dataset, encoding }, config, ctx) {
    if (humanizer === null || encoding.encoding !== "drum-grid" || pieces.length === 0) {
      return {
        "performed.json": [],
        "loops.tar": new Map(),
        "performed.mid": new Uint8Array(),
        "performed.svg": "",
        "expression.json": null,
      };
    }
    const { stepsPerQuarter } = encoding;
    const styleOf = styleLookup(dataset);
    const loops: Bundle = new Map();
    const performed: string[][] = [];
    const stats: ExpressionStats[] = [];
    const pieceStyles: (string | undefined)[] = [];
    const midi = pieces.map((tokens, i) => {
      const primer = primers[i];
      // The style asked for, else the primer's.
      const styleName = config.generate.style || styleOf(primer?.file ?? "");
      pieceStyles.push(styleName);
      const bpm = tempoOf(config.render, primer);
      // The primer is played too, so the piece's first steps hear what comes before them (a
      // primer token the vocabulary lacks, `<unk>`, as a silent step: it is only context).
      const context = (primer?.tokens ?? []).map((t) => t === UNKNOWN_TOKEN ? SILENT_STEP : t);
      const grid = gridPerformance([...context, ...tokens], 100);
      const played = performanceSlice(
        play(humanizer, grid, styleName, bpm, config.humanize, i),
        context.length,
        grid.steps,
      );
      const piece = performanceTokens(played, stepsPerQuarter);
      performed.push(piece);
      stats.push(expressionStats({ hits: played.hits, stepsPerQuarter, bpm }));
      const label = `${fileSafe(styleName ?? "groove")}-${Math.round(bpm)}bpm`;
      const loop = pieceName(i + 1, "mid").replace(".mid", `-${label}.mid`);
      const file = expressiveDrumsMidi(piece, { bpm, stepsPerQuarter, name: loop.slice(0, -4) });
      loops.set(loop, file.bytes);
      return { ...file, title: `${styleName ?? "no style"}, ${Math.round(bpm)} bpm` };
    });
    // The real files' own performances at the place in a file where the pieces are.
    const from = primers[0]?.tokens.length ?? 0, steps = pieces[0]!.length;
    const measured = async (split: "train" | "test") =>
      (await readPerformances(
        filesOfSplit(dataset, split),
        config.parse,
        ctx,
        `perform's ${split} files`,
      ))
        .filter((f) => f.performance.steps >= from + steps).map((f) => ({
          style: f.style,
          stats: expressionStats({
            hits: performanceSlice(f.performance, from, from + steps).hits,
            stepsPerQuarter,
            bpm: f.bpm,
          }),
        }));
    const test = await measured("test");
    const report = compareExpression(stats, test.map((t) => t.stats));
    const styled = (list: { style: string | undefined; stats: ExpressionStats }[]) =>
      list.flatMap(({ style, stats }) =>
        style === undefined
          ? []
          : [{ style, features: styleFeatures(stats, steps / (4 * stepsPerQuarter)) }]
      );
    const train = styled(await measured("train"));
    if (train.length > 0) {
      const classifier = fitCentroids(train);
      report.style = {
        pieces: styleAccuracy(
          classifier,
          styled(stats.map((s, i) => ({ style: pieceStyles[i], stats: s }))),
        ),
        test: styleAccuracy(classifier, styled(test)),
        styles: classifier.styles.length,
        trainFiles: train.length,
      };
      const asked = config.generate.style || "their primer's";
      const share = (x: number) => `${(100 * x).toFixed(1)}%`;
      ctx.info(
        `style check: a nearest-centroid classifier fitted on ${train.length} train files ` +
          `assigns ${share(report.style.pieces)} of the pieces the style asked for (${asked}), ` +
          `${share(report.style.test)} of the test files their own`,
      );
      ctx.metric("style_accuracy_pieces", report.style.pieces);
      ctx.metric("style_accuracy_test", report.style.test);
    }
    for (const [name, s] of Object.entries(report.statistics)) {
      ctx.info(
        `${name}: pieces ${s.pieces.mean.toFixed(3)}, test files ${s.test.mean.toFixed(3)} ± ` +
          `${s.test.std.toFixed(3)}${s.withinOneStd ? "" : " (outside ± 1 std)"}`,
      );
    }
    ctx.info(
      `template correlation ${report.templateCorrelation?.toFixed(3)}, accent correlation ` +
        `${report.accentCorrelation?.toFixed(3)} (against ${report.testFiles} test files)`,
    );
    ctx.metric("template_correlation", report.templateCorrelation);
    ctx.metric("accent_correlation", report.accentCorrelation);
    const within = Object.values(report.statistics).filter((s) => s.withinOneStd).length;
    ctx.metric("within_one_std", `${within}/${Object.keys(report.statistics).length}`);
    const first = midi[0]!;
    const notes = first.notes.map((n) => ({
      pitch: n.pitch,
      start: n.tick / 480,
      duration: n.durationTicks / 480,
      velocity: n.velocity,
    }));
    return {
      "performed.json": performed,
      "loops.tar": loops,
      "performed.mid": first.bytes,
      "performed.svg": pianoRollSvg(notes, {
        title: `Piece 1 played by the humanizer: ${first.title}`,
        labels: "drums",
      }),
      "expression.json": report,
    };
  },
});

/** A style name as it may stand in a file name. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "groove";
}

/**
 * Plays piece `index`'s grid: at `humanize.temperature` (seeded by `humanize.seed` and the
 * piece), or each distribution's median at 0.
 */
function play(
  model: HumanizerModel,
  grid: Performance,
  style: string | undefined,
  bpm: number,
  settings: Config["humanize"],
  index: number,
): Performance {
  const styleIndex = style === undefined ? -1 : model.layout.styles.indexOf(style);
  const playing = settings.temperature === 0 ? { mode: "median" as const } : {
    mode: "sample" as const,
    temperature: settings.temperature,
    rng: seededRandom(mixSeed(settings.seed, index)),
  };
  return {
    steps: grid.steps,
    hits: playHits(model, grid.steps, grid.hits, styleIndex, bpm, playing),
  };
}
