/**
 * The pipeline's first stages at scale: a generated dataset of 100,000 MIDI files
 * (scripts/make_scale_dataset.ts, copies of the Groove files), `sample.count` 100,000, run up to
 * parse (`--until parse`) as a user runs it, each run a `pipeline.ts` subprocess timed from the
 * outside (wall clock including Deno's start-up; peak resident memory of the process):
 *
 * 1. `cold`: an empty store: scan hashes every file, sample200 draws, parse tokenizes them all;
 * 2. `cached`: the same command again, three times (every stage cached; the median);
 * 3. `touch`: 10 files touched (mtime changed, bytes not): scan reruns and reads only those, its
 *    output is the same bytes, so sample200 and parse stay cached;
 * 4. `edit`: 10 files edited (the low byte of their tempo, one more each time): scan reads only
 *    those, sample200 reruns, and parse tokenizes every file again (its input changed).
 *
 * Run: `deno run --allow-read --allow-write --allow-env --allow-sys --allow-run
 * bench/scale_bench.ts [--count N] [--dir DIR] [--steps cold,cached,touch,edit] [--store DIR]
 * [--project DIR]`. The dataset is made in DIR (default `$TMPDIR/deep-lstm-midi-scale-N`), or
 * reused when DIR already holds it; the edit step changes 10 of its files, so delete DIR when
 * done. `--store` keeps the store (to run the steps in several goes); `--project` runs another
 * checkout's pipeline.ts (to compare with the code before a change). Not part of `deno task
 * bench`: it takes minutes and 750 MB of disk.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PERMISSIONS } from "../cli/permissions.ts";
import { makeScaleDataset, tempoOffset } from "../scripts/make_scale_dataset.ts";
import { parseWorkerCount } from "../stages/support/parse_pool.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string" },
    dir: { type: "string" },
    steps: { type: "string" },
    store: { type: "string" },
    project: { type: "string" },
  },
});
const count = Number(values.count ?? 100_000);
const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
const dir = values.dir ?? `${tmp}/deep-lstm-midi-scale-${count}`;
const steps = (values.steps ?? "cold,cached,touch,edit").split(",");
const root = values.project ?? new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The MIDI files under `dir`, sorted. */
function midiFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(rel === "" ? dir : `${dir}/${rel}`)) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (/\.midi?$/i.test(e.name)) out.push(path);
    }
  };
  walk("");
  return out.sort();
}

let files: string[] = [];
try {
  files = midiFiles(dir);
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
if (files.length !== count) {
  console.log(`making ${count} files in ${dir}`);
  await makeScaleDataset(dir, count, `${root}/data/groove`, (l) => console.log(`  ${l}`));
  files = midiFiles(dir);
}

const timeBinary = await Deno.stat("/usr/bin/time").then(() => true, () => false);

interface Measured {
  wall: number;
  peakMiB: number;
  stages: Record<string, { cached: boolean; seconds: number }>;
  notes: string[];
}

/** Runs `pipeline.ts --until parse` once: wall clock, peak RSS and the run record's stages. */
async function run(): Promise<Measured> {
  const args = ["run", ...PERMISSIONS, `${root}/pipeline.ts`];
  args.push("--config", config, "--store", store, "--until", "parse");
  // /usr/bin/time reports the child's peak RSS exactly (getrusage); without it, VmHWM is polled.
  const command = timeBinary
    ? new Deno.Command("/usr/bin/time", {
      args: ["-f", "PEAK_KB %M", Deno.execPath(), ...args],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(Deno.execPath(), { args, cwd: root, stdout: "piped", stderr: "piped" });
  const t = performance.now();
  const child = command.spawn();
  // VmHWM is the high-water mark, so the last reading before the process ends is its peak
  // (Deno reads /proc only under --allow-all, so ask grep).
  let polledKb = 0;
  let running = true;
  const poll = timeBinary ? undefined : (async () => {
    while (running) {
      const grep = await new Deno.Command("grep", {
        args: ["VmHWM", `/proc/${child.pid}/status`],
        stdout: "piped",
        stderr: "null",
      }).output();
      const kb = Number(/(\d+)/.exec(new TextDecoder().decode(grep.stdout))?.[1] ?? 0);
      polledKb = Math.max(polledKb, kb);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const out = await child.output();
  const wall = (performance.now() - t) / 1000;
  running = false;
  await poll;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`pipeline failed:\n${stdout}\n${stderr}`);
  const peakKb = Number(/PEAK_KB (\d+)/.exec(stderr)?.[1] ?? polledKb);
  // --until runs are kept in the config's history only: take the newest record there.
  const [hash] = [...Deno.readDirSync(`${store}/runs`)].filter((e) => e.isDirectory)
    .map((e) => e.name);
  const newest = [...Deno.readDirSync(`${store}/runs/${hash}`)].map((e) => e.name)
    .filter((n) => n.endsWith(".json")).sort().at(-1);
  const record = JSON.parse(Deno.readTextFileSync(`${store}/runs/${hash}/${newest}`));
  const notes = stdout.split("\n").filter((l) => /^\s+scan: \d+ of \d+ files read/.test(l)).map((
    l,
  ) => l.trim());
  return { wall, peakMiB: peakKb / 1024, stages: record.stages, notes };
}

const show = (step: string, m: Measured) => {
  const stages = ["scan", "sample200", "parse"].map((s) => {
    const st = m.stages[s];
    return st === undefined
      ? "-"
      : `${s} ${st.cached ? "cached" : `ran ${st.seconds.toFixed(2)} s`}`;
  });
  console.log(
    `${step.padEnd(34)} ${m.wall.toFixed(2).padStart(7)} s ${
      m.peakMiB.toFixed(0).padStart(6)
    } MiB   ${stages.join(" · ")}`,
  );
  for (const n of m.notes) console.log(`${"".padEnd(36)}${n}`);
};

/** Ten files spread over the dataset. */
const ten = Array.from({ length: 10 }, (_, i) => files[Math.floor((i * files.length) / 10)]!);

const cpuinfo = await new Deno.Command("grep", { args: ["-m1", "model name", "/proc/cpuinfo"] })
  .output();
const cpu = new TextDecoder().decode(cpuinfo.stdout).replace(/^.*:\s*/, "").trim();
console.log(
  `${new Date().toISOString().slice(0, 10)} · ${cpu} · ${navigator.hardwareConcurrency} cores · ` +
    `Deno ${Deno.version.deno} · ${count} files in ${dir} · parse workers: ${
      parseWorkerCount(count)
    }${values.project ? ` (this checkout's) · project ${root}` : ""}`,
);
console.log(`${"step".padEnd(34)} ${"wall".padStart(9)} ${"peak RSS".padStart(10)}   stages`);
const work = await Deno.makeTempDir({ prefix: "scale-bench-" });
const store = values.store ?? `${work}/store`;
const config = `${work}/scale.yaml`;
await Deno.writeTextFile(
  config,
  `dataset:\n  dir: ${JSON.stringify(dir)}\nsample:\n  count: ${count}\n  seed: 42\n`,
);
try {
  if (steps.includes("cold")) show("empty store", await run());
  if (steps.includes("cached")) {
    const runs = [await run(), await run(), await run()].sort((a, b) => a.wall - b.wall);
    show("everything cached (median of 3)", runs[1]!);
  }
  if (steps.includes("touch")) {
    const now = new Date();
    for (const f of ten) await Deno.utime(`${dir}/${f}`, now, now);
    show("10 files touched", await run());
  }
  if (steps.includes("edit")) {
    for (const f of ten) {
      const bytes = await Deno.readFile(`${dir}/${f}`);
      const at = tempoOffset(bytes, f);
      // A microsecond more per quarter note, so every run of this step is a new edit.
      bytes[at + 2] = (bytes[at + 2]! + 1) & 0xff;
      await Deno.writeFile(`${dir}/${f}`, bytes);
    }
    show("10 files edited", await run());
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
