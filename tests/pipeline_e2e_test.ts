/**
 * The whole DAG on real Groove files with configs/quick.yaml, in a temp store: first run
 * executes all eight stages and writes a MIDI file that @tonejs/midi reads back; a second run
 * executes nothing; changing generate.length reruns only generate and render; editing a file
 * outside the sample reruns only scan.
 */
import assert from "node:assert/strict";
import tonejs from "@tonejs/midi";
import { applyOverride, configHash, loadConfig } from "../core/config.ts";
import type { RunRecord } from "../core/run_record.ts";
import { exportOutputs } from "../store/exports.ts";
import { runPipeline } from "../core/runner.ts";
import { pipelineStatus } from "../core/status.ts";
import { LocalStore } from "../store/store.ts";
import { fileList, parseReport } from "../formats/files.ts";
import { PIPELINE } from "../stages/mod.ts";
import { collectingReporter, EIGHT_STAGES, GROOVE } from "./_helpers.ts";

const { Midi } = tonejs;

/** A temp dataset of 30 Groove files (a copy, so the test may edit it). */
async function smallDataset(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "groove-" });
  const src = `${GROOVE}/drummer1/session1`;
  let n = 0;
  for await (const e of Deno.readDir(src)) {
    if (!e.name.endsWith(".mid") || n >= 30) continue;
    await Deno.copyFile(`${src}/${e.name}`, `${dir}/${e.name}`);
    n++;
  }
  return dir;
}

async function quick(dataset: string, overrides: string[] = []) {
  const loaded = await loadConfig("quick.yaml");
  applyOverride(loaded.config, `dataset.dir=${dataset}`);
  // 5 of the 6 files outside the sample held out, so that one file is in neither.
  applyOverride(loaded.config, "validation.count=5");
  // Layers of 16 units instead of 64: the same stages and files, trained in a quarter of the time.
  applyOverride(loaded.config, "train.lstmUnits=16");
  applyOverride(loaded.config, "train.denseUnits=16");
  for (const o of overrides) applyOverride(loaded.config, o);
  loaded.hash = configHash(loaded.config);
  return loaded;
}

const ran = (r: RunRecord) => Object.entries(r.stages).filter(([, s]) => !s.cached).map(([n]) => n);

Deno.test("pipeline: quick.yaml runs every stage, then caches, then reruns only what changed", async (t) => {
  const dataset = await smallDataset();
  const store = new LocalStore(await Deno.makeTempDir({ prefix: "store-" }));
  const run = async (overrides: string[] = []) =>
    await runPipeline({
      ...PIPELINE,
      loaded: await quick(dataset, overrides),
      store,
      reporter: collectingReporter(),
    });

  const first = await run();
  await t.step(
    "the first run executes every stage and writes a MIDI file of the generated notes",
    async () => {
      assert.deepEqual(ran(first), [
        ...EIGHT_STAGES.slice(0, 5),
        "heldout",
        ...EIGHT_STAGES.slice(5),
        "humanizer",
        "perform",
        "audio",
        "datastats",
        "stats",
        "losscurve",
      ]);
      // Validation is on by default: the held-out loss and accuracy of every epoch are recorded.
      const valLoss = first.metrics.train?.valLoss as number[];
      assert.equal(valLoss.length, 2);
      assert.ok(valLoss.every((l) => Number.isFinite(l) && l > 0));
      assert.equal((first.metrics.train?.valAccuracy as number[]).length, 2);
      assert.ok((first.metrics.heldout?.windows as number) > 0);
      const midi = new Midi(await store.get(first.stages.render!.outputs["generated.mid"]!));
      const notes = midi.tracks.flatMap((tr) => tr.notes);
      const tokens = JSON.parse(
        new TextDecoder().decode(await store.get(first.stages.generate!.outputs["tokens.json"]!)),
      ) as string[];
      assert.equal(tokens.length, 128);
      // A chord token writes one note per pitch class, so there are at least as many notes as tokens.
      assert.ok(notes.length >= tokens.length, `${notes.length} notes for ${tokens.length} tokens`);
      assert.equal(notes[0]!.ticks, 0);
      assert.equal(midi.header.ppq, 1024);
      const loss = first.metrics.train?.loss as number[];
      assert.equal(loss.length, 2);
      assert.ok(loss.every(Number.isFinite));
    },
  );

  await t.step(
    "a second run of the same config executes no stage; --out copies the results",
    async () => {
      const out = await Deno.makeTempDir();
      const second = await runPipeline({
        ...PIPELINE,
        loaded: await quick(dataset),
        store,
        reporter: collectingReporter(),
      });
      assert.deepEqual(ran(second), []);
      await exportOutputs(store, second, PIPELINE.exports, out);
      assert.deepEqual(
        await Deno.readFile(`${out}/generated.mid`),
        await store.get(first.stages.render!.outputs["generated.mid"]!),
      );
      for (
        const name of [
          "model.json",
          "weights.bin",
          "history.json",
          "loss.svg",
          "notes.json",
          "piano_roll.svg",
        ]
      ) {
        assert.ok((await Deno.stat(`${out}/${name}`)).size > 0, name);
      }
      assert.equal(second.configHash, first.configHash);
      // The record of the cached run still carries the executed run's loss history.
      assert.deepEqual(second.metrics.train?.loss, first.metrics.train?.loss);
    },
  );

  await t.step(
    "status explains that generate.length changed and render waits on generate",
    async () => {
      const status = await pipelineStatus({
        ...PIPELINE,
        loaded: await quick(dataset, ["generate.length=32"]),
        store,
      });
      const byName = Object.fromEntries(status.map((s) => [s.stage, s]));
      assert.equal(byName.train!.state, "cached");
      assert.equal(byName.generate!.state, "stale");
      assert.ok(
        byName.generate!.reasons.includes("config generate.length: 128 → 32"),
        byName.generate!.reasons.join("; "),
      );
      assert.equal(byName.render!.state, "waiting");
    },
  );

  await t.step("--set generate.length=32 reruns only generate and what measures it", async () => {
    const third = await run(["generate.length=32"]);
    assert.deepEqual(ran(third), ["generate", "render", "perform", "audio", "stats"]);
  });

  await t.step(
    "editing a file outside the sample and the held-out files reruns only what lists files",
    async () => {
      const used = new Set([
        ...fileList.decode(await store.get(first.stages.sample200!.outputs["files.json"]!)),
        ...parseReport.decode(await store.get(first.stages.heldout!.outputs["heldout.json"]!)),
      ].map((f) => f.path));
      const outside = [...Deno.readDirSync(dataset)].map((e) => e.name).find((n) => !used.has(n))!;
      const bytes = await Deno.readFile(`${dataset}/${outside}`);
      await Deno.writeFile(`${dataset}/${outside}`, bytes.slice(0, bytes.length - 4));
      const status = await pipelineStatus({ ...PIPELINE, loaded: await quick(dataset), store });
      assert.equal(status[0]!.state, "stale");
      assert.deepEqual(status[0]!.reasons, [
        `dataset files changed: 1 touched or edited (${outside})`,
      ]);
      const fourth = await run();
      // scan lists a new digest; sample200 and heldout rerun and draw the same files: nothing after
      // them runs, but the humanizer and perform, which read the split's files (here, with
      // humanize.epochs 0, to write nothing, in milliseconds).
      assert.deepEqual(ran(fourth), ["scan", "sample200", "heldout", "humanizer", "perform"]);
    },
  );
});
