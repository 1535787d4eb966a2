import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { defaultConfig } from "../formats/config_schema.ts";
import type { RunRecord } from "../core/run_record.ts";
import { selectBackend } from "../model/backend.ts";
import { disposeModel } from "../model/build_model.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { resolveLstm } from "../model/lstm_implementation.ts";
import { consoleLines, headless, skipWithoutChromium } from "../tests/_chromium.ts";
import { pipeline, SMALL_RUN } from "../tests/_helpers.ts";
import { reportPageHtml } from "./run_page.ts";
import { type PlayerInputs, playerModel, playerModelScript } from "./player.ts";

function record(): RunRecord {
  const stage = (cached: boolean) => ({
    key: "k" as RunRecord["stages"][string]["key"],
    cached,
    seconds: cached ? 0.01 : 2.5,
    executedSeconds: 2.5,
    outputs: {},
    warnings: [] as string[],
  });
  return {
    configHash: "0123456789abcdef" as RunRecord["configHash"],
    configPath: "configs/<quick>.yaml",
    config: defaultConfig(),
    status: "ok",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:03.000Z",
    seconds: 3,
    runtime: { deno: "2", v8: "1", os: "linux" },
    stages: {
      train: stage(false),
      audio: { ...stage(true), warnings: ["fluidsynth <not> found"] },
    },
    metrics: {
      stats: {
        pieces: [{ tokens: { distinct_tokens: { value: 5, dataMean: 9, dataStd: 2, z: -2 } } }],
      },
    },
  };
}

const ctx = { store: "/tmp/store", generatedAt: "2026-01-01T00:00:04.000Z" };

Deno.test("report page: no player without audio, and says why", () => {
  const html = reportPageHtml(record(), { noAudio: "no audio: fluidsynth was not installed" }, ctx);
  assert.match(html, /<p class="noaudio">no audio: fluidsynth was not installed<\/p>/);
  assert.doesNotMatch(html, /<audio/);
  assert.match(html, /No loss curves \(the train stage did not run\)/);
  assert.match(html, /No piano roll/);
});

Deno.test("report page: player, pictures, stages, statistics and config, all escaped", () => {
  const html = reportPageHtml(record(), {
    audio: "report/generated.flac",
    midi: "report/generated.mid",
    lossSvg: `<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L1 1"/></svg>`,
    pianoRollSvg: `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`,
  }, ctx);
  assert.match(html, /<audio controls preload="metadata" src="report\/generated\.flac"><\/audio>/);
  assert.match(html, /<a href="report\/generated\.mid" download>generated\.mid<\/a>/);
  assert.equal(html.match(/<figure><svg /g)?.length, 2);
  assert.match(html, /<code>train<\/code><\/th><td><span class="status ran">ran<\/span><\/td>/);
  assert.match(html, /<code>audio<\/code><\/th><td><span class="status ok">cached<\/span><\/td>/);
  assert.match(html, /fluidsynth &lt;not&gt; found/);
  assert.match(html, /configs\/&lt;quick&gt;\.yaml/);
  assert.match(html, /<code>distinct_tokens<\/code>/);
  assert.match(html, /z -2\.00/);
  assert.match(html, /<code>train\.epochs<\/code><\/th><td>\d+<\/td>/);
  assert.doesNotMatch(html, /<quick>|<not>/);
});

Deno.test("report page: says why there is no player, or shows its controls and scripts", () => {
  const none = reportPageHtml(record(), {
    noPlayer: "No model to play with: the train stage did not run.",
  }, ctx);
  assert.match(none, /<section id="play"><h2>Play with the model<\/h2>/);
  assert.match(none, /<p class="muted">No model to play with: the train stage did not run\.<\/p>/);
  assert.doesNotMatch(none, /<script defer src="report\//);

  const html = reportPageHtml(record(), {
    player: { windowLength: 32, startLength: 32, pieceLength: 16, tfjsVersion: "4.22.0" },
  }, ctx);
  for (const id of ["start", "index", "temperature", "length", "seed", "generate", "play"]) {
    assert.match(html, new RegExp(`id="player-${id}"`), id);
  }
  assert.match(
    html,
    /id="player-temperature" type="number" min="0" max="10" step="0.1" value="1\.0"/,
  );
  assert.match(html, /id="player-length" type="number" min="1" max="2000" step="1" value="64"/);
  assert.match(html, /id="player-index" type="number" min="0" max="16"/);
  assert.match(html, /TensorFlow\.js 4\.22\.0/);
  assert.deepEqual(
    [...html.matchAll(/<script defer src="([^"]+)"><\/script>/g)].map((m) => m[1]),
    ["report/tf.min.js", "report/model.js", "report/player.js"],
  );
});

Deno.test("report page: a sequence run's player offers its primers with the run's temperature and seed, and loads no TensorFlow.js", () => {
  const html = reportPageHtml(record(), {
    player: {
      kind: "sequence",
      primers: ["drummer1/a <b>.mid", "drummer2/c.mid"],
      primeBars: 2,
      stepsPerBar: 16,
      steps: 128,
      temperature: 0.9,
      seed: 7,
    },
  }, ctx);
  assert.match(html, /<div id="player" data-state="loading" data-kind="sequence">/);
  assert.match(html, /2\s+pieces again, each 8 bars after the first 2 bars of its primer's file/);
  assert.deepEqual(
    [...html.matchAll(/<option value="(\d)"[^>]*>([^<]*)</g)].map((m) => m.slice(1)),
    [
      ["0", "piece 1: drummer1/a &lt;b&gt;.mid"],
      ["1", "piece 2: drummer2/c.mid"],
    ],
  );
  assert.match(
    html,
    /id="player-temperature" type="number" min="0" max="10" step="0.1" value="0\.9"/,
  );
  assert.match(html, /id="player-seed" type="number" min="0" step="1" value="7"/);
  for (const id of ["generate", "play", "tokens", "status"]) {
    assert.match(html, new RegExp(`id="player-${id}"`), id);
  }
  assert.deepEqual(
    [...html.matchAll(/<script defer src="([^"]+)"><\/script>/g)].map((m) => m[1]),
    ["report/model.js", "report/player.js"],
  );
});

Deno.test("report page: a transformer run's player has the sequence player's controls, and says which code steps it", () => {
  const view = {
    primers: ["drummer1/a.mid"],
    primeBars: 2,
    stepsPerBar: 16,
    steps: 64,
    temperature: 1,
    seed: 3,
  };
  const html = reportPageHtml(record(), { player: { kind: "transformer", ...view } }, ctx);
  const lstm = reportPageHtml(record(), { player: { kind: "sequence", ...view } }, ctx);
  assert.match(html, /<div id="player" data-state="loading" data-kind="transformer">/);
  assert.match(html, /model\/sequence\/transformer_step\.js/);
  assert.doesNotMatch(html, /lstm_step\.js/);
  // The same controls as the sequence network's, element for element.
  const controls = (page: string) => /<form class="player"[^]*?<\/form>/.exec(page)?.[0];
  assert.ok(controls(html));
  assert.equal(controls(html), controls(lstm));
  assert.deepEqual(
    [...html.matchAll(/<script defer src="([^"]+)"><\/script>/g)].map((m) => m[1]),
    ["report/model.js", "report/player.js"],
  );
});

/** Checkpoint, vocabulary and tokens as the player reads them; the checkpoint is a stub. */
function playerInputs(vocab: string[], piece: string[], notes: string[]): PlayerInputs {
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  return {
    modelJson: json({ modelTopology: { class_name: "Sequential" }, weightsManifest: [] }),
    weights: new Uint8Array([1, 2, 3, 250]),
    vocab: json({ tokens: vocab }),
    tokens: json(piece),
    notes: json(notes),
    voicings: json({ "0.6": [{ pitches: [36, 42], count: 3 }, { pitches: [48, 54], count: 1 }] }),
  };
}

Deno.test("playerModel() gives each token the pitches and timing render gives it", () => {
  const vocab = ["0.6", "10.2.4", "F#2", "22"];
  const notes = ["F#2", "0.6", "22", "F#2", "0.6", "10.2.4"];
  const run = record();
  run.config.window.length = 3;
  run.metrics["generate"] = { startIndex: 2 };
  const piano = playerModel(playerInputs(vocab, ["0.6", "F#2"], notes), run, "4.22.0");
  assert.ok(!("reason" in piano));
  assert.deepEqual(piano.pitches, [[60, 66], [70, 62, 64], [42], [22]]);
  assert.deepEqual(piano.startWindow, ["22", "F#2", "0.6"]);
  assert.equal(piano.weightsBase64, "AQID+g==");
  assert.equal(piano.stepSeconds, 0.25);
  assert.equal(piano.noteSeconds, 0.5);
  assert.match(playerModelScript(piano, "abc"), /^\/\/ .*\nglobalThis\.RUN_MODEL = \{"model/);

  run.config.render.instrument = "drums";
  const drums = playerModel(playerInputs(vocab, ["0.6", "F#2"], notes), run, "4.22.0");
  assert.ok(!("reason" in drums));
  // The chord's usual voicing; the TD-11's hi-hat edge (22) as General MIDI's closed hi-hat.
  assert.deepEqual(drums.pitches, [[36, 42], [70, 62, 64], [42], [42]]);
  assert.equal(drums.noteSeconds, 0.25);

  // A drum grid: a token per sixteenth at render.bpm, the drums struck on it, silence included.
  run.config.render.bpm = 100;
  const grid = playerModel(
    {
      ...playerInputs(["-", "hihat-closed+kick", "snare"], ["-", "snare", "-"], []),
      encoding: new TextEncoder().encode(
        JSON.stringify({ encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" }),
      ),
    },
    run,
    "4.22.0",
  );
  assert.ok(!("reason" in grid));
  assert.deepEqual(grid.pitches.map((p) => p.toSorted()), [[], [36, 42], [38]]);
  assert.equal(grid.instrument, "drums");
  assert.equal(grid.stepSeconds, 0.15);
  assert.equal(grid.noteSeconds, 0.15);

  // A primed run's start is not in the store: a piece shorter than a window cannot start.
  delete run.metrics["generate"];
  const short = playerModel(playerInputs(vocab, ["0.6", "F#2"], notes), run, "4.22.0");
  assert.deepEqual(short, {
    reason: "No model to play with: the piece has 2 tokens, fewer than a window (3), and the " +
      "tokens it started from are not in the store.",
  });
});

Deno.test({
  name: "report page: the browser's next-token probabilities equal the pipeline's (1e-4)",
  ignore: skipWithoutChromium("report page player test"),
  fn: async () => {
    const store = await Deno.makeTempDir({ prefix: "report-player-" });
    // Drums, so the table goes through parse's voicings; 16 tokens, fewer than a window (32),
    // so the probed window starts inside the window generation started from.
    const run = await pipeline(
      ...SMALL_RUN,
      ...["--set", "generate.length=16", "--set", "render.instrument=drums"],
      ...["--set", "validation.count=0", "--store", store, "--quiet"],
    );
    assert.equal(run.code, 0, run.stderr);
    const hash = /config hash ([0-9a-f]{16})/.exec(run.stdout)![1]!;
    const dir = `${store}/runs/${hash}`;
    const saved: RunRecord = JSON.parse(await Deno.readTextFile(`${store}/runs/${hash}.json`));
    const object = async (stage: string, output: string) => {
      const digest = saved.stages[stage]!.outputs[output]!;
      return await Deno.readFile(`${store}/objects/${digest.slice(0, 2)}/${digest.slice(2)}`);
    };
    const json = async (stage: string, output: string) =>
      JSON.parse(new TextDecoder().decode(await object(stage, output)));
    for (const name of ["tf.min.js", "model.js", "player.js"]) {
      assert.ok((await Deno.stat(`${dir}/report/${name}`)).size > 0, name);
    }

    // The window the page must probe: the last window.length tokens of the start window then
    // the piece, taken from the store, not from the page.
    const length = saved.config.window.length;
    const start = saved.metrics["generate"]!["startIndex"] as number;
    const notes: string[] = await json("parse", "notes.json");
    const piece: string[] = await json("generate", "tokens.json");
    const vocab: string[] = (await json("vocab", "vocab.json")).tokens;
    const window = [...notes.slice(start, start + length), ...piece].slice(-length);

    const shown = await headless(`file://${dir}/report.html?probe`, [
      "--virtual-time-budget=20000",
      "--dump-dom",
    ]);
    assert.equal(shown.code, 0, shown.log);
    assert.deepEqual(consoleLines(shown.log), [], "the page logs nothing to the console");
    assert.match(shown.dom, /<div id="player" data-state="ready">/, shown.dom.slice(0, 2000));
    for (const id of ["start", "index", "temperature", "length", "seed", "generate", "play"]) {
      assert.match(shown.dom, new RegExp(`id="player-${id}"`), id);
    }
    const probeText = /<pre id="probe"[^>]*>([^<]*)<\/pre>/.exec(shown.dom)?.[1];
    assert.ok(probeText, "the page wrote its probe");
    const probe: { backend: string; window: string[]; probabilities: number[]; greedy: string[] } =
      JSON.parse(probeText.replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
    assert.equal(probe.backend, "cpu");
    assert.deepEqual(probe.window, window);
    // The greedy tokens went through the Generate button's loop into the list.
    const listed = /<ol id="player-tokens"[^>]*>(.*?)<\/ol>/.exec(shown.dom)?.[1] ?? "";
    assert.deepEqual([...listed.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]), probe.greedy);

    // The pipeline's prediction for the same window, loaded and run as generate does.
    const history = await json("train", "history.json");
    await selectBackend(history.backend);
    const model = await loadCheckpoint({
      "model.json": await object("train", "model.json"),
      "weights.bin": await object("train", "weights.bin"),
    }, { lstm: resolveLstm("auto") });
    try {
      const index = new Map(vocab.map((t, i) => [t, i]));
      const input = Float32Array.from(window, (t) => index.get(t)! / vocab.length);
      const output = model.predict(tf.tensor3d(input, [1, length, 1])) as tf.Tensor;
      const expected = Array.from(await output.data());
      output.dispose();
      assert.equal(probe.probabilities.length, vocab.length);
      const diff = Math.max(...expected.map((p, i) => Math.abs(p - probe.probabilities[i]!)));
      console.log(`report page player test: max |browser - pipeline| = ${diff.toExponential(2)}`);
      assert.ok(diff < 1e-4, `the probabilities differ by up to ${diff}`);
      // Greedy from the same window: the first token is the pipeline's argmax (unless a tie).
      const sorted = [...expected].sort((a, b) => b - a);
      if (sorted[0]! - sorted[1]! > 1e-4) {
        assert.equal(probe.greedy[0], vocab[expected.indexOf(sorted[0]!)]);
      }
    } finally {
      disposeModel(model);
      await Deno.remove(store, { recursive: true });
    }
  },
});
