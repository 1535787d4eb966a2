/**
 * `deno task bench`: milliseconds per training step of the tutorial's recipe (configs/deep-lstm:
 * batch 32, window 100, 2 × LSTM 256, Dense 128, vocabulary 200, Adam, categorical
 * cross-entropy, through model.trainOnBatch) on every LSTM path this machine has, with and
 * without recurrent dropout (DECISIONS.md §13), beside the PyTorch reference measured in the same
 * run (bench/torch_step.py, one thread). Also times a 500-token greedy generation and projects
 * one epoch of 200 Groove files (1,400–2,000 steps, DECISIONS.md §14). Prints markdown for
 * BENCHMARKS.md. Timing lives here, never in the tests.
 *
 * Slow paths (tf.layers.lstm, the fused layer without BLAS) are timed over one step so the
 * whole run stays within a few minutes; `--quick` times only the fast path.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { buildModel } from "../model/build_model.ts";
import { loadBlas, setBigGemmThreads } from "../model/blas.ts";
import {
  FusedLstm,
  type FusedLstmProfile,
  fusedLstmProfile,
  profileFusedLstm,
} from "../model/fused_lstm.ts";
import { blasLibraryPath } from "../model/lstm_kernel.ts";

const BATCH = 32, WINDOW = 100, VOCAB = 200;
const quick = Deno.args.includes("--quick");

interface Row {
  path: string;
  backend: string;
  recurrentDropout: number;
  steps: number;
  msPerStep: number;
  profile?: FusedLstmProfile & { rest: number };
}

/**
 * Builds and compiles the recipe's model. Building is slow (tfjs's orthogonal initialiser runs
 * a QR in JS on each 256×1024 recurrent kernel), so each model is built once and reused across
 * backends (tfjs moves its variables on first use) and across the fused layer's two products.
 */
function makeModel(kernel: "blas" | "tfjs", recurrentDropout: number): tf.LayersModel {
  const model = buildModel(
    { lstmUnits: 256, lstmLayers: 2, recurrentDropout, denseUnits: 128, dropout: 0.3, seed: 1 },
    { vocabSize: VOCAB, windowLength: WINDOW, kernel },
  );
  model.compile({ optimizer: tf.train.adam(0.001), loss: "categoricalCrossentropy" });
  return model;
}

function setGemm(model: tf.LayersModel, choice: "blas" | "tfjs"): void {
  for (const l of model.layers) if (l instanceof FusedLstm) l.setGemm(choice);
}

function batch() {
  return tf.tidy(() => {
    const x = tf.randomUniform([BATCH, WINDOW, 1], 0, 1, "float32", 1);
    const ids = tf.randomUniform([BATCH], 0, VOCAB, "int32", 2);
    return { x, y: tf.oneHot(ids, VOCAB).toFloat() };
  });
}

async function timeSteps(
  path: string,
  backend: string,
  model: tf.LayersModel,
  recurrentDropout: number,
  warmup: number,
  steps: number,
  profiled: boolean,
): Promise<Row> {
  await tf.setBackend(backend);
  await tf.ready();
  const { x, y } = batch();
  for (let i = 0; i < warmup; i++) await model.trainOnBatch(x, y);
  profileFusedLstm(profiled);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const msPerStep = (performance.now() - t0) / steps;
  const row: Row = { path, backend, recurrentDropout, steps, msPerStep };
  const p = fusedLstmProfile();
  if (p) {
    const per = {
      transfer: p.transfer / steps,
      gemm: p.gemm / steps,
      gatesForward: p.gatesForward / steps,
      gatesBackward: p.gatesBackward / steps,
    };
    const lstm = per.transfer + per.gemm + per.gatesForward + per.gatesBackward;
    row.profile = { ...per, rest: msPerStep - lstm };
  }
  profileFusedLstm(false);
  tf.dispose([x, y]);
  console.error(`  ${path} on ${backend}, rd ${recurrentDropout}: ${msPerStep.toFixed(1)} ms/step`);
  return row;
}

async function torchReference(threads: number): Promise<Record<string, number> | string> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [
        new URL("./torch_step.py", import.meta.url).pathname,
        "--steps",
        "10",
        "--threads",
        String(threads),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
    const json = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      torch: string;
      msPerStep: Record<string, number>;
    };
    console.error(`  PyTorch ${json.torch}: ${JSON.stringify(json.msPerStep)}`);
    return json.msPerStep;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

async function timeGeneration(model: tf.LayersModel, tokens: number): Promise<number> {
  await tf.setBackend("wasm");
  const window = Array.from({ length: WINDOW }, (_, i) => (i % VOCAB) / VOCAB);
  const t0 = performance.now();
  for (let i = 0; i < tokens; i++) {
    const next = tf.tidy(() => {
      const p = model.predict(tf.tensor3d(window, [1, WINDOW, 1])) as tf.Tensor;
      return p.argMax(-1).dataSync()[0]!;
    });
    window.shift();
    window.push(next / VOCAB);
  }
  return performance.now() - t0;
}

/** `nproc` and the CPU model; Deno reads /proc/cpuinfo only under --allow-all, so ask grep. */
async function machine(): Promise<string> {
  const run = async (cmd: string, args: string[]) => {
    try {
      const out = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
      return new TextDecoder().decode(out.stdout).trim();
    } catch {
      return "";
    }
  };
  const nproc = await run("nproc", []);
  const cpu = (await run("grep", ["-m1", "model name", "/proc/cpuinfo"])).replace(/^.*:\s*/, "");
  return `${nproc || "?"} CPUs (nproc), ${cpu || "unknown CPU"}`;
}

const fmt = (n: number) => n.toFixed(1);

console.error("timing (progress on stderr, results on stdout)...");
const blas = loadBlas();
const rows: Row[] = [];
const rates = [0.3, 0];
const fast = blas ? "fused + OpenBLAS" : "fused, tfjs matMul (no BLAS)";
await tf.setBackend("wasm");
const fused = rates.map((rd) => makeModel("blas", rd));
if (!blas) fused.forEach((m) => setGemm(m, "tfjs"));
for (const [i, rd] of rates.entries()) {
  rows.push(await timeSteps(fast, "wasm", fused[i]!, rd, 2, 10, true));
}
const torch = await torchReference(1);
const torch2 = quick ? "skipped" : await torchReference(2);
if (!quick) {
  // Like for like with the one-thread PyTorch: every product on one thread.
  setBigGemmThreads(1);
  for (const [i, rd] of rates.entries()) {
    rows.push(await timeSteps(`${fast}, 1 thread`, "wasm", fused[i]!, rd, 1, 10, true));
  }
  setBigGemmThreads(2);
  for (const [i, rd] of rates.entries()) {
    rows.push(await timeSteps(fast, "cpu", fused[i]!, rd, 1, 3, true));
  }
  if (blas) {
    for (const [i, rd] of rates.entries()) {
      setGemm(fused[i]!, "tfjs");
      const path = "fused, tfjs matMul fallback";
      rows.push(await timeSteps(path, "wasm", fused[i]!, rd, 0, 1, false));
      setGemm(fused[i]!, "blas");
    }
  }
  await tf.setBackend("wasm");
  for (const rd of rates) {
    const model = makeModel("tfjs", rd);
    rows.push(await timeSteps("tf.layers.lstm", "wasm", model, rd, 0, 1, false));
    model.dispose();
  }
}
const genMs = await timeGeneration(fused[0]!, 500);
fused.forEach((m) => m.dispose());

const torchMs = (rd: number, t: Record<string, number> | string = torch) =>
  typeof t === "string" ? undefined : t[`recurrentDropout${rd}`];
const lines: string[] = [];
lines.push(`Date: ${new Date().toISOString().slice(0, 10)}`);
lines.push(
  `Machine: ${await machine()}; Deno ${Deno.version.deno}, ` +
    `tfjs ${tf.version.tfjs}; BLAS: ${blasLibraryPath() ?? "none"} (${
      blas?.threads() ?? "-"
    } thread)`,
);
lines.push("Command: `deno task bench`");
lines.push("");
lines.push(
  "| LSTM path | tfjs backend | recurrent dropout | steps timed | ms/step | " +
    "PyTorch ms/step (1 thread) | ratio | PyTorch ms/step (2 threads) |",
);
lines.push("|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const t = torchMs(r.recurrentDropout);
  lines.push(
    `| ${r.path} | ${r.backend} | ${r.recurrentDropout} | ${r.steps} | ${fmt(r.msPerStep)} | ${
      t === undefined ? "n/a" : fmt(t)
    } | ${t === undefined ? "n/a" : (r.msPerStep / t).toFixed(2)} | ${
      fmt(torchMs(r.recurrentDropout, torch2) ?? NaN)
    } |`,
  );
}
if (typeof torch === "string") lines.push(`\nPyTorch reference unavailable: ${torch}`);
lines.push("");
lines.push("Profile of the fast path by kernel (ms per step):");
lines.push("");
lines.push(
  "| backend | recurrent dropout | BLAS sgemm | gates forward (JS) | gates backward (JS) | " +
    "tfjs↔JS copies | rest of the model in tfjs (Dense, BatchNorm, Adam, loss) |",
);
lines.push("|---|---|---|---|---|---|---|");
for (const r of rows) {
  if (!r.profile || r.path !== fast) continue;
  const p = r.profile;
  lines.push(
    `| ${r.backend} | ${r.recurrentDropout} | ${fmt(p.gemm)} | ${fmt(p.gatesForward)} | ${
      fmt(p.gatesBackward)
    } | ${fmt(p.transfer)} | ${fmt(p.rest)} |`,
  );
}
const best = rows.find((r) =>
  r.path === fast && r.backend === "wasm" && r.recurrentDropout === 0.3
);
lines.push("");
lines.push(
  `Generation: 500 tokens, greedy, window 100, fast path on wasm: ${fmt(genMs / 1000)} s.`,
);
if (best) {
  const epoch = (steps: number) => (best.msPerStep * steps) / 60000;
  lines.push(
    `One epoch of the recipe (200 Groove files, 1,400–2,000 steps at ${
      fmt(best.msPerStep)
    } ms/step): ${epoch(1400).toFixed(1)}–${epoch(2000).toFixed(1)} min; 30 epochs: ${
      (epoch(1400) * 30 / 60).toFixed(1)
    }–${(epoch(2000) * 30 / 60).toFixed(1)} h.`,
  );
}
console.log(lines.join("\n"));
