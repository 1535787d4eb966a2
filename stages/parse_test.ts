import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import { sha256Hex } from "../core/hash.ts";
import { StageInputError } from "../core/stage.ts";
import { events, meta, smf } from "../tests/_smf.ts";
import { FAR_HIT_47, FAR_HITS_133 } from "../tests/_long_grid.ts";
import { fakeContext, utf8 } from "../tests/_helpers.ts";
import { parse } from "./parse.ts";

const on = (delta: number, pitch: number) => [delta, 0x90, pitch, 90];
const off = (delta: number, pitch: number) => [delta, 0x80, pitch, 0];

/** Program 0, then C4+E4 (a chord, `0.4`), then D4. */
const chordFile = smf({
  tracks: [
    events([0, 0xc0, 0], on(0, 60), on(0, 64), off(480, 60), off(0, 64), on(0, 62), off(480, 62)),
  ],
});
/** No Instrument at all (the except branch): F#2. */
const noteFile = smf({ tracks: [events(on(0, 42), off(240, 42))] });
/** "Piano RH" + program 0 at tick 0: parts[0] is a zero-length span, so no tokens. */
const emptyFile = smf({
  tracks: [events([0, ...meta(0x03, "Piano RH")], [0, 0xc0, 0], on(0, 60), off(480, 60))],
});
const notMidi = utf8("this is not a MIDI file\n");

function sample(files: Record<string, Uint8Array>, order: string[]) {
  const list = order.map((path) => ({
    path,
    size: files[path]!.length,
    sha256: sha256Hex(files[path]!),
  }));
  return { files: list };
}

/** The parse section of the config. */
const settings = (onError: "skip" | "fail", maxFileBytes = 16 << 20) => ({
  parse: { ...defaultConfig().parse, onError, maxFileBytes },
});

Deno.test("parse concatenates every file's tokens in sample order", async () => {
  const files = { "b/chords.mid": chordFile, "a/note.mid": noteFile };
  const ctx = fakeContext(files);
  const out = await parse.run(sample(files, ["b/chords.mid", "a/note.mid"]), settings("skip"), ctx);
  assert.deepEqual(out["notes.json"], ["0.4", "D4", "F#2"]);
  assert.deepEqual(out["parse_report.json"], [
    { path: "b/chords.mid", sha256: sha256Hex(chordFile), tokens: 2 },
    { path: "a/note.mid", sha256: sha256Hex(noteFile), tokens: 1 },
  ]);
  // The chord 0.4 was C4 and E4: the pitches render puts it back on as drums.
  assert.deepEqual(out["voicings.json"], { "0.4": [{ pitches: [60, 64], count: 1 }] });
  assert.deepEqual(ctx.collected.warnings, []);
  assert.deepEqual(ctx.collected.metrics, {
    filesParsed: 2,
    filesSkipped: 0,
    skippedFiles: [],
    emptyFiles: [],
    tokens: 3,
  });
});

Deno.test("parse gives the same tokens for the same input, written as compact JSON", async () => {
  const files = { "x.mid": chordFile, "y.mid": noteFile };
  const input = sample(files, ["x.mid", "y.mid"]);
  const a = await parse.run(input, settings("skip"), fakeContext(files));
  const b = await parse.run(input, settings("skip"), fakeContext(files));
  assert.deepEqual(a, b);
  assert.equal(
    new TextDecoder().decode(parse.outputs["notes.json"].encode(a["notes.json"])),
    '["0.4","D4","F#2"]',
  );
});

Deno.test("parse skips a file music21 cannot read when parse.onError is skip", async (t) => {
  for (
    const [name, bad] of [["not MIDI", notMidi], ["empty", new Uint8Array()], [
      "truncated",
      chordFile.slice(0, 20),
    ]] as const
  ) {
    await t.step(name, async () => {
      const files = { "good.mid": noteFile, "bad.mid": bad };
      const ctx = fakeContext(files);
      const out = await parse.run(sample(files, ["bad.mid", "good.mid"]), settings("skip"), ctx);
      assert.deepEqual(out["notes.json"], ["F#2"]);
      assert.equal(ctx.collected.warnings.length, 1);
      assert.match(ctx.collected.warnings[0]!, /^skipped bad\.mid: music21 cannot read it \(.+\)$/);
      const results = out["parse_report.json"];
      assert.ok("error" in results[0]! && results[0].error.startsWith("Cannot read MIDI: "));
      assert.equal(ctx.collected.metrics.filesParsed, 1);
      assert.equal(ctx.collected.metrics.filesSkipped, 1);
      assert.deepEqual(ctx.collected.metrics.skippedFiles, ["bad.mid"]);
    });
  }
});

Deno.test("parse stops at a file music21 cannot read when parse.onError is fail", async () => {
  const files = { "good.mid": noteFile, "dir/bad.mid": notMidi };
  await assert.rejects(
    () =>
      parse.run(
        sample(files, ["good.mid", "dir/bad.mid"]),
        settings("fail"),
        fakeContext(files),
      ),
    (e: Error) => {
      assert.ok(e instanceof StageInputError);
      assert.match(e.message, /dir\/bad\.mid/);
      assert.match(e.message, /parse\.onError: skip/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
});

Deno.test("parse counts a file with no tokens as parsed and warns about it", async () => {
  const files = { "empty.mid": emptyFile, "note.mid": noteFile };
  const ctx = fakeContext(files);
  const out = await parse.run(sample(files, ["empty.mid", "note.mid"]), settings("fail"), ctx);
  assert.deepEqual(out["notes.json"], ["F#2"]);
  assert.equal(ctx.collected.warnings.length, 1);
  assert.match(ctx.collected.warnings[0]!, /^empty\.mid gave no tokens/);
  assert.equal(ctx.collected.metrics.filesParsed, 2);
  assert.deepEqual(ctx.collected.metrics.emptyFiles, ["empty.mid"]);
  assert.deepEqual(out["parse_report.json"][0], {
    path: "empty.mid",
    sha256: sha256Hex(emptyFile),
    tokens: 0,
  });
});

Deno.test("parse rejects a dataset file that changed since the scan", async () => {
  const input = sample({ "a.mid": noteFile }, ["a.mid"]);
  await assert.rejects(
    () => parse.run(input, settings("skip"), fakeContext({ "a.mid": chordFile })),
    (e: Error) =>
      e instanceof StageInputError && /a\.mid changed since it was scanned/.test(e.message),
  );
});

Deno.test("parse skips a file over parse.maxFileBytes unread, naming the file and the limit", async () => {
  const files = { "big.mid": chordFile, "note.mid": noteFile };
  const ctx = fakeContext(files);
  const read: string[] = [];
  const readDataset = ctx.readDataset;
  ctx.readDataset = (path) => (read.push(path), readDataset(path));
  const limit = noteFile.length;
  // Even with onError: fail, a file beyond a configured limit is skipped, not fatal.
  const out = await parse.run(sample(files, ["big.mid", "note.mid"]), settings("fail", limit), ctx);
  assert.deepEqual(read, ["note.mid"]);
  assert.deepEqual(out["notes.json"], ["F#2"]);
  assert.deepEqual(ctx.collected.warnings, [
    `skipped big.mid: it is ${chordFile.length} bytes, over parse.maxFileBytes (${limit}); ` +
    `to parse it, raise the limit with --set parse.maxFileBytes=${chordFile.length}`,
  ]);
  assert.deepEqual(out["parse_report.json"][0], {
    path: "big.mid",
    sha256: sha256Hex(chordFile),
    error: `File too large: ${chordFile.length} bytes, over parse.maxFileBytes (${limit})`,
  });
  assert.equal(ctx.collected.metrics.filesParsed, 1);
  assert.equal(ctx.collected.metrics.filesSkipped, 1);
  assert.deepEqual(ctx.collected.metrics.skippedFiles, ["big.mid"]);
});

/** Kick + closed hi-hat on beat 1, snare a sixteenth late of beat 2 (480 ticks per quarter). */
const grooveFile = smf({
  tracks: [
    events(
      [0, 0x99, 36, 100],
      [0, 0x99, 42, 70],
      [60, 0x89, 36, 0],
      [0, 0x89, 42, 0],
      [540, 0x99, 38, 120],
      [60, 0x89, 38, 0],
      [0, 0x99, 99, 80],
      [60, 0x89, 99, 0],
    ),
  ],
});

const drumGrid = (velocity: "off" | "coarse" = "off") => ({
  parse: { ...defaultConfig().parse, encoding: "drum-grid" as const, velocity },
});

Deno.test("parse.encoding drum-grid: one token per sixteenth, silence as -, encoding.json says so", async () => {
  const files = { "groove.mid": grooveFile, "note.mid": noteFile };
  const ctx = fakeContext(files);
  const out = await parse.run(sample(files, ["groove.mid", "note.mid"]), drumGrid(), ctx);
  // Steps 0 (kick + hi-hat), 1–4 silent, 5 (snare: tick 600 is step 5 of 120 ticks).
  assert.deepEqual(out["notes.json"].slice(0, 6), [
    "hihat-closed+kick",
    "-",
    "-",
    "-",
    "-",
    "snare",
  ]);
  // note.mid's F#2 (42) is a closed hi-hat at step 0.
  assert.deepEqual(out["notes.json"].slice(6), ["hihat-closed"]);
  assert.deepEqual(out["encoding.json"], {
    encoding: "drum-grid",
    stepsPerQuarter: 4,
    velocity: "off",
  });
  assert.deepEqual(out["voicings.json"], {});
  // Pitch 99 is in none of the nine classes: counted and reported, not silently dropped.
  assert.deepEqual(ctx.collected.metrics.unmappedPitches, { 99: 1 });
  assert.equal(ctx.collected.warnings.length, 1);
  assert.match(
    ctx.collected.warnings[0]!,
    /1 notes on pitches outside the nine drum classes.*pitch 99: 1/,
  );
});

Deno.test("parse.velocity coarse: each step carries its loudest hit's bucket", async () => {
  const files = { "groove.mid": grooveFile };
  const out = await parse.run(
    sample(files, ["groove.mid"]),
    drumGrid("coarse"),
    fakeContext(files),
  );
  assert.equal(out["notes.json"][0], "hihat-closed+kick:loud");
  assert.equal(out["notes.json"][5], "snare:loud");
});

Deno.test("parse.encoding drum-grid skips a file whose grid is over parse.maxQuarters, quickly, naming the key", async () => {
  const files = { "far47.mid": FAR_HIT_47, "far133.mid": FAR_HITS_133, "groove.mid": grooveFile };
  const ctx = fakeContext(files);
  // Even with onError: fail, a file beyond a configured limit is skipped, not fatal.
  const config = { parse: { ...drumGrid().parse, onError: "fail" as const } };
  const began = performance.now();
  const out = await parse.run(
    sample(files, ["far47.mid", "far133.mid", "groove.mid"]),
    config,
    ctx,
  );
  assert.ok(
    performance.now() - began < 2000,
    "the files were refused before their grids were made",
  );
  assert.equal(out["notes.json"].length, 6, "groove.mid's steps only");
  assert.deepEqual(ctx.collected.warnings.slice(0, 2), [
    "skipped far47.mid: its drum grid would be 268435456 quarter notes long (1073741821 steps), " +
    "over parse.maxQuarters (18000); to parse it, raise the limit with " +
    "--set parse.maxQuarters=268435456",
    "skipped far133.mid: its drum grid would be 5033165 quarter notes long (20132660 steps), " +
    "over parse.maxQuarters (18000); to parse it, raise the limit with " +
    "--set parse.maxQuarters=5033165",
  ]);
  assert.deepEqual(out["parse_report.json"][1], {
    path: "far133.mid",
    sha256: sha256Hex(FAR_HITS_133),
    error: "Drum grid too long: 5033165 quarter notes, over parse.maxQuarters (18000)",
  });
  assert.deepEqual(ctx.collected.metrics.skippedFiles, ["far47.mid", "far133.mid"]);
  // The limit is the config's: groove.mid's grid is 6 steps, 1.5 quarter notes.
  const tight = fakeContext(files);
  const one = { parse: { ...drumGrid().parse, maxQuarters: 1 } };
  await parse.run(sample(files, ["groove.mid"]), one, tight);
  assert.match(
    tight.collected.warnings[0]!,
    /^skipped groove\.mid: .*over parse\.maxQuarters \(1\)/,
  );
});
