/**
 * `deno task bench`: milliseconds per training step of the tutorial's recipe (configs/deep-lstm:
 * batch 32, window 100, 2 × LSTM 256, Dense 128, vocabulary 200, Adam, categorical
 * cross-entropy, through model.trainOnBatch) on every LSTM path this machine has, with and
 * without recurrent dropout (DECISIONS.md §13), beside the PyTorch reference measured in the same
 * run (bench/torch_step.py, one thread). Also times a 500-token greedy generation and projects
 * one epoch of 200 Groove files (1,400–2,000 steps, DECISIONS.md §14). Prints markdown for
 * BENCHMARKS.md. Timing lives here, never in the tests.
 *
 * Fair under noise: this machine's speed drifts by tens of percent within minutes, so the fast
 * path and PyTorch alternate in ROUNDS rounds (ours, then PyTorch, then ours...), each round
 * giving its own ratio; the summary reports medians of the rounds. The fast path is timed with
 * its native gate loops (model/fused/lstm_gates.c) and with the JS loops it falls back to.
 *
 * Slow paths (tf.layers.lstm, the fused layer without BLAS) are timed over one step so the
 * whole run stays within a few minutes; `--quick` runs one round of the fast path only.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { buildModel } from "../model/build_model.ts";
import { FusedLstm } from "../model/fused/fused_lstm.ts";
import {
  type FusedLstmImplementation,
  fusedLstmImplementation,
  fusedLstmSupport,
  type LstmImplementation,
  TFJS_LSTM,
} from "../model/lstm_implementation.ts";
import { type LstmProfile, LstmProfiler } from "../model/fused/lstm_profile.ts";

const BATCH = 32, WINDOW = 100, VOCAB = 200;
const quick = Deno.args.includes("--quick");
/** Alternating rounds of (ours, PyTorch), and steps timed per variant and round. */
const ROUNDS = quick ? 1 : 3;
const STEPS = 10;

interface Row {
  path: string;
  backend: string;
  recurrentDropout: number;
  steps: number;
  msPerStep: number;
  profile?: LstmProfile & { rest: number };
}

/**
 * Builds and compiles the recipe's model. Building is slow (tfjs's orthogonal initialiser runs
 * a QR in JS on each 256×1024 recurrent kernel), so each model is built once and reused across
 * backends (tfjs moves its variables on first use) and across the fused layer's implementations.
 */
function makeModel(lstm: LstmImplementation, recurrentDropout: number): tf.LayersModel {
  const model = buildModel(
    { lstmUnits: 256, lstmLayers: 2, recurrentDropout, denseUnits: 128, dropout: 0.3, seed: 1 },
    { vocabSize: VOCAB, windowLength: WINDOW, lstm },
  );
  model.compile({ optimizer: tf.train.adam(0.001), loss: "categoricalCrossentropy" });
  return model;
}

/** Puts the model's fused layers on `implementation`. */
function useImplementation(model: tf.LayersModel, implementation: FusedLstmImplementation): void {
  for (const l of model.layers) if (l instanceof FusedLstm) l.implementation = implementation;
}

/** Hands `profiler` (or none) to the model's fused layers. */
function useProfiler(model: tf.LayersModel, profiler: LstmProfiler | null): void {
  for (const l of model.layers) if (l instanceof FusedLstm) l.profiler = profiler;
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
  const profiler = profiled ? new LstmProfiler() : null;
  useProfiler(model, profiler);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const msPerStep = (performance.now() - t0) / steps;
  const row: Row = { path, backend, recurrentDropout, steps, msPerStep };
  const p = profiler?.snapshot();
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
  useProfiler(model, null);
  tf.dispose([x, y]);
  console.error(`  ${path} on ${backend}, rd ${recurrentDropout}: ${msPerStep.toFixed(1)} ms/step`);
  return row;
}

async function torchReference(
  threads: number,
  steps = STEPS,
): Promise<Record<string, number> | string> {
  try {
    // PyTorch 2.x where $TORCH_PYTHON names it (bench/groove_time_to_quality.ts says how), else
    // Debian's python3-torch.
    const out = await new Deno.Command(Deno.env.get("TORCH_PYTHON") ?? "/usr/bin/python3", {
      args: [
        new URL("./torch_step.py", import.meta.url).pathname,
        "--steps",
        String(steps),
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
const support = fusedLstmSupport();
const { blas } = support;
const native = support.gates;
/** The fused layer's variants here: products on BLAS (else tfjs's matMul), C or JS loops. */
const nativeImpl = native ? fusedLstmImplementation({ gemm: "blas", gates: "native" }) : null;
const jsImpl = fusedLstmImplementation({ gemm: blas ? "blas" : "tfjs", gates: "js" });
const defaultImpl = nativeImpl ?? jsImpl;
const rows: Row[] = [];
const rates = [0.3, 0];
const fast = blas ? "fused + OpenBLAS" : "fused, tfjs matMul (no BLAS)";
const nativePath = `${fast}, native gates`;
const jsPath = `${fast}, JS gates`;
/** The path the layer takes by default here, for the rows timed once. */
const defaultPath = native ? nativePath : jsPath;
await tf.setBackend("wasm");
const fused = rates.map((rd) => makeModel(defaultImpl, rd));

/** One round: our fast path (native gates, then JS gates) for each rate, then PyTorch. */
interface Round {
  ours: Row[];
  torch: Record<string, number> | string;
}
const rounds: Round[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  console.error(`round ${round}/${ROUNDS}`);
  const ours: Row[] = [];
  for (const [i, rd] of rates.entries()) {
    if (nativeImpl) {
      useImplementation(fused[i]!, nativeImpl);
      ours.push(await timeSteps(nativePath, "wasm", fused[i]!, rd, 2, STEPS, true));
    }
    useImplementation(fused[i]!, jsImpl);
    ours.push(await timeSteps(jsPath, "wasm", fused[i]!, rd, 2, STEPS, true));
    useImplementation(fused[i]!, defaultImpl);
  }
  rounds.push({ ours, torch: await torchReference(1) });
}
const torch2 = quick ? "skipped" : await torchReference(2);
if (!quick) {
  // Like for like with the one-thread PyTorch: every product on one thread.
  blas?.setBigGemmThreads(1);
  for (const [i, rd] of rates.entries()) {
    rows.push(await timeSteps(`${defaultPath}, 1 thread`, "wasm", fused[i]!, rd, 1, STEPS, true));
  }
  blas?.setBigGemmThreads(2);
  for (const [i, rd] of rates.entries()) {
    rows.push(await timeSteps(defaultPath, "cpu", fused[i]!, rd, 1, 3, true));
  }
  if (blas) {
    for (const [i, rd] of rates.entries()) {
      // The native loops call OpenBLAS themselves: the fallback product runs the JS loops.
      useImplementation(fused[i]!, fusedLstmImplementation({ gemm: "tfjs", gates: "js" }));
      const path = "fused, tfjs matMul fallback";
      rows.push(await timeSteps(path, "wasm", fused[i]!, rd, 0, 1, false));
      useImplementation(fused[i]!, defaultImpl);
    }
  }
  await tf.setBackend("wasm");
  for (const rd of rates) {
    const model = makeModel(TFJS_LSTM, rd);
    rows.push(await timeSteps("tf.layers.lstm", "wasm", model, rd, 0, 1, false));
    model.dispose();
  }
}
const genMs = await timeGeneration(fused[0]!, 500);
fused.forEach((m) => m.dispose());

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const torchOf = (t: Record<string, number> | string, rd: number) =>
  typeof t === "string" ? undefined : t[`recurrentDropout${rd}`];
/** Median over rounds of PyTorch's ms/step at `rd`. */
const torchMedian = (rd: number) =>
  median(rounds.map((r) => torchOf(r.torch, rd)).filter((v): v is number => v !== undefined));
const ratioCell = (ours: number, torch: number | undefined) =>
  torch === undefined || Number.isNaN(torch) ? "n/a" : (ours / torch).toFixed(2);

const lines: string[] = [];
lines.push(`Date: ${new Date().toISOString().slice(0, 10)}`);
lines.push(
  `Machine: ${await machine()}; Deno ${Deno.version.deno}, ` +
    `tfjs ${tf.version.tfjs}; BLAS: ${blas?.path ?? "none"} (${
      blas?.threads() ?? "-"
    } thread); gate loops: ${
      native
        ? `native (${native.simd ? "AVX2+FMA" : "baseline"} build of model/fused/lstm_gates.c)`
        : `JS only (${support.gatesFailure})`
    }`,
);
lines.push("Command: `deno task bench`");
lines.push("");
lines.push(
  `Rounds, alternating in one run (${STEPS} steps per variant and round after 2 warm-up ` +
    "steps; PyTorch one thread):",
);
lines.push("");
lines.push(
  "| round | recurrent dropout | ours, native gates ms/step | ours, JS gates ms/step | " +
    "PyTorch ms/step | ratio (native) | ratio (JS) |",
);
lines.push("|---|---|---|---|---|---|---|");
const pick = (r: Round, path: string, rd: number) =>
  r.ours.find((o) => o.path === path && o.recurrentDropout === rd);
for (const [i, r] of rounds.entries()) {
  for (const rd of rates) {
    const n = pick(r, nativePath, rd), j = pick(r, jsPath, rd);
    const t = torchOf(r.torch, rd);
    lines.push(
      `| ${i + 1} | ${rd} | ${n ? fmt(n.msPerStep) : "n/a"} | ${j ? fmt(j.msPerStep) : "n/a"} | ${
        t === undefined ? "n/a" : fmt(t)
      } | ${n ? ratioCell(n.msPerStep, t) : "n/a"} | ${j ? ratioCell(j.msPerStep, t) : "n/a"} |`,
    );
  }
}
for (const r of rounds) {
  if (typeof r.torch === "string") lines.push(`\nPyTorch reference unavailable: ${r.torch}`);
}
lines.push("");
lines.push("Medians over the rounds, and the other paths (timed once):");
lines.push("");
lines.push(
  "| LSTM path | tfjs backend | recurrent dropout | steps timed | ms/step | " +
    "PyTorch ms/step (1 thread, median) | ratio | PyTorch ms/step (2 threads) |",
);
lines.push("|---|---|---|---|---|---|---|---|");
const summary: Row[] = [];
for (const path of native ? [nativePath, jsPath] : [jsPath]) {
  for (const rd of rates) {
    const runs = rounds.map((r) => pick(r, path, rd)).filter((o): o is Row => o !== undefined);
    const ratios = rounds.flatMap((r) => {
      const o = pick(r, path, rd), t = torchOf(r.torch, rd);
      return o && t !== undefined ? [o.msPerStep / t] : [];
    });
    const ms = median(runs.map((o) => o.msPerStep));
    summary.push({ path, backend: "wasm", recurrentDropout: rd, steps: STEPS, msPerStep: ms });
    lines.push(
      `| ${path} (median of ${runs.length}) | wasm | ${rd} | ${STEPS} × ${runs.length} | ${
        fmt(ms)
      } | ${fmt(torchMedian(rd))} | ${
        ratios.length
          ? `${median(ratios).toFixed(2)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(", ")})`
          : "n/a"
      } | ${fmt(torchOf(torch2, rd) ?? NaN)} |`,
    );
  }
}
for (const r of rows) {
  const t = torchMedian(r.recurrentDropout);
  lines.push(
    `| ${r.path} | ${r.backend} | ${r.recurrentDropout} | ${r.steps} | ${fmt(r.msPerStep)} | ${
      fmt(t)
    } | ${ratioCell(r.msPerStep, t)} | ${fmt(torchOf(torch2, r.recurrentDropout) ?? NaN)} |`,
  );
}
lines.push("");
lines.push("Profile of the fast path by kernel (ms per step, median over rounds for wasm):");
lines.push("");
lines.push(
  "| path | backend | recurrent dropout | BLAS sgemm | gates forward | gates backward | " +
    "tfjs↔JS copies | rest of the model in tfjs (Dense, BatchNorm, Adam, loss) |",
);
lines.push("|---|---|---|---|---|---|---|---|");
const profiled = [
  ...[nativePath, jsPath].flatMap((path) =>
    rates.flatMap((rd) => {
      const ps = rounds.map((r) => pick(r, path, rd)?.profile).filter((p) => p !== undefined);
      if (ps.length === 0) return [];
      const m = (k: keyof LstmProfile | "rest") => median(ps.map((p) => p[k]));
      return [{
        path,
        backend: "wasm",
        rd,
        p: {
          gemm: m("gemm"),
          gatesForward: m("gatesForward"),
          gatesBackward: m("gatesBackward"),
          transfer: m("transfer"),
          rest: m("rest"),
        },
      }];
    })
  ),
  ...rows.filter((r) => r.profile && r.backend === "cpu").map((r) => ({
    path: r.path,
    backend: r.backend,
    rd: r.recurrentDropout,
    p: r.profile!,
  })),
];
for (const { path, backend, rd, p } of profiled) {
  lines.push(
    `| ${path} | ${backend} | ${rd} | ${fmt(p.gemm)} | ${fmt(p.gatesForward)} | ${
      fmt(p.gatesBackward)
    } | ${fmt(p.transfer)} | ${fmt(p.rest)} |`,
  );
}
const best = summary.find((r) =>
  r.path === (native ? nativePath : jsPath) && r.recurrentDropout === 0.3
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
if (!quick && native && blas) lines.push("", ...(await fairComparison()));
console.log(lines.join("\n"));

/**
 * The issue's fair comparison, recurrent dropout 0.3 (the recipe): our step with the recurrence on
 * two threads and on one, PyTorch at one thread and at two, alternating in rounds; PyTorch's best
 * setting is the reference. Beside it our achieved GFLOP/s and the machine's own sgemm peak,
 * measured in the same run (a 1024³ product on one and on two threads).
 */
async function fairComparison(): Promise<string[]> {
  const model = makeModel(nativeImpl!, 0.3);
  const ours = (threads: number) => {
    native!.setThreads(threads);
    return timeSteps(
      `recurrence on ${threads} thread${threads > 1 ? "s" : ""}`,
      "wasm",
      model,
      0.3,
      2,
      STEPS,
      false,
    );
  };
  const byThreads: Record<string, number[]> = { ours2: [], ours1: [], torch1: [], torch2: [] };
  const before = native!.threads;
  for (let round = 0; round < ROUNDS; round++) {
    byThreads.ours2!.push((await ours(2)).msPerStep);
    byThreads.ours1!.push((await ours(1)).msPerStep);
    for (const t of [1, 2]) {
      const ms = torchOf(await torchReference(t), 0.3);
      if (ms !== undefined) byThreads[`torch${t}`]!.push(ms);
    }
  }
  native!.setThreads(before);
  model.dispose();
  // The products of a step: forward X·W and h·R per layer, backward about twice as many.
  const layerFlops = (d: number) => 2 * BATCH * WINDOW * (d + 256) * 4 * 256;
  const stepFlops = 3 * (layerFlops(1) + layerFlops(256));
  const n = 1024, a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
  const peak = (threads: number) => {
    blas!.setBigGemmThreads(threads);
    blas!.sgemm(false, false, n, n, n, 1, a, n, a, n, 0, c, n);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) blas!.sgemm(false, false, n, n, n, 1, a, n, a, n, 0, c, n);
    return (5 * 2 * n ** 3) / ((performance.now() - t0) / 1000) / 1e9;
  };
  const peaks = [peak(1), peak(2)];
  blas!.setBigGemmThreads(2);
  const med = (k: string) => median(byThreads[k]!);
  const torchBest = Math.min(med("torch1"), med("torch2"));
  const cell = (x: number, digits: number) => Number.isFinite(x) ? x.toFixed(digits) : "n/a";
  const row = (label: string, k: string) =>
    `| ${label} | ${byThreads[k]!.map(fmt).join(", ") || "n/a"} | ${cell(med(k), 1)} | ${
      cell(med(k) / torchBest, 2)
    } | ${cell(stepFlops / (med(k) / 1000) / 1e9, 1)} |`;
  return [
    `Fair comparison, recurrent dropout 0.3, ${ROUNDS} alternating rounds of ${STEPS} steps ` +
    `(${(stepFlops / 1e9).toFixed(1)} GFLOP of products per step); sgemm peak here: ` +
    `${peaks[0]!.toFixed(1)} GFLOP/s on one thread, ${peaks[1]!.toFixed(1)} on two:`,
    "",
    "| step | ms per round | median ms | ratio to PyTorch's best | GFLOP/s |",
    "|---|---|---|---|---|",
    row("ours, recurrence on 2 threads", "ours2"),
    row("ours, recurrence on 1 thread", "ours1"),
    row("PyTorch, 1 thread", "torch1"),
    row("PyTorch, 2 threads", "torch2"),
  ];
}
