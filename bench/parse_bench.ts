/**
 * How fast the tokenizer is: tokenizes all 1,150 Groove files (bytes read beforehand, only
 * tokenizing timed) and prints ms per file, against music21 6.7.1's 0.15 s per file.
 *
 * Run: `deno run --allow-read bench/parse_bench.ts [DATASET_DIR] [--rounds N]`
 *
 * @module
 */
import { tokenizeMidi } from "../music/tokenize.ts";

const MUSIC21_MS_PER_FILE = 150;

const args = [...Deno.args];
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 5;
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
