/**
 * How fast the tokenizer is: tokenizes all 1,150 Groove files (bytes read beforehand, only
 * tokenizing timed) and prints ms per file, against music21 6.7.1's 0.15 s per file. Then the
 * shapes that were once slow or ran out of memory (tests/_slow_shapes.ts), each at several
 * sizes up to parse.maxFileBytes: ms per MB and peak memory stay flat when time and memory grow
 * linearly with the file.
 *
 * Run: `deno run --allow-read bench/parse_bench.ts [DATASET_DIR] [--rounds N]
 * [--sizes 64K,256K,1M,4M,16M] [--shapes notes,chordTick,...]`
 *
 * @module
 */
import { SLOW_SHAPES, type SlowShape } from "../tests/_slow_shapes.ts";
import { tokenizeMidi } from "../music/tokenize.ts";
import type { ShapeJob, ShapeResult } from "./_parse_shape_worker.ts";

const MUSIC21_MS_PER_FILE = 150;

const args = [...Deno.args];
/** Removes `--name VALUE` from the arguments and returns VALUE. */
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const rounds = Number(option("--rounds") ?? 5);
const sizes = (option("--sizes") ?? "64K,256K,1M,4M,16M").split(",").map((s) =>
  Number(s.replace(/[KM]$/i, "")) * (/M$/i.test(s) ? 1 << 20 : /K$/i.test(s) ? 1 << 10 : 1)
);
const shapes = (option("--shapes")?.split(",") ?? Object.keys(SLOW_SHAPES)) as SlowShape[];
const dir = args[0] ?? new URL("../data/groove", import.meta.url).pathname;

const paths: string[] = [];
async function walk(d: string) {
  for await (const e of Deno.readDir(d)) {
    const p = `${d}/${e.name}`;
    if (e.isDirectory) await walk(p);
    else if (/\.midi?$/i.test(e.name)) paths.push(p);
  }
}
await walk(dir);
paths.sort();
const files = await Promise.all(paths.map((p) => Deno.readFile(p)));
const bytes = files.reduce((n, f) => n + f.length, 0);

let tokens = 0;
let empty = 0;
const times: number[] = [];
for (let round = 0; round <= rounds; round++) {
  const start = performance.now();
  let count = 0;
  let none = 0;
  for (const f of files) {
    const n = tokenizeMidi(f).length;
    count += n;
    if (n === 0) none++;
  }
  const ms = performance.now() - start;
  if (round === 0) {
    tokens = count;
    empty = none;
    console.log(`first (cold) pass: ${(ms / files.length).toFixed(3)} ms/file`);
  } else {
    times.push(ms);
  }
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const perFile = median / files.length;
console.log(
  `${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${tokens} tokens, ${empty} empty`,
);
console.log(
  `median of ${rounds} warm passes: ${median.toFixed(1)} ms, ${perFile.toFixed(3)} ms/file, ` +
    `${(MUSIC21_MS_PER_FILE / perFile).toFixed(0)}x music21's ${MUSIC21_MS_PER_FILE} ms/file`,
);

/** The process's resident memory, sampled every 2 ms while `work` runs: its highest value. */
async function peakRss<T>(work: Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 2);
  try {
    return { value: await work, peak };
  } finally {
    clearInterval(timer);
  }
}

/** Tokenizes one shape in a fresh worker; its memory is the process's peak above the start. */
async function measure(job: ShapeJob): Promise<ShapeResult & { rss: number }> {
  const worker = new Worker(new URL("./_parse_shape_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const messages: ((data: unknown) => void)[] = [];
    worker.onmessage = (e) => messages.shift()?.(e.data);
    const next = () => new Promise<unknown>((resolve) => messages.push(resolve));
    const built = next();
    worker.postMessage(job);
    await built;
    const before = Deno.memoryUsage().rss;
    const { value, peak } = await peakRss(next() as Promise<ShapeResult>);
    return { ...value, rss: peak - before };
  } finally {
    worker.terminate();
  }
}

const mb = (bytes: number) => bytes / (1 << 20);
console.log(
  "\nslow shapes, each in a fresh worker (time after a 64 KB warm-up; memory: the process's peak" +
    " resident set while tokenizing, above where it stood with the file built):",
);
console.log("shape        size       ms     ms/MB   peak MB  tokens");
for (const shape of shapes) {
  for (const size of sizes) {
    const r = await measure({ shape, bytes: size });
    console.log(
      `${shape.padEnd(10)} ${mb(r.bytes).toFixed(2).padStart(6)} MB ${
        r.ms.toFixed(0).padStart(6)
      } ` +
        `${(r.ms / mb(r.bytes)).toFixed(0).padStart(8)} ${
          mb(r.rss).toFixed(0).padStart(8)
        }  ${r.tokens}`,
    );
  }
}
