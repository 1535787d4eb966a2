/**
 * Issue 23's humanizer end to end, as a user runs it: a tiny Groove run with `humanize.epochs`
 * plays its pieces as MIDI loops; `deno task pipeline humanize` plays a pattern of the user's own
 * with that run's humanizer; wrong settings and inputs get one sentence.
 */
import assert from "node:assert/strict";
import type { RunRecord } from "../core/run_record.ts";
import { readBundle } from "../formats/bundle.ts";
import { drumGridMidi } from "../music/drums/drum_grid.ts";
import { drumMidiFile } from "../music/drums/drum_midi.ts";
import { performanceTokens, readPerformance } from "../music/drums/performance.ts";
import { expressiveDrumsMidi } from "../music/drums/expressive_drums.ts";
import { humanizerModel } from "../formats/humanizer.ts";
import { playHits } from "../model/humanizer/humanize_step.js";
import { assertOneLine, pipeline } from "./_helpers.ts";
import { tinyGroove } from "./_tiny_groove.ts";

const config = (dataset: string, epochs: number) => `
dataset: { dir: ${JSON.stringify(dataset)}, split: info.csv }
sample: { count: 4, seed: 42 }
parse: { encoding: drum-grid, stepsPerQuarter: 4 }
vocab: { minCount: 2 }
window: { length: 2 }
train: { network: sequence, lstmUnits: 8, cropLength: 32, embedding: 4, epochs: 1, batchSize: 4, seed: 1 }
generate: { temperature: 1, primeBars: 2, bars: 2, count: 2, seed: 7 }
render: { tempo: primer }
humanize: { epochs: ${epochs}, hidden: 8, context: 2, batchSize: 64, learningRate: 0.01 }
`;

Deno.test("humanize: a run plays its pieces as loops, and plays a user's pattern", async () => {
  const root = await Deno.makeTempDir({ prefix: "humanize-" });
  try {
    await tinyGroove(`${root}/groove`);
    await Deno.writeTextFile(`${root}/run.yaml`, config(`${root}/groove`, 3));
    const store = `${root}/store`;
    const run = await pipeline("--config", `${root}/run.yaml`, "--store", store);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /test: timing error [\d.]+ \(quantized [\d.]+, template [\d.]+\) ms/);
    const hash = /config hash ([0-9a-f]{16})/.exec(run.stdout)![1]!;
    const saved: RunRecord = JSON.parse(await Deno.readTextFile(`${store}/runs/${hash}.json`));
    const object = (stage: string, output: string) => {
      const digest = saved.stages[stage]!.outputs[output]!;
      return Deno.readFile(`${store}/objects/${digest.slice(0, 2)}/${digest.slice(2)}`);
    };
    const text = async (stage: string, output: string) =>
      new TextDecoder().decode(await object(stage, output));

    // Each piece a loop named after its style and tempo, with the grid's hits, played.
    const pieces: string[][] = JSON.parse(await text("generate", "pieces.json"));
    const loops = readBundle(await object("perform", "loops.tar"));
    assert.deepEqual([...loops.keys()].map((n) => n.replace(/-[a-z-]+-\d+bpm/, "-S-Tbpm")), [
      "piece-01-S-Tbpm.mid",
      "piece-02-S-Tbpm.mid",
    ]);
    for (const [name, bytes] of loops) {
      // The track is named as the file is: what a DAW labels the clip with.
      const title = name.replace(/\.mid$/, "");
      assert.ok(
        new TextDecoder().decode(bytes).includes(
          `\x03${String.fromCharCode(title.length)}${title}`,
        ),
        name,
      );
    }
    [...loops.values()].forEach((bytes, i) => {
      const played = readPerformance(bytes, 4);
      const grid = readPerformance(drumGridMidi(pieces[i]!).bytes, 4);
      assert.deepEqual(
        played.hits.map((h) => [h.step, h.drumClass]),
        grid.hits.map((h) => [h.step, h.drumClass]),
        "the same hits on the same steps",
      );
      assert.ok(new Set(played.hits.map((h) => h.velocity)).size > 1, "velocities vary");
    });
    // The first piece and the loops are where a run's results are.
    const exported = `${store}/out/${hash}`;
    assert.deepEqual(
      await Deno.readFile(`${exported}/loops.tar`),
      await object("perform", "loops.tar"),
    );
    assert.ok((await Deno.stat(`${exported}/performed.mid`)).size > 0);
    // The report page shows and plays it (audio where fluidsynth is installed, as in CI).
    const page = await Deno.readTextFile(`${store}/runs/${hash}/report.html`);
    assert.match(page, /<h3>Played by the humanizer<\/h3>/);
    assert.match(page, /href="report\/performed\.mid"/);
    const synth = saved.metrics.audio?.synth;
    if (synth !== "none") {
      const flac = await Deno.readFile(`${exported}/performed.flac`);
      assert.equal(new TextDecoder().decode(flac.subarray(0, 4)), "fLaC");
      assert.match(page, /src="report\/performed\.flac"/);
    }
    const expression = JSON.parse(await text("perform", "expression.json"));
    assert.ok("mean absolute offset (ms)" in expression.statistics);
    assert.match(await text("perform", "performed.svg"), /fill-opacity="0\.\d\d"/);

    // A user's pattern: a drum-grid file with an unmapped pitch added (a cowbell, 56).
    const pattern = drumGridMidi(
      Array.from({ length: 32 }, (_, i) => (i % 4 === 0 ? "hihat-closed+kick" : "hihat-closed")),
      { bpm: 90 },
    ).bytes;
    await Deno.writeFile(`${root}/pattern.mid`, pattern);
    const humanized = await pipeline(
      "humanize",
      hash,
      `${root}/pattern.mid`,
      "--style",
      "rock",
      "--store",
      store,
    );
    assert.equal(humanized.code, 0, humanized.stderr);
    const out = readPerformance(await Deno.readFile(`${root}/pattern-humanized.mid`), 4);
    const input = readPerformance(pattern, 4);
    assert.deepEqual(
      out.hits.map((h) => [h.step, h.drumClass]),
      input.hits.map((h) => [h.step, h.drumClass]),
    );
    assert.equal(Math.round(out.bpm!), 90, "at the pattern's tempo");
    // Played as the run's humanizer plays the pattern's grid in rock, at 90 bpm.
    const model = humanizerModel.decode(await object("humanizer", "humanizer.json"))!;
    const rock = model.layout.styles.indexOf("rock");
    const expected = playHits(model, input.steps, input.hits, rock, 90, { mode: "median" });
    const tokens = performanceTokens({ steps: input.steps, hits: expected }, 4);
    assert.deepEqual(out.hits, readPerformance(expressiveDrumsMidi(tokens).bytes, 4).hits);
    // The same pattern comes back the same; --out names the folder.
    const again = await pipeline(
      "humanize",
      hash,
      `${root}/pattern.mid`,
      "--style",
      "rock",
      "--store",
      store,
      "--out",
      `${root}/o`,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      await Deno.readFile(`${root}/o/pattern-humanized.mid`),
      await Deno.readFile(`${root}/pattern-humanized.mid`),
    );

    // A note outside the nine drum classes is left out, and said.
    await Deno.writeFile(
      `${root}/bongo.mid`,
      drumMidiFile(
        [{ pitch: 36, tick: 0, durationTicks: 60, velocity: 90 }, {
          pitch: 20,
          tick: 120,
          durationTicks: 60,
          velocity: 90,
        }],
        100,
        480,
      ),
    );
    const bongo = await pipeline("humanize", hash, `${root}/bongo.mid`, "--store", store);
    assert.equal(bongo.code, 0, bongo.stderr);
    assertOneLine(
      bongo.stderr,
      /bongo\.mid: notes on pitches outside the nine drum classes are left out \(pitch 20: 1\)/,
    );
    assert.equal(
      readPerformance(await Deno.readFile(`${root}/bongo-humanized.mid`), 4).hits.length,
      1,
    );

    // Wrong inputs: one sentence each.
    const bad = async (args: string[], pattern: RegExp) => {
      const r = await pipeline(...args, "--store", store);
      assert.notEqual(r.code, 0);
      assertOneLine(r.stderr, pattern);
    };
    await bad(
      ["humanize", hash, `${root}/pattern.mid`, "--style", "polka"],
      /--style polka: this humanizer knows .*rock/,
    );
    await bad(["humanize", hash, `${root}/missing.mid`], /cannot read .*missing\.mid/);
    await Deno.writeTextFile(`${root}/not.mid`, "hello");
    await bad(["humanize", hash, `${root}/not.mid`], /not\.mid is not a MIDI file this can read/);
    await bad(["humanize", hash], /humanize needs a run and a MIDI file/);
    // A run of the same config without a humanizer.
    const off = await pipeline(
      "--config",
      `${root}/run.yaml`,
      "--set",
      "humanize.epochs=0",
      "--store",
      store,
    );
    assert.equal(off.code, 0, off.stderr);
    const offHash = /config hash ([0-9a-f]{16})/.exec(off.stdout)![1]!;
    // Without a humanizer there is nothing performed to export.
    const offOut = [...Deno.readDirSync(`${store}/out/${offHash}`)].map((e) => e.name);
    assert.ok(!offOut.some((n) => n.startsWith("performed") || n === "loops.tar"), `${offOut}`);
    await bad(
      ["humanize", offHash, `${root}/pattern.mid`],
      /has no humanizer: run a config with humanize\.epochs/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("humanize: settings that cannot work are refused before any stage runs", async () => {
  const root = await Deno.makeTempDir({ prefix: "humanize-settings-" });
  for (
    const [set, pattern] of [
      [
        ["--set", "humanize.epochs=2"],
        /humanize\.epochs: the humanizer plays drum-grid pieces, so it needs parse\.encoding: drum-grid \(found music21\)/,
      ],
      [["--set", "humanize.epochs=-1"], /humanize\.epochs/],
      [["--set", "humanize.temperature=x"], /humanize\.temperature/],
      [["--set", "humanize.style=maybe"], /humanize\.style/],
    ] as const
  ) {
    const r = await pipeline(
      "--config",
      "quick.yaml",
      ...set,
      "--store",
      `${root}/store`,
    );
    assert.notEqual(r.code, 0);
    assertOneLine(r.stderr, pattern);
  }
  // A dataset without a split: the humanizer has no train and validation performances to use.
  const r = await pipeline(
    "--config",
    "quick-drums.yaml",
    "--set",
    "humanize.epochs=1",
    "--until",
    "humanizer",
    "--store",
    `${root}/store`,
  );
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: humanizer: humanize\.epochs is set, but the dataset has no split: set dataset\.split/m,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  await Deno.remove(root, { recursive: true });
});
