/**
 * The audio stage with the real synthesizer (fluidsynth and a General MIDI soundfont, as
 * FLUIDSYNTH and SOUNDFONT or the defaults find them): FLAC of the MIDI's length, the same bytes
 * on every render, and a run that goes on with one warning where there is no synthesizer. Where
 * fluidsynth or the soundfont is missing, the tests that need them say so and are skipped
 * (Debian: apt-get install fluidsynth fluid-soundfont-gm; .ci/run installs them).
 */
import { bundle, pieceName } from "../formats/bundle.ts";
import assert from "node:assert/strict";
import { configHash, resolveConfig } from "../core/config.ts";
import { runPipeline } from "../core/runner.ts";
import { defineStage, type Stage, StageInputError } from "../core/stage.ts";
import type { Store } from "../core/storage.ts";
import { LocalStore } from "../store/store.ts";
import { fluidsynth, optionsFromEnv, systemSynthesizer } from "../audio/synth.ts";
import { rawBytes } from "../formats/codec.ts";
import { renderMidi, TICKS_PER_QUARTER } from "../music/render_midi.ts";
import { audioStage, flacInfo, synthEnvironment } from "../stages/audio.ts";
import { collectingReporter, fakeContext, PROJECT_ROOT, TUNE } from "./_helpers.ts";

const real = systemSynthesizer();
const described = await real.describe();
/** Why the real-synth tests cannot run here, or undefined when they can. */
const missing = described.available ? undefined : described.reason;
if (missing !== undefined) {
  console.warn(`audio_test: the tests that render audio are skipped: ${missing}`);
}
const needsSynth = (name: string) => ({
  name: missing === undefined ? name : `${name} (skipped: ${missing})`,
  ignore: missing !== undefined,
});

/** 16 tokens of a little tune at the tutorial's half-beat step, and its length in seconds. */
const piece = renderMidi(TUNE.slice(0, 16), { step: 0.5 });
// 120 bpm (create_midi's tempo): half a second per quarter.
const pieceSeconds = Math.max(...piece.notes.map((n) => n.tick + n.durationTicks)) /
  TICKS_PER_QUARTER * 0.5;

/** Runs the audio stage on `midi` with `synthesizer`. */
async function renderWith(synthesizer = real, midi = piece.bytes, performed = new Uint8Array()) {
  const stage = audioStage(synthesizer);
  const ctx = fakeContext();
  const pieces = new Map([[pieceName(1, "mid"), midi]]);
  const out = await stage.run({ midi, pieces, performed }, {}, ctx);
  return {
    flac: out["generated.flac"],
    performed: out["performed.flac"],
    ctx,
    environment: await stage.environment!({}),
  };
}

Deno.test(
  needsSynth(
    "audio: generated.mid becomes FLAC as long as the piece plus fluidsynth's release tail, the same bytes every time",
  ),
  async () => {
    const first = await renderWith();
    assert.equal(new TextDecoder().decode(first.flac.subarray(0, 4)), "fLaC");
    const info = flacInfo(first.flac);
    assert.equal(info.sampleRate, 44100);
    assert.equal(info.channels, 2);
    assert.equal(info.bitsPerSample, 16);
    // The last note's end, then at most a few seconds of release and reverb tail.
    assert.ok(
      info.seconds >= pieceSeconds && info.seconds <= pieceSeconds + 5,
      `${info.seconds} s of audio for a ${pieceSeconds} s piece`,
    );
    assert.deepEqual(first.ctx.collected.warnings, []);
    assert.equal(first.performed.length, 0, "no humanizer, no performed audio");
    assert.match(String(first.ctx.collected.metrics.synth), /^fluidsynth \d+\.\d+/);
    assert.equal(first.ctx.collected.metrics.bytes, first.flac.length);

    // Another process, another temp folder: byte for byte the same.
    const second = await renderWith(fluidsynth(optionsFromEnv()));
    assert.ok(
      first.flac.length === second.flac.length && first.flac.every((b, i) => b === second.flac[i]),
      "two renders of the same MIDI give the same bytes",
    );
  },
);

Deno.test(
  needsSynth("audio: the key names fluidsynth's version, the soundfont's sha256 and the settings"),
  async () => {
    const environment = await audioStage(real).environment!({});
    assert.match(environment.synth!, /^fluidsynth \d+\.\d+\.\d+/);
    assert.match(environment.soundfont!, /^[0-9a-f]{64}$/);
    assert.match(environment.settings!, /-T flac .*-r 44100/);
    assert.deepEqual(environment, synthEnvironment(described));
  },
);

Deno.test(
  needsSynth("audio: a MIDI file fluidsynth cannot read fails the stage in one sentence"),
  async () => {
    await assert.rejects(
      renderWith(real, new TextEncoder().encode("not a MIDI file")),
      (e: Error) => e instanceof StageInputError && /^fluidsynth failed/.test(e.message),
    );
  },
);

Deno.test("audio: without fluidsynth the stage writes no audio, warns once and does not throw", async () => {
  const { flac, ctx, environment } = await renderWith(
    fluidsynth({ binary: "/nonexistent/fluidsynth" }),
  );
  assert.equal(flac.length, 0);
  assert.deepEqual(environment, { synth: "none" });
  assert.equal(ctx.collected.warnings.length, 1);
  assert.match(
    ctx.collected.warnings[0]!,
    /^FLUIDSYNTH=\/nonexistent\/fluidsynth was not found \(Debian: apt-get install fluidsynth fluid-soundfont-gm.*\); the run goes on without audio$/,
  );
  assert.equal(ctx.collected.metrics.synth, "none");
});

Deno.test("audio: fluidsynth missing from the PATH is reported as not installed, in one line", async () => {
  // In a process of its own: the PATH is the whole process's, and other test files run beside
  // this one (deno test --parallel) start programs by name.
  const empty = await Deno.makeTempDir();
  const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const code = `import { audioStage } from ${module("../stages/audio.ts")};
import { fluidsynth } from ${module("../audio/synth.ts")};
import { pieceName } from ${module("../formats/bundle.ts")};
import { fakeContext } from ${module("./_helpers.ts")};
const midi = Uint8Array.from(${JSON.stringify([...piece.bytes])});
const ctx = fakeContext();
const out = await audioStage(fluidsynth()).run({ midi, pieces: new Map([[pieceName(1, "mid"), midi]]), performed: new Uint8Array() }, {}, ctx);
console.log(JSON.stringify({ bytes: out["generated.flac"].length, warnings: ctx.collected.warnings }));`;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      cwd: PROJECT_ROOT,
      env: { PATH: empty },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const { bytes, warnings } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(bytes, 0);
    assert.deepEqual(warnings, [
      "fluidsynth is not installed (Debian: apt-get install fluidsynth fluid-soundfont-gm); the run goes on without audio",
    ]);
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("audio: a missing soundfont is one warning too", async () => {
  const { flac, ctx } = await renderWith(fluidsynth({ soundfont: "/nonexistent/GM.sf2" }));
  assert.equal(flac.length, 0);
  assert.equal(ctx.collected.warnings.length, 1);
  // Where fluidsynth itself is missing, that is what the one warning says.
  assert.match(
    ctx.collected.warnings[0]!,
    missing === undefined
      ? /^SOUNDFONT=\/nonexistent\/GM\.sf2: no such file; the run goes on without audio$/
      : /; the run goes on without audio$/,
  );
});

Deno.test("audio: FLUIDSYNTH and SOUNDFONT point the synthesizer elsewhere; empty means unset", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.deepEqual(optionsFromEnv(env({ FLUIDSYNTH: "/opt/fs", SOUNDFONT: "/sf/GM.sf2" })), {
    binary: "/opt/fs",
    soundfont: "/sf/GM.sf2",
  });
  assert.deepEqual(optionsFromEnv(env({ FLUIDSYNTH: "", SOUNDFONT: "" })), {});
});

/** A render stage stand-in: the little tune's MIDI. */
const fakeRender = defineStage({
  name: "render",
  module: "tests/audio_test.ts",
  description: "the little tune as MIDI",
  inputs: {},
  outputs: { "generated.mid": rawBytes, "pieces.tar": bundle },
  reads: [],
  run: () =>
    Promise.resolve({
      "generated.mid": piece.bytes,
      "pieces.tar": new Map([[pieceName(1, "mid"), piece.bytes]]),
    }),
});

/** A perform stage stand-in: a run without a humanizer, which plays nothing. */
const fakePerform = defineStage({
  name: "perform",
  module: "tests/audio_test.ts",
  description: "no humanizer",
  inputs: {},
  outputs: { "performed.mid": rawBytes },
  reads: [],
  run: () => Promise.resolve({ "performed.mid": new Uint8Array() }),
});

async function runAudio(store: Store, audio: Stage) {
  const config = resolveConfig({ dataset: { dir: `${PROJECT_ROOT}/data/groove` } }, "test.yaml");
  const reporter = collectingReporter();
  const record = await runPipeline({
    stages: [fakeRender as Stage, fakePerform as Stage, audio],
    loaded: { config, path: "test.yaml", hash: configHash(config) },
    store,
    root: PROJECT_ROOT,
    reporter,
  });
  return { record, warnings: reporter.collected.warnings };
}

/** A temp store for `work`, removed afterwards. */
async function withStore(work: (store: Store) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "audio-store-" });
  try {
    await work(new LocalStore(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("audio: the run ends well with or without a synthesizer, then caches", async () => {
  await withStore(async (store) => {
    const audio = audioStage(systemSynthesizer()) as unknown as Stage;
    const first = await runAudio(store, audio);
    assert.equal(first.record.status, "ok");
    assert.equal(first.record.stages.audio?.cached, false);
    const flac = await store.get(first.record.stages.audio!.outputs["generated.flac"]!);
    if (missing === undefined) {
      assert.equal(new TextDecoder().decode(flac.subarray(0, 4)), "fLaC");
      assert.deepEqual(first.warnings, []);
    } else {
      assert.equal(flac.length, 0);
      assert.deepEqual(first.warnings, [`audio: ${missing}; the run goes on without audio`]);
    }
    const second = await runAudio(store, audio);
    assert.equal(second.record.stages.audio?.cached, true);
  });
});
