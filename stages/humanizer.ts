/**
 * humanizer: learns how Groove's drummers play a pattern (issue 23). From each file of the
 * dataset's train split, its performance on the grid (music/drums/performance.ts: per step, the
 * drums struck, each with its velocity and its offset from the step), and a network
 * (model/humanizer/) that, reading only the grid around a step, its place in the bar, the style
 * and the tempo, gives each hit a velocity and an offset. The weights kept are the epoch's with
 * the lowest loss on the validation split.
 *
 * Scored as humanizing is used: each validation and test file quantized (its hits on the grid at
 * one velocity), played by the humanizer (each distribution's median), and compared hit by hit
 * with the real performance, beside the two baselines issue 23 names: the pattern left quantized
 * at the training hits' median velocity, and the training files' average offset and velocity for
 * that drum on that step of the bar.
 *
 * Off (`humanize.epochs: 0`, the default) it writes `null` and reads nothing.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  defineStage,
  input,
  type Progress,
  type StageContext,
  StageInputError,
} from "../core/stage.ts";
import { fileList, styleNames } from "../formats/files.ts";
import { humanizerModel, type HumanizerScores, humanizerScores } from "../formats/humanizer.ts";
import { EXPRESSIVE_STEPS_PER_QUARTER } from "../music/drums/expressive_drums.ts";
import { selectBackend } from "../model/backend.ts";
import { blasGemm } from "../model/gemm_product.ts";
import { resolveLstm } from "../model/lstm_implementation.ts";
import {
  type HumanizerFile,
  humanizerLayout,
  trainHumanizer,
} from "../model/humanizer/humanizer.ts";
import { fitBaselines, scoreHumanizer } from "../model/humanizer/scoring.ts";
import { filesOfSplit, hasSplit } from "./support/sample.ts";
import { type FilePerformance, readPerformances } from "./support/performances.ts";

export const humanizer = defineStage({
  name: "humanizer",
  module: import.meta.url,
  description:
    "learns each hit's velocity and offset from the train split's performances (humanize.epochs > 0)",
  inputs: { dataset: input("scan", "files.json", fileList) },
  outputs: { "humanizer.json": humanizerModel, "scores.json": humanizerScores },
  reads: ["humanize", "parse"],
  async environment(config): Promise<Record<string, string>> {
    if (config.humanize.epochs === 0) return {};
    const { backend } = await selectBackend("auto");
    const gemm = blasGemm(resolveLstm("auto", backend));
    // Another backend or BLAS sums in another order: the weights differ in the last bits.
    return { tfjs: tf.version.tfjs, backend, products: gemm === null ? "tfjs" : "openblas" };
  },
  check(config) {
    if (config.humanize.epochs === 0) return;
    if (config.parse.encoding !== "drum-grid") {
      throw new Error(
        `humanize.epochs: the humanizer plays drum-grid pieces, so it needs parse.encoding: ` +
          `drum-grid (found ${config.parse.encoding})`,
      );
    }
    if (!EXPRESSIVE_STEPS_PER_QUARTER.includes(config.parse.stepsPerQuarter)) {
      throw new Error(
        `humanize.epochs: the humanizer's offsets are 96ths of a quarter, so ` +
          `parse.stepsPerQuarter must divide 96 (${EXPRESSIVE_STEPS_PER_QUARTER.join(", ")}; ` +
          `found ${config.parse.stepsPerQuarter})`,
      );
    }
  },
  async run({ dataset }, config, ctx) {
    const settings = config.humanize;
    if (settings.epochs === 0) return { "humanizer.json": null, "scores.json": null };
    if (!hasSplit(dataset)) {
      throw new StageInputError(
        "humanize.epochs is set, but the dataset has no split: set dataset.split to a table " +
          "of each file's split (Groove's info.csv), or humanize.epochs to 0",
      );
    }
    const layout = humanizerLayout({
      context: settings.context,
      stepsPerQuarter: config.parse.stepsPerQuarter,
      styles: settings.style ? styleNames(filesOfSplit(dataset, "train")) : [],
      hidden: settings.hidden,
    });
    const read = async (split: "train" | "validation" | "test") =>
      (await readPerformances(
        filesOfSplit(dataset, split),
        config.parse,
        ctx,
        `the humanizer's ${split} files`,
      ))
        .map((f) => asHumanizerFile(f, layout.styles));
    const train = await read("train"), validation = await read("validation");
    if (train.length === 0 || validation.length === 0) {
      throw new StageInputError(
        `the humanizer needs performances in the train and validation splits (found ` +
          `${train.length} and ${validation.length} files with drum hits)`,
      );
    }
    const { backend } = await selectBackend("auto");
    const gemm = blasGemm(resolveLstm("auto", backend));
    ctx.info(
      `${train.length} train files, ${layout.styles.length || "no"} styles, ` +
        `${settings.hidden} units × 2, products on ${gemm === null ? backend : "OpenBLAS"}`,
    );
    const trained = await trainHumanizer(
      layout,
      train,
      validation,
      { ...settings, gemm },
      ...epochReporting(ctx, settings.epochs),
    );
    const baselines = fitBaselines(
      train.map((f) => f.performance),
      layout.drums,
      layout.stepsPerBar,
    );
    const scores: HumanizerScores = {
      epochs: trained.history,
      bestEpoch: trained.bestEpoch,
      splits: {
        validation: scoreHumanizer(trained.model, validation, baselines),
        test: scoreHumanizer(trained.model, await read("test"), baselines),
      },
    };
    for (const [split, s] of Object.entries(scores.splits)) {
      const line = (what: "timingMs" | "velocity", digits: number) =>
        `${s.humanizer[what].toFixed(digits)} (quantized ${s.quantized[what].toFixed(digits)}, ` +
        `template ${s.template[what].toFixed(digits)})`;
      ctx.info(
        `${split}: timing error ${line("timingMs", 2)} ms, velocity error ` +
          `${line("velocity", 2)}, ${s.humanizer.hits} hits`,
      );
    }
    const { test } = scores.splits;
    ctx.metric("best_epoch", trained.bestEpoch);
    ctx.metric("test_timing_ms", test.humanizer.timingMs);
    ctx.metric("test_velocity_error", test.humanizer.velocity);
    ctx.metric("test_timing_ms_template", test.template.timingMs);
    ctx.metric("test_velocity_error_template", test.template.velocity);
    return { "humanizer.json": trained.model, "scores.json": scores };
  },
});

function asHumanizerFile(f: FilePerformance, styles: readonly string[]): HumanizerFile {
  return {
    performance: f.performance,
    style: f.style === undefined ? -1 : styles.indexOf(f.style),
    bpm: f.bpm,
  };
}

/** A progress bar per epoch and a line after each. */
function epochReporting(
  ctx: StageContext,
  epochs: number,
): [
  (e: { epoch: number; loss: number; validationLoss: number }) => void,
  (done: number, total: number) => void,
] {
  let bar: Progress | undefined, epoch = 1;
  return [
    (e) => {
      bar?.done();
      epoch++;
      ctx.info(
        `epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)}, validation ` +
          `${e.validationLoss.toFixed(4)} nats per hit`,
      );
      ctx.signal.throwIfAborted();
    },
    (done, total) => {
      if (done === 1) bar = ctx.progress(`humanizer epoch ${epoch}`, total);
      bar?.tick();
    },
  ];
}
