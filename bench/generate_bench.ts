/**
 * How fast generation is: 500 tokens from a model of the tutorial's shape (two LSTM layers of
 * 256, Dense 128, a vocabulary of 200, windows of 100; weights from the recipe's seed, untrained,
 * which costs the same) in each `generate.mode`, against the issue's goals (window under 1 s,
 * stateful under 0.1 s). Window mode advances the 100 passes in flight together, one tick per
 * token; "window, a pass a token" is the path before that (one native call running a whole pass
 * per token) and "window via predict" the one before that: tfjs's predict around the fused
 * layer, whose per-step product went through OpenBLAS's sgemm. All three give the same bits.
 * Modes alternate in rounds, so a busy machine slows all alike.
 *
 * Run: `deno run --allow-read --allow-env --allow-sys --allow-ffi --allow-run
 * bench/generate_bench.ts [--rounds N] [--tokens N]`
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { buildModel, disposeModel } from "../model/build_model.ts";
import { selectBackend } from "../model/backend.ts";
import { type GenerationMode, nextTokenModel } from "../model/generation.ts";
import { resolveLstm } from "../model/lstm_implementation.ts";
import { argMax } from "../model/sampling.ts";

const args = [...Deno.args];
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const rounds = option("--rounds", 3);
const tokens = option("--tokens", 500);
const VOCAB = 200;
const WINDOW = 100;

await selectBackend("wasm");
const lstm = resolveLstm("auto");
const model = buildModel(
  { lstmUnits: 256, lstmLayers: 2, recurrentDropout: 0.3, denseUnits: 128, dropout: 0.3, seed: 1 },
  { vocabSize: VOCAB, windowLength: WINDOW, lstm },
);
const start = Array.from({ length: WINDOW }, (_, i) => (i * 37) % VOCAB);

/** Seconds for `tokens` greedy tokens in `mode`. */
function timeMode(mode: GenerationMode | "predict" | "one pass"): number {
  const t0 = performance.now();
  if (mode === "predict") {
    const window = [...start];
    for (let i = 0; i < tokens; i++) {
      const p = tf.tidy(() =>
        (model.predict(
          tf.tensor3d(Float32Array.from(window, (id) => id / VOCAB), [1, WINDOW, 1]),
        ) as tf.Tensor).dataSync()
      );
      window.push(argMax(p));
      window.shift();
    }
  } else {
    const next = mode === "one pass"
      ? nextTokenModel(model, VOCAB, "window", { passesInFlight: false })
      : nextTokenModel(model, VOCAB, mode);
    let p = next.start(start);
    for (let i = 1; i < tokens; i++) p = next.push(argMax(p));
  }
  return (performance.now() - t0) / 1000;
}

const cpu = (await new Deno.Command("grep", { args: ["-m1", "model name", "/proc/cpuinfo"] })
  .output().then((o) => new TextDecoder().decode(o.stdout)).catch(() => "")).replace(/^.*:\s*/, "")
  .trim();
console.log(`generate: ${tokens} tokens, LSTM ${lstm.id}, ${cpu || "unknown CPU"}`);
const modes = ["window", "stateful", "one pass", "predict"] as const;
const times = new Map<string, number[]>(modes.map((m) => [m, []]));
timeMode("window"); // the first call builds and probes the native code
for (let r = 0; r < rounds; r++) {
  for (const mode of modes) times.get(mode)!.push(timeMode(mode));
}
const goal: Record<string, string> = { window: "< 1 s", stateful: "< 0.1 s" };
const labels: Record<string, string> = {
  "one pass": "window, a pass a token",
  predict: "window via predict",
};
for (const mode of modes) {
  const t = times.get(mode)!;
  const label = labels[mode] ?? `${mode} mode`;
  console.log(
    `  ${label.padEnd(24)} best ${Math.min(...t).toFixed(3)} s, rounds ${
      t.map((x) => x.toFixed(3)).join(" ")
    }${mode in goal ? ` (goal ${goal[mode]})` : ""}`,
  );
}
disposeModel(model);
