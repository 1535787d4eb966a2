/**
 * Input from outside the pipeline that must not be trusted, end to end through the CLI
 * where the user meets it: a primer that is a device, a FIFO or a folder (once read until the
 * machine ran out of memory, or forever); SIGTERM and SIGHUP (once an instant death that left
 * the synthesizer's temp folders behind); dataset names holding terminal escapes (once written
 * raw to the terminal); a system folder as dataset.dir, a folder or FIFO as --config, symlinks in
 * the dataset and a damaged cached object (once a raw Deno message, a hang, or silence).
 */
import assert from "node:assert/strict";
import { configHash, resolveConfig } from "../core/config.ts";
import { runPipeline } from "../core/runner.ts";
import type { Store } from "../core/storage.ts";
import { LocalStore } from "../store/store.ts";
import { systemSynthesizer } from "../audio/synth.ts";
import { PERMISSIONS } from "../cli/permissions.ts";
import { project, STAGES } from "./_fake_dag.ts";
import { assertOneLine, collectingReporter, GROOVE, PROJECT_ROOT, SMALL_RUN } from "./_helpers.ts";

const text = new TextDecoder();

/**
 * Runs `deno task pipeline ARGS` as {@link pipeline} in _helpers.ts does, but killed after
 * `seconds`: a run that hangs (on a FIFO) fails the test instead of stopping the suite.
 */
async function pipelineWithin(seconds: number, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "pipeline.ts", ...args],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(seconds * 1000),
  }).output();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Makes a FIFO (named pipe) at `path`. */
export async function mkfifo(path: string): Promise<void> {
  const { success } = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(success, `mkfifo ${path}`);
}

Deno.test("generate.prime that is a FIFO, a folder, /dev/zero or a symlink to it: one sentence, at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "prime-special-" });
  await mkfifo(`${dir}/fifo.mid`);
  await Deno.mkdir(`${dir}/folder.mid`);
  await Deno.symlink("/dev/zero", `${dir}/zero.mid`);
  const cases: [string, string][] = [
    // The FIFO first: without the check it blocks on open, and the timeout fails the test.
    [`${dir}/fifo.mid`, "a FIFO"],
    [`${dir}/folder.mid`, "a folder"],
    [`${dir}/zero.mid`, "a character device"],
    ["/dev/zero", "a character device"],
  ];
  for (const [path, kind] of cases) {
    const t0 = performance.now();
    const r = await pipelineWithin(
      30,
      "--config",
      "quick.yaml",
      "--set",
      `generate.prime=${path}`,
      "--store",
      `${dir}/store`,
    );
    assert.equal(r.code, 2, `${path}: ${r.stderr}`);
    assertOneLine(
      r.stderr,
      new RegExp(
        `^error: .*quick\\.yaml: generate\\.prime ${path} is not a regular file \\(it is ${kind}\\); give a MIDI file`,
      ),
    );
    assert.doesNotMatch(r.stdout, /▶/, "no stage ran");
    assert.ok(performance.now() - t0 < 20_000, `${path} took ${performance.now() - t0} ms`);
  }
  await Deno.remove(dir, { recursive: true });
});

const real = await systemSynthesizer().describe();
const noSynth = real.available ? undefined : real.reason;

Deno.test({
  name: `SIGTERM and SIGHUP during the audio stage stop the run as Ctrl-C does${
    noSynth ? ` (skipped: ${noSynth})` : ""
  }`,
  ignore: noSynth !== undefined,
  async fn() {
    // The run's own temp folder, to see what the synthesizer leaves in it.
    const tmp = await Deno.makeTempDir({ prefix: "stop-signal-" });
    const synthDirs = () =>
      [...Deno.readDirSync(tmp)].filter((e) => e.name.startsWith("deep-lstm-midi-synth-"));
    // The first run computes every stage before audio (cached for the second one); a longer
    // piece keeps fluidsynth busy for a few seconds.
    for (const signal of ["SIGTERM", "SIGHUP"] as const) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...PERMISSIONS,
          "pipeline.ts",
          ...SMALL_RUN,
          "--set",
          "generate.length=1024",
          "--store",
          `${tmp}/store`,
        ],
        cwd: PROJECT_ROOT,
        env: { TMPDIR: tmp },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const stderr = new Response(child.stderr).text();
      let stdout = "";
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      while (!stdout.includes("▶ audio: running")) {
        const { value, done } = await reader.read();
        if (done) break;
        stdout += value;
      }
      assert.match(stdout, /▶ audio: running/, `${signal}: the run reached audio`);
      // Once fluidsynth has its temp folder: the signal must not leave it behind.
      for (let i = 0; i < 100 && synthDirs().length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill(signal);
      const drained = (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) stdout += r.value;
      })();
      const { code } = await child.status;
      clearTimeout(killer);
      await drained;
      const err = await stderr;
      assert.equal(code, 130, `${signal}: exit status\n${err}`);
      assert.match(
        err,
        new RegExp(`^interrupting: finishing the current step \\(${signal} again to kill\\)$`, "m"),
      );
      assert.match(err, /^error: interrupted during audio; completed stages are kept/m);
      assert.deepEqual(synthDirs().map((e) => e.name), [], `${signal}: temp folders left`);
    }
    await Deno.remove(tmp, { recursive: true });
  },
});

Deno.test("a dataset name with terminal escapes is printed escaped, never raw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "escape-names-" });
  const src = `${GROOVE}/drummer1/eval_session`;
  const good = [...Deno.readDirSync(src)].map((e) => e.name).filter((n) => n.endsWith(".mid"))
    .sort().slice(0, 2);
  for (const name of good) await Deno.copyFile(`${src}/${name}`, `${dir}/${name}`);
  const retitle = "x\x1b]0;TITLE\x07\x1b[2J.mid";
  const forged = "y\nerror: forged.mid";
  for (const name of [retitle, forged]) {
    await Deno.writeTextFile(`${dir}/${name}`, "these are not MIDI bytes\n");
  }
  const r = await pipelineWithin(
    60,
    "--config",
    "quick.yaml",
    "--set",
    `dataset.dir=${dir}`,
    "--set",
    "sample.count=4",
    "--until",
    "parse",
    "--store",
    `${dir}.store`,
  );
  for (const [name, out] of [["stderr", r.stderr], ["stdout", r.stdout]] as const) {
    assert.ok(!out.includes("\x1b") && !out.includes("\x07"), `${name} holds ESC or BEL:\n${out}`);
  }
  assert.ok(r.stderr.includes("skipped x\\x1b]0;TITLE\\x07\\x1b[2J.mid: "), r.stderr);
  assert.ok(r.stderr.includes("skipped y\\nerror: forged.mid: "), r.stderr);
  assert.doesNotMatch(r.stderr, /^error: forged/m, "a name cannot forge a line");
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(`${dir}.store`, { recursive: true });
});

Deno.test("dataset.dir=/proc: one sentence naming the folder, not Deno's advice to --allow-all", async () => {
  const store = await Deno.makeTempDir();
  const r = await pipelineWithin(
    60,
    "--config",
    "quick.yaml",
    "--set",
    "dataset.dir=/proc",
    "--until",
    "scan",
    "--store",
    `${store}/s`,
  );
  assert.equal(r.code, 1);
  assertOneLine(
    r.stderr,
    /^error: .*dataset\.dir \/proc cannot be read: Deno does not let the pipeline read \/proc .*; point dataset\.dir at the folder of MIDI files$/,
  );
  assert.doesNotMatch(r.stderr, /allow-all/);
  await Deno.remove(store, { recursive: true });
});

Deno.test("--config naming a folder or a FIFO: one sentence saying what it is, no hang", async () => {
  const dir = await Deno.makeTempDir({ prefix: "config-special-" });
  await mkfifo(`${dir}/fifo.yaml`);
  await Deno.mkdir(`${dir}/folder.yaml`);
  const fifo = await pipelineWithin(30, "--config", `${dir}/fifo.yaml`, "--store", `${dir}/s`);
  assert.equal(fifo.code, 2);
  assertOneLine(
    fifo.stderr,
    new RegExp(`^error: ${dir}/fifo\\.yaml is not a regular file \\(it is a FIFO\\)`),
  );
  const folder = await pipelineWithin(30, "--config", `${dir}/folder.yaml`, "--store", `${dir}/s`);
  assert.equal(folder.code, 2);
  assertOneLine(
    folder.stderr,
    new RegExp(`^error: ${dir}/folder\\.yaml is a folder, not a config file`),
  );
  await Deno.remove(dir, { recursive: true });
});

/** Runs the fake DAG of _fake_dag.ts, keeping what the reporter heard. */
async function runFake(root: string, store: Store) {
  const config = resolveConfig({ dataset: { dir: `${root}/data` } }, "test.yaml");
  const reporter = collectingReporter();
  const record = await runPipeline({
    stages: STAGES,
    loaded: { config, path: "test.yaml", hash: configHash(config) },
    store,
    root,
    reporter,
  });
  const ran = Object.entries(record.stages).filter(([, s]) => !s.cached).map(([n]) => n);
  return { record, ran, warnings: reporter.collected.warnings };
}

Deno.test("symlinks in the dataset are skipped with one warning saying so; no key changes", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const before = await runFake(root, store);
  assert.deepEqual(before.warnings, []);
  const elsewhere = await Deno.makeTempDir();
  for (const name of ["a.mid", "b.mid", "c.midi", "d.mid"]) {
    await Deno.writeTextFile(`${elsewhere}/${name}`, "5");
    await Deno.symlink(`${elsewhere}/${name}`, `${root}/data/${name}`);
  }
  await Deno.symlink(elsewhere, `${root}/data/more`);
  await Deno.symlink(`${elsewhere}/a.mid`, `${root}/data/notes.txt`); // not a MIDI name: not said
  const after = await runFake(root, store);
  assert.deepEqual(after.ran, [], "the listing, and so every key, is unchanged");
  assert.deepEqual(after.warnings, [
    `a: 5 symlinks in dataset.dir ${root}/data skipped (a.mid, b.mid, c.midi and 2 more): ` +
    "symlinks are not followed; copy the files in, or point dataset.dir at the folder they link to",
  ]);
  await Deno.remove(root, { recursive: true });
  await Deno.remove(elsewhere, { recursive: true });
});

Deno.test("a damaged cached output is said, then computed again", async () => {
  const root = await project();
  const store = new LocalStore(`${root}/store`);
  const { record } = await runFake(root, store);
  const digest = record.stages.b!.outputs["out.txt"]!;
  await Deno.chmod(store.objectPath(digest), 0o644);
  await Deno.writeTextFile(store.objectPath(digest), "garbage");
  const again = await runFake(root, store);
  assert.deepEqual(again.ran, ["b"]);
  assert.deepEqual(again.warnings, [
    `b: its cached output out.txt (${digest.slice(0, 12)}) was damaged on disk; computing it again`,
  ]);
  assert.deepEqual((await runFake(root, store)).warnings, [], "repaired: nothing more to say");
  await Deno.remove(root, { recursive: true });
});
