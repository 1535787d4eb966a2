/**
 * train with `train.network: sequence`: one LSTM over each whole file of the drum grid, fed a
 * learnt token embedding, the step's position in the bar and the tokens one and two bars back
 * (model/sequence/network.ts), trained on crops of the training files with a target at every step
 * (model/sequence/fit.ts). The checkpoint kept is the epoch of the lowest validation loss, scored
 * on every step of every validation file from its start; the test files are scored once, on that
 * checkpoint, beside the baselines fitted on the same training files (model/sequence/baselines.ts): the
 * headline figures of the run.
 *
 * `train.network: transformer` trains the causal Transformer of model/sequence/transformer.ts
 * on the same inputs, crops and schedule instead of the LSTM; it is scored on the same steps.
 *
 * @module
 */
import { type StageContext, StageInputError } from "../../core/stage.ts";
import type { Config } from "../../formats/config_schema.ts";
import type { TrainHistory, ValidationHistory } from "../../formats/history.ts";
import type { ParsedFile } from "../../formats/files.ts";
import { splitSequences, type TokenSequences, trainingSequences } from "../../formats/sequences.ts";
import { type TokenEncoding, unknownId, type Vocab } from "../../formats/tokens.ts";
import { type BaselineName, fitBaselines, scoreBaselines } from "../../model/sequence/baselines.ts";
import { loadCheckpoint } from "../../model/checkpoint.ts";
import { disposeModel } from "../../model/build_model.ts";
import type { Evaluation } from "../../model/evaluate.ts";
import type { LstmImplementation } from "../../model/lstm_implementation.ts";
import { fitSequenceModel, type SequenceFitSettings } from "../../model/sequence/fit.ts";
import { scoreSequences, type SequenceScore } from "../../model/sequence/network.ts";

/** What the sequence network trains and is scored on. */
export interface SequenceInputs {
  notes: readonly string[];
  report: readonly ParsedFile[];
  vocab: Vocab;
  encoding: TokenEncoding;
  validation: TokenSequences;
  test: TokenSequences;
}

/** train's outputs and metrics for the sequence network. */
export async function trainSequence(
  inputs: SequenceInputs,
  settings: Config["train"],
  machine: { backend: string; lstm: LstmImplementation },
  ctx: StageContext,
) {
  const { vocab, encoding } = inputs;
  if (encoding.encoding !== "drum-grid") {
    throw new StageInputError(
      `train.network ${settings.network} reads the position in the bar from the drum grid: set parse.encoding: drum-grid`,
    );
  }
  if (unknownId(vocab) === undefined) {
    throw new StageInputError(
      `train.network ${settings.network} scores every held-out step, unknown tokens included: set vocab.minCount to 2 or more, so the vocabulary has an <unk> class`,
    );
  }
  const stepsPerBar = 4 * encoding.stepsPerQuarter;
  const vocabSize = vocab.tokens.length;
  const train = sequencesOf(trainingSequences(inputs.notes, inputs.report, vocab));
  const validation = sequencesOf(inputs.validation);
  const test = sequencesOf(inputs.test);
  if (validation.length === 0) {
    throw new StageInputError(
      `train.network ${settings.network} keeps the checkpoint of the lowest validation loss, but heldout gave no validation files: set dataset.split (a file naming each file's split, as Groove's info.csv)`,
    );
  }
  ctx.info(
    `${train.length} training files (${steps(train)} steps), ${validation.length} validation ` +
      `files (${steps(validation)} steps), ${test.length} test files (${steps(test)} steps); ` +
      `vocabulary ${vocabSize} with <unk>`,
  );
  const fit = await fitSequenceModel(
    { files: train, vocabSize, stepsPerBar },
    validation,
    sequenceFitSettings(settings, machine.lstm),
    ctx,
  );
  if (fit.resumedAfterEpoch !== undefined) ctx.metric("resumedAfterEpoch", fit.resumedAfterEpoch);
  // The test files, once, on the checkpoint kept; the baselines on the same steps.
  // With the fused LSTM when the machine has it: tfjs's own LSTM layer takes minutes here.
  const kept = await loadCheckpoint(fit.checkpoint, { lstm: machine.lstm });
  let testScore: SequenceScore;
  try {
    testScore = await scoreSequences(kept, test);
  } finally {
    disposeModel(kept);
  }
  const baselines = fitBaselines(train, validation, vocabSize, stepsPerBar);
  const onValidation = scoreBaselines(baselines, validation);
  const onTest = scoreBaselines(baselines, test);
  const keptScore = fit.validation[fit.keptEpoch - 1]!;
  const history: TrainHistory = {
    loss: fit.losses,
    bestEpoch: fit.keptEpoch,
    bestLoss: fit.losses[fit.keptEpoch - 1]!,
    backend: machine.backend,
    lstmKernel: machine.lstm.id,
    monitor: "val_loss",
    bestValLoss: keptScore.loss,
    network: settings.network === "transformer" ? "transformer" : "sequence",
  };
  const validationHistory: ValidationHistory = {
    windows: keptScore.steps,
    loss: fit.validation.map((s) => s.loss),
    top1: fit.validation.map((s) => s.top1),
    top5: fit.validation.map((s) => s.top5),
    perplexity: fit.validation.map((s) => s.perplexity),
    contextFree: evaluation(onValidation.unigram),
    baselines: mapValues(onValidation, evaluation),
  };
  report(ctx, fit, validationHistory, testScore, onTest);
  return {
    "model.json": fit.checkpoint["model.json"],
    "weights.bin": fit.checkpoint["weights.bin"],
    "history.json": history,
    "validation.json": validationHistory,
  };
}

/** The fit settings train.* gives the sequence network (the recipe's; benchmarks use it too). */
export function sequenceFitSettings(
  settings: Config["train"],
  lstm: LstmImplementation,
): SequenceFitSettings {
  return {
    embedding: settings.embedding,
    barPosition: settings.barPosition,
    positionEmbedding: 16,
    lookbackBars: settings.lookbackBars,
    units: settings.lstmUnits,
    dropout: settings.dropout,
    seed: settings.seed,
    cropLength: settings.cropLength,
    batchSize: settings.batchSize,
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    weightDecay: settings.weightDecay,
    clipNorm: settings.clipNorm,
    schedule: settings.schedule,
    warmupSteps: 200,
    minLearningRate: 0.05,
    lstm,
    ...(settings.network === "transformer"
      ? { transformer: { blocks: settings.blocks, heads: settings.heads, width: settings.width } }
      : {}),
  };
}

/** The run record's figures: the curves, the test scores and the baselines' on the same steps. */
function report(
  ctx: StageContext,
  fit: Awaited<ReturnType<typeof fitSequenceModel>>,
  validation: ValidationHistory,
  test: SequenceScore,
  baselines: Record<BaselineName, { loss: number; top1: number; top5: number }>,
): void {
  ctx.metric("loss", fit.losses);
  ctx.metric("bestLoss", fit.losses[fit.keptEpoch - 1]!);
  ctx.metric("bestEpoch", fit.keptEpoch);
  ctx.metric("secondsPerEpoch", fit.secondsPerEpoch);
  ctx.metric("parameters", fit.parameters);
  ctx.metric("valLoss", validation.loss);
  ctx.metric("valAccuracy", validation.top1);
  ctx.metric("valTop5", validation.top5);
  ctx.metric("valPerplexity", validation.perplexity);
  ctx.metric("valContextFreeLoss", validation.contextFree!.loss);
  ctx.metric("testLoss", test.loss);
  ctx.metric("testAccuracy", test.top1);
  ctx.metric("testTop5", test.top5);
  ctx.metric("testSteps", test.steps);
  ctx.metric(
    "baselines",
    mapValues(baselines, (b) => ({ loss: b.loss, top1: b.top1, top5: b.top5 })),
  );
  ctx.info(
    `test (${test.steps} steps, scored once on epoch ${fit.keptEpoch}): loss ${
      test.loss.toFixed(4)
    }, ` +
      `accuracy ${percent(test.top1)} (top 5: ${
        percent(test.top5)
      }); baselines on the same steps: ` +
      Object.entries(baselines).map(([name, b]) => `${name} ${b.loss.toFixed(4)}`).join(", "),
  );
  const best = Object.entries(baselines).reduce((a, b) => (b[1].loss < a[1].loss ? b : a));
  if (test.loss >= best[1].loss) {
    ctx.warn(
      `the checkpoint kept scores test loss ${test.loss.toFixed(4)}, no better than the ` +
        `${best[1].loss.toFixed(4)} of the ${best[0]} baseline: try more epochs, another ` +
        "train.learningRate or more files",
    );
  }
}

function sequencesOf(s: TokenSequences): Int32Array[] {
  return splitSequences(s.ids, s.lengths).filter((f) => f.length > 0);
}

function steps(files: readonly Int32Array[]): number {
  return files.reduce((n, f) => n + f.length, 0);
}

function evaluation(s: { loss: number; top1: number; top5: number }): Evaluation {
  return { loss: s.loss, top1: s.top1, top5: s.top5, perplexity: Math.exp(s.loss) };
}

function mapValues<K extends string, A, B>(o: Record<K, A>, f: (a: A) => B): Record<K, B> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as A)])) as Record<K, B>;
}

function percent(v: number): string {
  return `${(100 * v).toFixed(1)}%`;
}
