import { tokenizeFile } from "../music/encoding.ts";
import type { TokenEncoding } from "../formats/tokens.ts";
import { bundle } from "../formats/bundle.ts";
import assert from "node:assert/strict";
import tonejs from "@tonejs/midi";
import { renderMidi } from "../music/render_midi.ts";
import { fakeContext as sharedFakeContext } from "../tests/_helpers.ts";
import { render } from "./render.ts";

const { Midi } = tonejs;

/** The shared fake context, with its collections named as these tests use them. */
function fakeContext() {
  const ctx = sharedFakeContext();
  const { warnings, infos, metrics } = ctx.collected;
  return { ctx, warnings, infos, metrics };
}

const MUSIC21: TokenEncoding = { encoding: "music21", stepsPerQuarter: 4, velocity: "off" };

const config = (step = 0.5, instrument: "piano" | "drums" = "piano") => ({
  render: { step, instrument, bpm: 120, tempo: "fixed" as const },
});

Deno.test("render stage writes the create_midi bytes and a piano roll from tokens.json", async () => {
  const tokens = ["E-4", "10.2.4", "C4"];
  const { ctx, warnings, metrics } = fakeContext();
  const out = await render.run(
    { tokens, pieces: [tokens], voicings: {}, encoding: MUSIC21, primers: [] },
    config(),
    ctx,
  );
  assert.deepEqual(Object.keys(out).sort(), ["generated.mid", "piano_roll.svg", "pieces.tar"]);
  assert.deepEqual(out["generated.mid"], renderMidi(tokens).bytes);
  const svg = out["piano_roll.svg"];
  assert.ok(svg.startsWith("<svg"));
  assert.equal(svg.match(/<rect class="note"/g)?.length, 5);
  assert.deepEqual(warnings, []);
  assert.equal(metrics.notes, 5);
});

Deno.test("render stage declares its name, input and config section", () => {
  assert.equal(render.name, "render");
  assert.deepEqual(Object.values(render.inputs).map((i) => `${i.stage}/${i.output}`), [
    "generate/tokens.json",
    "generate/pieces.json",
    "parse/voicings.json",
    "parse/encoding.json",
    "generate/primers.json",
  ]);
  assert.deepEqual(render.reads, ["render"]);
});

Deno.test("render stage passes each odd token's warning to ctx.warn", async () => {
  const { ctx, warnings, metrics } = fakeContext();
  await render.run(
    { tokens: ["C#-1", "xyz", "C4"], pieces: [], voicings: {}, encoding: MUSIC21, primers: [] },
    config(),
    ctx,
  );
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? "", /"C#-1"/);
  assert.match(warnings[1] ?? "", /"xyz"/);
  assert.equal(metrics.notes, 2);
});

Deno.test("render stage spaces tokens by render.step", async () => {
  const { ctx } = fakeContext();
  const tokens = ["C4", "D4"];
  const out = await render.run(
    { tokens, pieces: [tokens], voicings: {}, encoding: MUSIC21, primers: [] },
    config(1),
    ctx,
  );
  assert.deepEqual(out["generated.mid"], renderMidi(tokens, { step: 1 }).bytes);
  assert.notDeepEqual(out["generated.mid"], renderMidi(tokens).bytes);
});

Deno.test("render stage renders an empty token list as the empty file", async () => {
  const { ctx, metrics } = fakeContext();
  const out = await render.run(
    { tokens: [], pieces: [[]], voicings: {}, encoding: MUSIC21, primers: [] },
    config(),
    ctx,
  );
  assert.deepEqual(out["generated.mid"], renderMidi([]).bytes);
  assert.equal(metrics.notes, 0);
});

Deno.test("render stage writes drums on channel 10, each chord on the drums that made it most", async () => {
  const { ctx, warnings } = fakeContext();
  const voicings = {
    "0.6": [{ pitches: [36, 42], count: 5 }, { pitches: [48, 54], count: 1 }],
  };
  const tokens = ["F#2", "0.6", "D2", "9.0"];
  const out = await render.run(
    { tokens, pieces: [tokens], voicings, encoding: MUSIC21, primers: [] },
    config(0.5, "drums"),
    ctx,
  );
  const midi = new Midi(out["generated.mid"]);
  const track = midi.tracks.find((t) => t.notes.length > 0)!;
  assert.equal(track.channel, 9);
  assert.deepEqual(
    track.notes.map((n) => [n.ticks, n.midi, n.durationTicks]),
    [
      [0, 42, 512],
      [512, 36, 512],
      [512, 42, 512],
      [1024, 38, 512],
      [1536, 69, 512],
      [1536, 60, 512],
    ],
  );
  // A chord no training file played keeps create_midi's reading, and says so.
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /token 3 "9\.0": no training file played this chord/);
  assert.match(out["piano_roll.svg"], /Closed Hi-Hat/);
  assert.match(out["piano_roll.svg"], /Bass Drum 1/);
});

Deno.test("render writes every piece of generate.count into pieces.tar, the first as generated.mid", async () => {
  const pieces = [["C4", "E4"], ["G4", "0.4.7"], ["D4"]];
  const { ctx } = fakeContext();
  const out = await render.run(
    { tokens: pieces[0]!, pieces, voicings: {}, encoding: MUSIC21, primers: [] },
    config(),
    ctx,
  );
  const files = out["pieces.tar"];
  assert.deepEqual([...files.keys()], [
    "piece-01.mid",
    "piece-01.svg",
    "piece-02.mid",
    "piece-02.svg",
    "piece-03.mid",
    "piece-03.svg",
  ]);
  assert.deepEqual(files.get("piece-01.mid"), out["generated.mid"]);
  assert.deepEqual(files.get("piece-02.mid"), renderMidi(pieces[1]!).bytes);
  // The archive is a real tar: `tar -t` lists it.
  const tar = bundle.encode(files);
  assert.deepEqual(bundle.decode(tar), files);
  const path = await Deno.makeTempFile({ suffix: ".tar" });
  try {
    await Deno.writeFile(path, tar);
    const listed = await new Deno.Command("tar", { args: ["-tf", path] }).output();
    assert.deepEqual(new TextDecoder().decode(listed.stdout).trim().split("\n"), [...files.keys()]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("render of drum-grid tokens: GM drums on channel 10 one step apart at render.bpm, and they parse back to the same tokens", async () => {
  const grid: TokenEncoding = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" };
  const tokens = [
    "hihat-closed+kick",
    "-",
    "hihat-closed",
    "-",
    "hihat-closed+snare",
    "-",
    "-",
    "crash",
  ];
  const { ctx } = fakeContext();
  const out = await render.run(
    { tokens, pieces: [tokens], voicings: {}, encoding: grid, primers: [] },
    { render: { step: 0.5, instrument: "piano", bpm: 90, tempo: "fixed" } },
    ctx,
  );
  const midi = new Midi(out["generated.mid"]);
  const notes = midi.tracks.flatMap((t) => t.notes);
  assert.ok(midi.tracks.every((t) => t.notes.length === 0 || t.channel === 9));
  assert.deepEqual(notes.map((n) => n.midi).sort(), [36, 38, 42, 42, 42, 49]);
  // A sixteenth at 90 bpm is 1/6 s: the crash, on step 7, starts at 7/6 s.
  const crash = notes.find((n) => n.midi === 49)!;
  assert.ok(Math.abs(crash.time - 7 / 6) < 1e-3, String(crash.time));
  // Encode → render → encode: the same steps, the trailing crash included.
  assert.deepEqual(tokenizeFile(out["generated.mid"], grid).tokens, tokens);
});

Deno.test("render.tempo primer plays each piece at its primer file's tempo, render.bpm where it has none", async () => {
  const grid: TokenEncoding = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" };
  const pieces = [["kick", "-", "snare", "-"], ["kick", "-", "-", "snare"]];
  const primers = [
    { file: "drummer1/session1/1_funk_80_beat_4-4.mid", tokens: ["kick"], bpm: 80 },
    { file: "mine.mid", tokens: ["kick"] },
  ];
  const snareAt = (bytes: Uint8Array) =>
    new Midi(bytes).tracks.flatMap((t) => t.notes).find((n) => n.midi === 38)!.time;
  for (const tempo of ["primer", "fixed"] as const) {
    const { ctx } = fakeContext();
    const out = await render.run(
      { tokens: pieces[0]!, pieces, voicings: {}, encoding: grid, primers },
      { render: { step: 0.5, instrument: "piano", bpm: 120, tempo } },
      ctx,
    );
    const files = out["pieces.tar"];
    // A sixteenth is 60 / (bpm · 4) s; the first piece's snare is on step 2.
    const first = tempo === "primer" ? 80 : 120;
    assert.ok(Math.abs(snareAt(out["generated.mid"]) - 2 * 60 / (first * 4)) < 1e-3, tempo);
    assert.deepEqual(files.get("piece-01.mid"), out["generated.mid"]);
    // The second primer has no tempo: render.bpm.
    assert.ok(Math.abs(snareAt(files.get("piece-02.mid")!) - 3 * 60 / (120 * 4)) < 1e-3, tempo);
    if (tempo === "primer") assert.match(out["piano_roll.svg"], /80 bpm as its primer/);
  }
});

Deno.test("render.tempo primer: a primer's tempo outside 4–1000 bpm is not used, and said", async () => {
  const grid: TokenEncoding = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" };
  const piece = ["kick", "-", "snare", "-"];
  const { ctx, warnings } = fakeContext();
  const out = await render.run(
    {
      tokens: piece,
      pieces: [piece],
      voicings: {},
      encoding: grid,
      primers: [{ file: "odd.mid", tokens: ["kick"], bpm: 1e9 }],
    },
    { render: { step: 0.5, instrument: "piano", bpm: 120, tempo: "primer" } },
    ctx,
  );
  const snare = new Midi(out["generated.mid"]).tracks.flatMap((t) => t.notes).find((n) =>
    n.midi === 38
  )!;
  assert.ok(Math.abs(snare.time - 2 * 60 / (120 * 4)) < 1e-3, String(snare.time));
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /odd\.mid has tempo 1000000000 in the split table, outside 4–1000 bpm: its piece plays at render\.bpm 120/,
  );
});
