/**
 * Time to quality on the Groove recipe: training seconds until the validation loss (every step of
 * every validation file, from its start) first reaches a target (default 1.20 nats per step),
 * for this project's sequence network (model/sequence/fit.ts with configs/groove.yaml's train
 * settings) and for the same network in PyTorch (bench/groove_torch.py: nn.LSTM), on the same
 * token ids (bench/groove_export.ts), the same machine, one after the other in one run. Both
 * score the validation files after every epoch's worth of optimiser steps and stop at the first
 * score at or below the target; scoring time is not training time.
 *
 * Both run twice: with groove.yaml's settings (crop 256, batch 16, lr 0.01, dropout 0.3, weight
 * decay 0.2, clip 5, cosine over 30 epochs' steps), and with the settings that were best for
 * PyTorch on validation (groove_torch.py's defaults: crop 128, batch 32, lr 6e-3, dropout 0.5,
 * weight decay 0.2, clip 1); PyTorch at its faster thread count (1 or 2, timed first), scoring
 * after as many steps as one of our epochs holds (114 at crop 256, 91 at crop 128). PyTorch 2.x
 * CPU is needed: `python3 -m venv --system-site-packages V && V/bin/pip install --no-index
 * --no-deps /opt/wheels/torch-*.whl`, then TORCH_PYTHON=V/bin/python; without it the PyTorch
 * rows say why.
 *
 * Run: `TORCH_PYTHON=… deno task bench:groove [--target 1.20]`
 *
 * @module
 */
import { loadConfig } from "../core/config.ts";
import { selectBackend } from "../model/backend.ts";
import { resolveLstm } from "../model/lstm_implementation.ts";
import { epochBatches, fitSequenceModel } from "../model/sequence/fit.ts";
import { sequenceFitSettings } from "../stages/support/train_sequence.ts";
import { grooveTokenIds } from "./groove_export.ts";

const at = Deno.args.indexOf("--target");
const TARGET = at >= 0 ? Number(Deno.args[at + 1]) : 1.2;
const PYTHON = Deno.env.get("TORCH_PYTHON") ?? "python3";

interface Row {
  who: string;
  secondsToTarget: number | null;
  stepsToTarget: number | null;
  msPerStep: number;
  bestValidation: number;
  note: string;
}

const log = (line: string) => console.error(line);
const cpu = await cpuModel();
log(`CPU: ${cpu}`);
const data = await grooveTokenIds(new URL("../data/groove", import.meta.url).pathname, log);
const dataFile = await Deno.makeTempFile({ suffix: ".json" });
const rows: Row[] = [];
try {
  await Deno.writeTextFile(dataFile, JSON.stringify(data));
  const { config } = await loadConfig("groove.yaml");
  const train = config.train;
  // PyTorch's best settings (groove_torch.py's defaults, chosen on validation on PyTorch).
  const torchBest = {
    ...train,
    ...{ cropLength: 128, batchSize: 32, learningRate: 6e-3, dropout: 0.5, clipNorm: 1 },
  };
  for (
    const [name, settings] of [["groove.yaml's", train], ["PyTorch's best", torchBest]] as const
  ) {
    rows.push(await ours(`ours, ${name} settings`, settings));
    // PyTorch scores as often as we do (after each of our epochs' steps), over as many steps.
    const perEpoch = epochBatches(
      data.train.map((f) => f.length),
      settings.cropLength,
      settings.batchSize,
      0,
      1,
    ).length;
    rows.push(
      await torch(`PyTorch, ${name} settings`, [
        ...["--crop", String(settings.cropLength), "--batch", String(settings.batchSize)],
        ...["--lr", String(settings.learningRate), "--dropout", String(settings.dropout)],
        ...["--weight-decay", String(settings.weightDecay), "--clip", String(settings.clipNorm)],
        ...["--steps", String(settings.epochs * perEpoch), "--eval-every", String(perEpoch)],
      ]),
    );
  }
} finally {
  await Deno.remove(dataFile);
}

const cell = (v: number | null, digits: number) => v === null ? "not reached" : v.toFixed(digits);
// Each PyTorch row is compared with the row of ours just before it (the same settings).
console.log(`\nTime to a validation loss of ${TARGET} (${cpu}, ${new Date().toISOString()})\n`);
console.log(
  "| run | training s to target | steps | ms/step | best validation | ours ÷ this (same settings) |\n" +
    "| --- | --- | --- | --- | --- | --- |",
);
for (const [i, r] of rows.entries()) {
  const mine = rows[i - (i % 2)]!;
  const ratio = r.secondsToTarget && mine.secondsToTarget
    ? (mine.secondsToTarget / r.secondsToTarget).toFixed(2)
    : "n/a";
  console.log(
    `| ${r.who} | ${cell(r.secondsToTarget, 1)} | ${r.stepsToTarget ?? "–"} | ` +
      `${r.msPerStep.toFixed(1)} | ${r.bestValidation.toFixed(4)} | ${ratio} |${
        r.note ? ` ${r.note}` : ""
      }`,
  );
}

/** Our network with `train`'s settings, stopped at the first epoch at or under the target. */
async function ours(who: string, train: Parameters<typeof sequenceFitSettings>[0]): Promise<Row> {
  const { backend } = await selectBackend("auto");
  const lstm = resolveLstm("auto", backend);
  log(`ours: backend ${backend}, LSTM ${lstm.id}`);
  const fit = await fitSequenceModel(
    { files: data.train.map((f) => Int32Array.from(f)), vocabSize: data.unk + 1, stepsPerBar: 16 },
    data.validation.map((f) => Int32Array.from(f)),
    sequenceFitSettings(train, lstm),
    { info: log, until: (score) => score.loss <= TARGET },
  );
  const reached = fit.validation.findIndex((s) => s.loss <= TARGET);
  const seconds = fit.secondsPerEpoch.reduce((a, b) => a + b, 0);
  const steps = fit.stepsPerEpoch.reduce((a, b) => a + b, 0);
  const upTo = (xs: number[]) => xs.slice(0, reached + 1).reduce((a, b) => a + b, 0);
  return {
    who: `${who} (${backend}, LSTM ${lstm.id})`,
    secondsToTarget: reached < 0 ? null : upTo(fit.secondsPerEpoch),
    stepsToTarget: reached < 0 ? null : upTo(fit.stepsPerEpoch),
    msPerStep: 1000 * seconds / steps,
    bestValidation: Math.min(...fit.validation.map((s) => s.loss)),
    note: "",
  };
}

/** bench/groove_torch.py with `args`, stopped at the target. */
async function torch(who: string, args: string[]): Promise<Row> {
  const json = await Deno.makeTempFile({ suffix: ".json" });
  try {
    log(`${who}: ${PYTHON} bench/groove_torch.py ${args.join(" ")}`);
    const out = await new Deno.Command(PYTHON, {
      args: [
        new URL("./groove_torch.py", import.meta.url).pathname,
        dataFile,
        ...args,
        ...["--target", String(TARGET), "--stop-at-target", "--json", json],
      ],
      stdout: "inherit",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
      return { ...unavailable(who), note: `(did not run: ${why}; set TORCH_PYTHON)` };
    }
    const r = JSON.parse(await Deno.readTextFile(json));
    return {
      who: `${who} (torch ${r.torch}, ${r.threads} thread${r.threads === 1 ? "" : "s"})`,
      secondsToTarget: r.secondsToTarget,
      stepsToTarget: r.stepsToTarget,
      msPerStep: r.msPerStep,
      bestValidation: r.bestValidationLoss,
      note: "",
    };
  } catch (e) {
    return { ...unavailable(who), note: `(did not run: ${(e as Error).message})` };
  } finally {
    await Deno.remove(json).catch(() => {});
  }
}

function unavailable(who: string): Row {
  return {
    who,
    secondsToTarget: null,
    stepsToTarget: null,
    msPerStep: NaN,
    bestValidation: NaN,
    note: "",
  };
}

/** The CPU model; Deno reads /proc/cpuinfo only under --allow-all, so ask grep. */
async function cpuModel(): Promise<string> {
  try {
    const out = await new Deno.Command("grep", { args: ["-m1", "model name", "/proc/cpuinfo"] })
      .output();
    return new TextDecoder().decode(out.stdout).replace(/^.*:\s*/, "").trim() || "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}
