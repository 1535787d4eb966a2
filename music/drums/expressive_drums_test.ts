import assert from "node:assert/strict";
import { resolveConfig } from "../../core/config.ts";
import { tokenEncoding } from "../../formats/tokens.ts";
import { DEFAULT_MAX_QUARTERS, drumGridMidi, DrumGridTooLongError } from "./drum_grid.ts";
import { readDrumHits } from "./drum_midi.ts";
import { DRUM_CLASS_NAMES } from "./drums.ts";
import { encodingOf, quartersPerToken, renderTokens, tokenizeFile } from "../encoding.ts";
import {
  bucketVelocity,
  decodeExpressiveDrums,
  encodeExpressiveDrums,
  EXPRESSIVE_STEPS_PER_QUARTER,
  expressiveDrumsMidi,
  expressiveTokenError,
  offsetRange,
  STEP_TOKEN,
  unitOfTick,
  VELOCITY_BUCKET_WIDTH,
} from "./expressive_drums.ts";
import { MidiReadError, readSmf } from "../smf.ts";
import { events, meta, smf } from "../../tests/_smf.ts";
import { FAR_HIT_47, FAR_HITS_133 } from "../../tests/_long_grid.ts";

/** A hit: absolute tick, pitch, velocity (default 100), channel 0–15 (default 9, drums). */
type Hit = [tick: number, pitch: number, velocity?: number, channel?: number];

/**
 * A format 0 file of `division` ticks per quarter with each hit as a note-on and a note-off 30
 * ticks later, and a tempo at tick 0 when `bpm` is given.
 */
function drumFile(hits: readonly Hit[], division = 480, bpm?: number): Uint8Array {
  const rows: [number, number[]][] = [];
  if (bpm !== undefined) {
    const us = Math.round(60_000_000 / bpm);
    rows.push([0, meta(0x51, [us >> 16, (us >> 8) & 0xff, us & 0xff])]);
  }
  for (const [tick, pitch, velocity = 100, channel = 9] of hits) {
    rows.push([tick, [0x90 | channel, pitch, velocity]]);
    rows.push([tick + 30, [0x80 | channel, pitch, 0]]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  let now = 0;
  const track = events(
    ...rows.map(([tick, bytes]) => {
      const delta = tick - now;
      now = tick;
      return [delta, ...bytes];
    }),
    [0, ...meta(0x2f, [])],
  );
  return smf({ division, tracks: [track] });
}

const KICK = 36, SNARE = 38, HAT = 42, RIDE = 51;
const EXPRESSIVE = { encoding: "drum-expressive", stepsPerQuarter: 4, velocity: "off" } as const;

/** The rendered notes of tokens as [pitch, tick, velocity]. */
const played = (tokens: string[], opts = {}) =>
  expressiveDrumsMidi(tokens, opts).notes.map((n) => [n.pitch, n.tick, n.velocity]);

Deno.test("encodeExpressiveDrums() keeps a hit 10 ticks late, and plays it there", () => {
  // 10 ticks at 480 per quarter are 2 96ths; velocity 100 is in bucket 96–100, which plays 98.
  const { tokens, hits, unmapped, warning } = encodeExpressiveDrums(
    drumFile([[0, KICK], [10, HAT, 40], [240, SNARE, 90]]),
  );
  assert.deepEqual(tokens, [
    "kick:v98",
    "@+2",
    "hihat-closed:v38",
    "step",
    "step",
    "snare:v88",
    "step",
  ]);
  assert.equal(hits, 3);
  assert.deepEqual(unmapped, []);
  assert.equal(warning, undefined);
  assert.deepEqual(played(tokens), [[36, 0, 98], [42, 10, 38], [38, 240, 88]]);
});

Deno.test("encodeExpressiveDrums() rounds to 5 ticks, half up, and a step's hits to the nearest step", () => {
  const rounded = (tick: number) => played(encodeExpressiveDrums(drumFile([[tick, KICK]])).tokens);
  // 12 ticks are 2.4 units: 10 ticks; 13 are 2.6: 15.
  assert.deepEqual(rounded(12), [[36, 10, 98]]);
  assert.deepEqual(rounded(13), [[36, 15, 98]]);
  // 57 ticks are 11.4 units: +11 of step 0; 58 are 11.6, so 12, halfway: step 1 at −12.
  assert.deepEqual(encodeExpressiveDrums(drumFile([[57, KICK]])).tokens, [
    "@+11",
    "kick:v98",
    "step",
  ]);
  assert.deepEqual(encodeExpressiveDrums(drumFile([[58, KICK]])).tokens, [
    "step",
    "@-12",
    "kick:v98",
    "step",
  ]);
  assert.deepEqual(rounded(58), [[36, 60, 98]]);
});

Deno.test("encodeExpressiveDrums() keeps both hits of a flam, each with its own velocity", () => {
  // A soft grace note 10 ticks before a loud snare on the second beat: the drum grid keeps one.
  const file = drumFile([[470, SNARE, 40], [480, SNARE, 110], [480, KICK, 70]]);
  const { tokens } = encodeExpressiveDrums(file);
  assert.deepEqual(tokens.slice(4), ["@-2", "snare:v38", "@0", "kick:v68", "snare:v108", "step"]);
  assert.deepEqual(tokens.slice(0, 4), ["step", "step", "step", "step"]);
  assert.deepEqual(played(tokens), [[38, 470, 38], [36, 480, 68], [38, 480, 108]]);
  // The grace note ends when the snare is struck again; the last notes last a step.
  const notes = decodeExpressiveDrums(tokens).notes;
  assert.deepEqual(notes.map((n) => n.durationTicks), [10, 120, 120]);
});

Deno.test("encodeExpressiveDrums() plays velocity 127 as 127 and velocity 1 as 3, within 2", () => {
  const velocities = [1, 2, 3, 5, 6, 64, 125, 126, 127];
  const { tokens } = encodeExpressiveDrums(drumFile(velocities.map((v, i) => [i * 120, RIDE, v])));
  const ride = tokens.filter((t) => t.startsWith("ride:"));
  assert.deepEqual(ride, [
    "ride:v3",
    "ride:v3",
    "ride:v3",
    "ride:v3",
    "ride:v8",
    "ride:v63",
    "ride:v123",
    "ride:v127",
    "ride:v127",
  ]);
  for (let v = 1; v <= 127; v++) {
    assert.ok(Math.abs(bucketVelocity(v) - v) <= Math.floor(VELOCITY_BUCKET_WIDTH / 2), `${v}`);
    assert.equal(
      bucketVelocity(bucketVelocity(v)),
      bucketVelocity(v),
      "a played velocity plays itself",
    );
  }
  assert.equal(new Set(Array.from({ length: 127 }, (_, i) => bucketVelocity(i + 1))).size, 26);
});

Deno.test("encodeExpressiveDrums() gives a hit past the last step a step of its own", () => {
  // At 4 steps per quarter the last step of the first bar is 15 (tick 1800). A hit 55 ticks
  // late is still its (+11), one 60 ticks late belongs to step 16, which the tokens then hold.
  const late = encodeExpressiveDrums(drumFile([[0, KICK], [1855, HAT]])).tokens;
  assert.equal(late.filter((t) => t === STEP_TOKEN).length, 16);
  assert.deepEqual(late.slice(-3), ["@+11", "hihat-closed:v98", "step"]);
  const past = encodeExpressiveDrums(drumFile([[0, KICK], [1860, HAT]])).tokens;
  assert.equal(past.filter((t) => t === STEP_TOKEN).length, 17);
  assert.deepEqual(past.slice(-4), ["step", "@-12", "hihat-closed:v98", "step"]);
  // The rendered file lasts to the end of its last step.
  const { bytes } = expressiveDrumsMidi(past);
  const file = readSmf(bytes);
  assert.equal(file.events.tick[file.events.count - 1], 17 * 120);
});

Deno.test("encodeExpressiveDrums() reads any division and channel, and never the tempo", () => {
  // 96 per quarter: a tick is a unit. 1000 per quarter: 52 ticks are 4.99 units → 5.
  const at96 = encodeExpressiveDrums(drumFile([[0, KICK], [3, SNARE, 100, 0]], 96)).tokens;
  assert.deepEqual(at96, ["kick:v98", "@+3", "snare:v98", "step"]);
  const at1000 = encodeExpressiveDrums(drumFile([[52, KICK]], 1000)).tokens;
  assert.deepEqual(at1000, ["@+5", "kick:v98", "step"]);
  const slow = encodeExpressiveDrums(drumFile([[10, KICK], [250, HAT]], 480, 50)).tokens;
  const fast = encodeExpressiveDrums(drumFile([[10, KICK], [250, HAT]], 480, 290)).tokens;
  assert.deepEqual(slow, fast);
});

Deno.test("encodeExpressiveDrums() at other steps per quarter keeps offsets within the step", () => {
  for (const stepsPerQuarter of EXPRESSIVE_STEPS_PER_QUARTER) {
    const file = drumFile([[0, KICK], [7, HAT], [133, SNARE], [477, RIDE], [961, KICK, 1]]);
    const { tokens } = encodeExpressiveDrums(file, { stepsPerQuarter });
    const { min, max } = offsetRange(stepsPerQuarter);
    for (const token of tokens) {
      assert.equal(expressiveTokenError(token, stepsPerQuarter), undefined, token);
      if (token.startsWith("@")) {
        assert.ok(Number(token.slice(1)) >= min && Number(token.slice(1)) <= max);
      }
    }
    const again = encodeExpressiveDrums(expressiveDrumsMidi(tokens, { stepsPerQuarter }).bytes, {
      stepsPerQuarter,
    });
    assert.deepEqual(again.tokens, tokens, `${stepsPerQuarter} steps per quarter`);
  }
});

Deno.test("encodeExpressiveDrums() counts unmapped pitches, and warns when nothing is left", () => {
  const some = encodeExpressiveDrums(drumFile([[0, KICK], [0, 99], [120, 99]]));
  assert.deepEqual(some.unmapped, [{ pitch: 99, count: 2 }]);
  assert.equal(some.hits, 1);
  const none = encodeExpressiveDrums(drumFile([[0, 99]]));
  assert.deepEqual(none.tokens, []);
  assert.match(none.warning!, /pitches 99\), so its expressive drum encoding is empty/);
  assert.match(encodeExpressiveDrums(drumFile([])).warning!, /no note-on with velocity above 0/);
});

Deno.test("encodeExpressiveDrums() refuses wrong settings, a 0-tick division and huge grids", () => {
  for (const stepsPerQuarter of [0, 5, 7, 480, 2.5, NaN]) {
    assert.throws(
      () => encodeExpressiveDrums(drumFile([[0, KICK]]), { stepsPerQuarter }),
      /stepsPerQuarter must divide 96 \(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96; found/,
    );
  }
  for (const maxQuarters of [0, -1, 2.5]) {
    assert.throws(
      () => encodeExpressiveDrums(drumFile([[0, KICK]]), { maxQuarters }),
      /maxQuarters must be a positive integer/,
    );
  }
  const zero = smf({ division: 0, tracks: [events([0, 0x99, KICK, 100])] });
  assert.throws(() => encodeExpressiveDrums(zero), /0 ticks per quarter note/);
  assert.throws(() => tokenizeFile(zero, EXPRESSIVE), MidiReadError);
  for (const bytes of [FAR_HIT_47, FAR_HITS_133]) {
    const began = performance.now();
    assert.throws(() => encodeExpressiveDrums(bytes), (e: unknown) => {
      assert.ok(e instanceof DrumGridTooLongError && e instanceof MidiReadError);
      assert.equal(e.maxQuarters, DEFAULT_MAX_QUARTERS);
      return true;
    });
    assert.throws(() => tokenizeFile(bytes, EXPRESSIVE), DrumGridTooLongError);
    assert.ok(performance.now() - began < 1000);
  }
  // Hits at quarter 0 and 3: 13 steps, 3.25 quarter notes.
  const file = drumFile([[0, KICK], [3 * 480, SNARE]]);
  assert.throws(() => tokenizeFile(file, EXPRESSIVE, { maxQuarters: 3 }), DrumGridTooLongError);
  const fits = tokenizeFile(file, EXPRESSIVE, { maxQuarters: 4 }).tokens;
  assert.equal(fits.filter((t) => t === STEP_TOKEN).length, 13);
});

Deno.test("expressiveTokenError() accepts exactly the tokens the encoding can write", () => {
  const { min, max } = offsetRange(4);
  const positions = Array.from({ length: max - min + 1 }, (_, i) => i + min)
    .map((o) => `@${o > 0 ? "+" : ""}${o}`);
  const velocities = [...new Set(Array.from({ length: 127 }, (_, i) => bucketVelocity(i + 1)))];
  const hits = DRUM_CLASS_NAMES.flatMap((name) => velocities.map((v) => `${name}:v${v}`));
  const vocabulary = [STEP_TOKEN, ...positions, ...hits];
  assert.equal(vocabulary.length, 1 + 24 + 9 * 26);
  for (const token of vocabulary) assert.equal(expressiveTokenError(token), undefined, token);
  for (
    const token of [
      "-",
      "kick",
      "kick:v90",
      "kick:v0",
      "kick:v128",
      "kick:v098",
      "kick:loud",
      "kick:v98:x",
      "cowbell:v98",
      "@+12",
      "@-13",
      "@+0",
      "@-0",
      "@2",
      "@",
      "Step",
      "<unk>",
    ]
  ) {
    assert.match(expressiveTokenError(token)!, /is not an expressive drum token: /, token);
  }
  assert.match(expressiveTokenError("@+12")!, /from -12 to 11 at 4 steps per quarter/);
  assert.equal(expressiveTokenError("@+23", 2), undefined, "a step of an eighth spans ±24");
  assert.match(expressiveTokenError("kick:v90")!, /"v90" is not a velocity the encoding plays/);
});

Deno.test("decodeExpressiveDrums() plays whatever a model writes, and names a bad token", () => {
  // A hit before any position is on the step; positions may go back; a hit after the last step
  // is one step more; a hit early in step 0 is played at tick 0, with a warning.
  const tokens = ["@-3", "kick:v98", "step", "snare:v8", "@+4", "ride:v63", "@-1", "kick:v3"];
  const { notes, steps, warnings } = decodeExpressiveDrums(tokens, { bpm: 60 });
  assert.deepEqual(notes.map((n) => [n.pitch, n.tick, n.token, n.step]), [
    [36, 0, 1, 0],
    [38, 120, 3, 1],
    [51, 140, 5, 1],
    [36, 115, 7, 1],
  ]);
  assert.equal(steps, 2);
  assert.deepEqual(warnings, [
    "token 1 (kick:v98) is 15 ticks before the start, so it is played at tick 0",
  ]);
  assert.equal(notes[1]!.seconds, 0.25, "a step is a quarter second at 60 bpm");
  assert.deepEqual(decodeExpressiveDrums([]).notes, []);
  assert.equal(decodeExpressiveDrums(["step", "step"]).steps, 2);
  assert.throws(
    () => decodeExpressiveDrums(["step", "kick:v98", "kick:v99"]),
    /^SyntaxError: Cannot decode token 2: "kick:v99" is not an expressive drum token/,
  );
  assert.throws(() => decodeExpressiveDrums(["kick:v98"], { bpm: 0 }), /bpm must be a number/);
  assert.throws(() => decodeExpressiveDrums(["kick:v98"], { stepsPerQuarter: 5 }), RangeError);
});

Deno.test("expressiveDrumsMidi() writes the same bytes each time, on channel 10, at the tempo", () => {
  const tokens = ["kick:v98", "@+2", "hihat-closed:v38", "step", "@-1", "kick:v127", "step"];
  const { bytes } = expressiveDrumsMidi(tokens, { bpm: 90 });
  assert.deepEqual(expressiveDrumsMidi(tokens, { bpm: 90 }).bytes, bytes);
  const file = readSmf(bytes);
  assert.equal(file.ticksPerQuarter, 480);
  const { count, status, data1, data2, tick } = file.events;
  const rows = Array.from({ length: count }, (_, i) => i);
  const ons = rows.filter((i) => (status[i]! & 0xf0) === 0x90);
  assert.ok(ons.every((i) => status[i] === 0x99));
  assert.deepEqual(ons.map((i) => [tick[i], data1[i], data2[i]]), [[0, 36, 98], [10, 42, 38], [
    115,
    36,
    127,
  ]]);
  assert.ok(Math.abs(readDrumHits(bytes, "read").bpm! - 90) < 1e-3);
  // The first kick ends when the second begins, 115 ticks later.
  const kickOff = rows.find((i) => status[i] === 0x89 && data1[i] === 36)!;
  assert.equal(tick[kickOff], 115);
});

Deno.test("drum-expressive is a parse.encoding: tokenizeFile, renderTokens and its settings", () => {
  const config = resolveConfig({ parse: { encoding: "drum-expressive" } }, "x.yaml");
  assert.deepEqual(encodingOf(config.parse), EXPRESSIVE);
  assert.throws(
    () => resolveConfig({ parse: { encoding: "drum-expresive" } }, "x.yaml"),
    /x\.yaml: parse\.encoding must be one of music21, drum-grid, drum-expressive/,
  );
  const wrong = [
    [
      { stepsPerQuarter: 5 },
      /parse\.stepsPerQuarter must divide 96 under parse\.encoding: drum-expressive \(found 5\)/,
    ],
    [
      { velocity: "coarse" },
      /parse\.velocity coarse is for the drum grid: .* leave parse\.velocity at off/,
    ],
  ] as const;
  for (const [settings, message] of wrong) {
    const { parse } = resolveConfig({ parse: { encoding: "drum-expressive", ...settings } }, "x");
    assert.throws(
      () => encodingOf(parse),
      (e: unknown) => e instanceof RangeError && message.test(e.message),
    );
    // Refused before the file is read: no file is blamed for the settings.
    assert.throws(() => tokenizeFile(new Uint8Array(), { ...EXPRESSIVE, ...settings }), message);
  }
  // The other encodings keep their settings as they were.
  const grid = resolveConfig({
    parse: { encoding: "drum-grid", stepsPerQuarter: 5, velocity: "coarse" },
  }, "x");
  assert.equal(encodingOf(grid.parse).stepsPerQuarter, 5);
  // encoding.json holds it.
  assert.deepEqual(tokenEncoding.decode(tokenEncoding.encode(EXPRESSIVE)), EXPRESSIVE);
  const file = drumFile([[0, KICK], [10, HAT, 40]]);
  const { tokens } = tokenizeFile(file, EXPRESSIVE);
  assert.deepEqual(tokens, encodeExpressiveDrums(file).tokens);
  const render = { step: 0.5, instrument: "piano", bpm: 100 } as const;
  const rendered = renderTokens(tokens, EXPRESSIVE, render, {});
  assert.deepEqual(rendered.bytes, expressiveDrumsMidi(tokens, { bpm: 100 }).bytes);
  assert.equal(rendered.ticksPerQuarter, 480);
  assert.ok(rendered.drums);
  assert.throws(() => quartersPerToken(EXPRESSIVE, render), /no fixed number of tokens per bar/);
  // The drum grid renders as before.
  const gridTokens = tokenizeFile(file, { ...EXPRESSIVE, encoding: "drum-grid" }).tokens;
  assert.deepEqual(gridTokens, ["hihat-closed+kick"]);
  assert.deepEqual(
    renderTokens(gridTokens, { ...EXPRESSIVE, encoding: "drum-grid" }, render, {}).bytes,
    drumGridMidi(gridTokens, { bpm: 100 }).bytes,
  );
});

/** The Groove files info.csv lists, as paths. */
async function grooveFiles(): Promise<string[]> {
  const dir = new URL("../../data/groove/", import.meta.url);
  const [header, ...rows] = (await Deno.readTextFile(new URL("info.csv", dir))).trim().split("\n")
    .map((line) => line.split(","));
  const column = header!.indexOf("midi_filename");
  return rows.map((row) => new URL(row[column]!, dir).pathname);
}

Deno.test("every Groove file round-trips, and renders back its hits within 2 ticks and 2 velocity", async () => {
  const files = await grooveFiles();
  assert.equal(files.length, 1150, "data/groove/info.csv lists 1,150 files");
  const worst = { ticks: 0, ms: 0, velocity: 0, ticksFile: "", velocityFile: "" };
  const sum = { ticks: 0, ms: 0, velocity: 0, hits: 0, tokens: 0, steps: 0 };
  const vocabulary = new Set<string>();
  for (const path of files) {
    const bytes = await Deno.readFile(path);
    const { tokens, unmapped } = encodeExpressiveDrums(bytes);
    assert.deepEqual(unmapped, [], `${path}: a pitch outside the map`);
    const original = readDrumHits(bytes, "read");
    const bpm = original.bpm!;
    const out = expressiveDrumsMidi(tokens, { bpm });
    assert.deepEqual(out.warnings, []);
    const again = encodeExpressiveDrums(out.bytes).tokens;
    assert.equal(
      again.join(" "),
      tokens.join(" "),
      `${path}: encode → render → encode changed the tokens`,
    );
    // Hits pair up class by class, in the order of their rounded time, then velocity: the order
    // the rendered file holds them in.
    const rendered = readDrumHits(out.bytes, "read");
    const tpq = original.ticksPerQuarter;
    const inOrder = (hits: typeof original, key: (i: number) => number) =>
      Array.from({ length: hits.count }, (_, i) => i).sort((a, b) =>
        hits.drumClass[a]! - hits.drumClass[b]! || key(a) - key(b) ||
        hits.velocity[a]! - hits.velocity[b]!
      );
    const before = inOrder(original, (i) => unitOfTick(original.tick[i]!, tpq));
    const after = inOrder(rendered, (i) => rendered.tick[i]!);
    assert.equal(after.length, before.length, `${path}: hits lost or added`);
    const msPerTick = 60_000 / (bpm * 480);
    before.forEach((i, k) => {
      const j = after[k]!;
      assert.equal(rendered.drumClass[j], original.drumClass[i], path);
      const ticks = Math.abs(rendered.tick[j]! - original.tick[i]! * 480 / tpq);
      const velocity = Math.abs(rendered.velocity[j]! - original.velocity[i]!);
      if (ticks > worst.ticks) Object.assign(worst, { ticks, ticksFile: path });
      if (velocity > worst.velocity) Object.assign(worst, { velocity, velocityFile: path });
      worst.ms = Math.max(worst.ms, ticks * msPerTick);
      sum.ticks += ticks;
      sum.ms += ticks * msPerTick;
      sum.velocity += velocity;
    });
    sum.hits += before.length;
    sum.tokens += tokens.length;
    sum.steps += out.steps;
    for (const t of tokens) vocabulary.add(t);
  }
  // Half a unit of 5 ticks rounds integer ticks by at most 2; half a bucket of 5, by 2.
  assert.ok(worst.ticks <= 2, `${worst.ticksFile}: a hit moved ${worst.ticks} ticks`);
  assert.ok(worst.velocity <= 2, `${worst.velocityFile}: a velocity moved ${worst.velocity}`);
  console.log(
    `${files.length} Groove files, ${sum.hits} hits: timing error max ${worst.ticks} ticks ` +
      `(${worst.ms.toFixed(2)} ms), mean ${(sum.ticks / sum.hits).toFixed(2)} ticks ` +
      `(${(sum.ms / sum.hits).toFixed(2)} ms); velocity error max ${worst.velocity}, mean ` +
      `${(sum.velocity / sum.hits).toFixed(2)}; ${vocabulary.size} tokens used; ` +
      `${(sum.tokens / (sum.steps / 16)).toFixed(1)} tokens per 4/4 bar`,
  );
});
