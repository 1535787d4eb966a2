/**
 * Wall-clock figures of whole runs, as a user sees them: configs/quick.yaml on an empty store,
 * then the same command again (every stage cached), each as `deno task pipeline` subprocesses.
 *
 * Run: `deno task bench` (all benchmarks) or
 * `deno run --allow-read --allow-write --allow-run --allow-env bench/pipeline_bench.ts`.
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname;

async function timed(args: string[]): Promise<number> {
  const t = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "pipeline", ...args],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`pipeline ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return (performance.now() - t) / 1000;
}

const store = await Deno.makeTempDir({ prefix: "bench-store-" });
const args = ["--config", "quick.yaml", "--store", store, "--quiet"];
const cold = await timed(args);
const cached: number[] = [];
for (let i = 0; i < 5; i++) cached.push(await timed(args));
cached.sort((a, b) => a - b);
await Deno.remove(store, { recursive: true });

console.log(
  "pipeline (deno task pipeline --config quick.yaml), wall clock including Deno start-up:",
);
console.log(`  empty store, every stage runs   ${cold.toFixed(1)} s`);
console.log(
  `  second run, everything cached   ${cached[2]!.toFixed(2)} s (median of 5; min ${
    cached[0]!.toFixed(2)
  }, max ${cached[4]!.toFixed(2)})`,
);
