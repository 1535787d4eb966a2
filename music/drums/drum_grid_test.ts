import assert from "node:assert/strict";
import { defaultConfig } from "../../formats/config_schema.ts";
import {
  decodeDrumGrid,
  DEFAULT_MAX_QUARTERS,
  drumGridMidi,
  drumGridTokenError,
  DrumGridTooLongError,
  encodeDrumGrid,
  isDrumGridToken,
} from "./drum_grid.ts";
import { tokenizeFile } from "../encoding.ts";
import { events, meta, smf } from "../../tests/_smf.ts";
import { FAR_HIT_47, FAR_HITS_133 } from "../../tests/_long_grid.ts";
import { MidiReadError, readSmf } from "../smf.ts";

/** Ticks per quarter note of the hand-made files: 120 ticks a step at 4 steps per quarter. */
const TPQ = 480;

/** A hit: absolute tick, pitch, velocity (default 100), channel 0–15 (default 9, drums). */
type Hit = [tick: number, pitch: number, velocity?: number, channel?: number];

/**
 * A format 0 file with each hit as a note-on and a note-off 30 ticks later, and a tempo meta
 * event (bpm) at each tick of `tempos`.
 */
function drumFile(hits: readonly Hit[], tempos: readonly [number, number][] = []): Uint8Array {
  const rows: [number, number[]][] = [];
  for (const [tick, bpm] of tempos) {
    const us = Math.round(60_000_000 / bpm);
    rows.push([tick, meta(0x51, [us >> 16, (us >> 8) & 0xff, us & 0xff])]);
  }
  for (const [tick, pitch, velocity = 100, channel = 9] of hits) {
    rows.push([tick, [0x90 | channel, pitch, velocity]]);
    rows.push([tick + 30, [0x80 | channel, pitch, 0]]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  let now = 0;
  const track = events(
    [0, ...meta(0x58, [4, 2, 24, 8])],
    ...rows.map(([tick, bytes]) => {
      const delta = tick - now;
      now = tick;
      return [delta, ...bytes];
    }),
    [0, ...meta(0x2f, [])],
  );
  return smf({ division: TPQ, tracks: [track] });
}

const KICK = 36, SNARE = 38, HAT = 42, OPEN_HAT = 46, CRASH = 49, RIDE = 51;

Deno.test("encodeDrumGrid() writes one token per step, - for a silent one", () => {
  const { tokens, hits, unmapped, warning } = encodeDrumGrid(
    drumFile([[0, KICK], [240, HAT], [480, SNARE]]),
  );
  assert.deepEqual(tokens, ["kick", "-", "hihat-closed", "-", "snare"]);
  assert.equal(hits, 3);
  assert.deepEqual(unmapped, []);
  assert.equal(warning, undefined);
});

Deno.test("encodeDrumGrid() rounds an early or late hit to the nearest step, half up", () => {
  // A step is 120 ticks: 59 → 0.49 → 0; 60 → 0.5 → 1 (half up); 470 → 3.92 → 4; 610 → 5.08 → 5.
  const { tokens } = encodeDrumGrid(drumFile([[59, KICK], [60, SNARE], [470, CRASH], [610, RIDE]]));
  assert.deepEqual(tokens, ["kick", "snare", "-", "-", "crash", "ride"]);
});

Deno.test("encodeDrumGrid() joins a step's classes sorted with + and counts a class once", () => {
  // 35 is kick too, and 22 (the TD-11's closed hi-hat edge) is a closed hi-hat.
  const { tokens, hits } = encodeDrumGrid(
    drumFile([[0, KICK], [0, HAT], [10, 35], [110, 22], [120, OPEN_HAT], [125, HAT]]),
  );
  assert.deepEqual(tokens, ["hihat-closed+kick", "hihat-closed+hihat-open"]);
  assert.equal(hits, 6, "hits are counted before merging");
});

Deno.test("encodeDrumGrid() ignores tempo: the grid is in beats, and ticks already are", () => {
  const hits: Hit[] = [[0, KICK], [480, SNARE], [960, KICK], [1200, HAT], [1440, SNARE]];
  const steady = encodeDrumGrid(drumFile(hits, [[0, 120]])).tokens;
  const changing = encodeDrumGrid(drumFile(hits, [[0, 120], [960, 60], [1300, 200]])).tokens;
  assert.deepEqual(changing, steady);
  assert.deepEqual(steady.slice(8), ["kick", "-", "hihat-closed", "-", "snare"]);
});

Deno.test("encodeDrumGrid() rounds eighth-note triplets to the nearest sixteenth", () => {
  // Triplet eighths are 160 ticks apart, 4/3 of a step: at steps 0, 1.33, 2.67, 4, 5.33, 6.67, 8,
  // which round to 0, 1, 3, 4, 5, 7, 8; at 3 steps per quarter they are steps 0 to 6 exactly.
  const triplets: Hit[] = [0, 1, 2, 3, 4, 5, 6].map((k) => [k * 160, HAT]);
  const h = "hihat-closed";
  assert.deepEqual(encodeDrumGrid(drumFile(triplets)).tokens, [h, h, "-", h, h, h, "-", h, h]);
  assert.deepEqual(
    encodeDrumGrid(drumFile(triplets), { stepsPerQuarter: 3 }).tokens,
    Array(7).fill(h),
  );
});

Deno.test("encodeDrumGrid() counts pitches outside the nine classes per pitch", () => {
  // The unmapped notes after the kick do not lengthen the grid.
  const { tokens, hits, unmapped, warning } = encodeDrumGrid(
    drumFile([[0, 90], [0, KICK], [240, 21], [480, 90]]),
  );
  assert.deepEqual(tokens, ["kick"]);
  assert.equal(hits, 1);
  assert.deepEqual(unmapped, [{ pitch: 21, count: 1 }, { pitch: 90, count: 2 }]);
  assert.equal(warning, undefined);
});

Deno.test("encodeDrumGrid() reads note-ons on every channel, not velocity-0 note-ons", () => {
  const { tokens } = encodeDrumGrid(drumFile([[0, KICK, 100, 0], [120, SNARE, 0], [240, HAT]]));
  assert.deepEqual(tokens, ["kick", "-", "hihat-closed"]);
});

Deno.test("encodeDrumGrid() gives no tokens and a warning for a file without drum notes", () => {
  const silent = encodeDrumGrid(drumFile([[0, KICK, 0]]));
  assert.deepEqual(silent.tokens, []);
  assert.match(silent.warning ?? "", /no note-on with velocity above 0/);
  const melodic = encodeDrumGrid(drumFile([[0, 90], [480, 100]]));
  assert.deepEqual(melodic.tokens, []);
  assert.equal(melodic.hits, 0);
  assert.equal(
    melodic.warning,
    "none of the file's 2 note-ons is on a pitch of the nine drum classes (pitches 90, 100), " +
      "so its drum grid is empty",
  );
});

Deno.test("encodeDrumGrid() with coarse velocity adds the loudest hit's bucket", () => {
  const file = drumFile([
    [0, KICK, 1],
    [120, KICK, 59],
    [240, KICK, 60],
    [360, KICK, 99],
    [480, KICK, 100],
    [600, KICK, 127],
    [720, KICK, 30],
    [720, HAT, 110],
  ]);
  assert.deepEqual(encodeDrumGrid(file, { velocity: "coarse" }).tokens, [
    "kick:soft",
    "kick:soft",
    "kick:medium",
    "kick:medium",
    "kick:loud",
    "kick:loud",
    "hihat-closed+kick:loud",
  ]);
  assert.deepEqual(encodeDrumGrid(file, { velocity: "off" }).tokens.at(-1), "hihat-closed+kick");
});

Deno.test("encodeDrumGrid() rejects a bad stepsPerQuarter and a 0-tick division", () => {
  for (const stepsPerQuarter of [0, 2.5, 481, NaN]) {
    assert.throws(() => encodeDrumGrid(drumFile([[0, KICK]]), { stepsPerQuarter }), RangeError);
  }
  const zero = smf({ division: 0, tracks: [events([0, 0x99, KICK, 100])] });
  assert.throws(() => encodeDrumGrid(zero), /0 ticks per quarter note/);
});

Deno.test("encodeDrumGrid() refuses a 47-byte and a 133-byte file's huge grids at once, unmade", () => {
  // Before the limit, the 47-byte file took 13 s and 4 GB to fail with "Invalid array length",
  // and the 133-byte one 1.7 s and 890 MB to give 20,132,660 tokens.
  for (
    const [bytes, steps, quarters] of [
      [FAR_HIT_47, 1_073_741_821, 268_435_456],
      [FAR_HITS_133, 20_132_660, 5_033_165],
    ] as const
  ) {
    assert.ok(bytes.length === 47 || bytes.length === 133);
    const began = performance.now();
    assert.throws(
      () => encodeDrumGrid(bytes),
      (e: unknown) => {
        assert.ok(e instanceof DrumGridTooLongError && e instanceof MidiReadError);
        assert.equal(e.steps, steps);
        assert.equal(e.quarters, quarters);
        assert.equal(e.maxQuarters, DEFAULT_MAX_QUARTERS);
        assert.equal(
          e.message,
          `Cannot encode a drum grid: its drum grid would be ${quarters} quarter notes long ` +
            `(${steps} steps), over the limit of ${DEFAULT_MAX_QUARTERS} quarter notes`,
        );
        return true;
      },
    );
    assert.ok(performance.now() - began < 1000, `${bytes.length} bytes took over a second`);
  }
});

Deno.test("encodeDrumGrid() takes a grid of exactly maxQuarters, refuses one step more", () => {
  // Hits at quarter 0 and quarter 3: 13 steps at sixteenths, 3.25 quarter notes.
  const file = drumFile([[0, KICK], [3 * TPQ, SNARE]]);
  assert.throws(() => encodeDrumGrid(file, { maxQuarters: 3 }), (e: unknown) => {
    assert.ok(e instanceof DrumGridTooLongError);
    assert.deepEqual([e.steps, e.quarters, e.maxQuarters], [13, 4, 3]);
    return true;
  });
  assert.equal(encodeDrumGrid(file, { maxQuarters: 4 }).tokens.length, 13);
  // One step per quarter: 4 steps, exactly 4 quarter notes.
  assert.equal(encodeDrumGrid(file, { maxQuarters: 4, stepsPerQuarter: 1 }).tokens.length, 4);
  assert.throws(() => encodeDrumGrid(file, { maxQuarters: 3, stepsPerQuarter: 1 }), /4 steps/);
  // Only hits that make a step count: an unmapped pitch or a silent note far away does not.
  const far = drumFile([[0, KICK], [1000 * TPQ, 99], [2000 * TPQ, SNARE, 0]]);
  assert.deepEqual(encodeDrumGrid(far, { maxQuarters: 1 }).tokens, ["kick"]);
  for (const maxQuarters of [0, -1, 2.5, NaN]) {
    assert.throws(() => encodeDrumGrid(file, { maxQuarters }), /maxQuarters must be a positive/);
  }
});

Deno.test("tokenizeFile() holds every drum grid to parse.maxQuarters; music21 has no grid to bound", () => {
  assert.equal(DEFAULT_MAX_QUARTERS, defaultConfig().parse.maxQuarters);
  const grid = { encoding: "drum-grid", stepsPerQuarter: 4, velocity: "off" } as const;
  for (const bytes of [FAR_HIT_47, FAR_HITS_133]) {
    assert.throws(() => tokenizeFile(bytes, grid), DrumGridTooLongError, "the default limit");
  }
  assert.throws(
    () => tokenizeFile(FAR_HITS_133, grid, { maxQuarters: 5_000_000 }),
    /5033165 quarter notes long \(20132660 steps\), over the limit of 5000000/,
  );
  const file = drumFile([[0, KICK], [3 * TPQ, SNARE]]);
  assert.throws(() => tokenizeFile(file, grid, { maxQuarters: 3 }), DrumGridTooLongError);
  assert.equal(tokenizeFile(file, grid, { maxQuarters: 4 }).tokens.length, 13);
  // music21's tokens are one per note or chord, however far apart: the same files are quick.
  const music21 = { ...grid, encoding: "music21" } as const;
  const began = performance.now();
  assert.deepEqual(tokenizeFile(FAR_HITS_133, music21, { maxQuarters: 1 }).tokens, ["C2"]);
  assert.deepEqual(tokenizeFile(FAR_HIT_47, music21).tokens, []);
  assert.ok(performance.now() - began < 1000);
});

Deno.test("drumGridTokenError() accepts exactly the tokens encodeDrumGrid() writes", async (t) => {
  const valid: [string, ("off" | "coarse")?][] = [
    ["-"],
    ["kick"],
    ["hihat-closed+kick"],
    ["crash+hihat-closed+hihat-open+kick+ride+snare+tom-high+tom-low+tom-mid"],
    ["kick:loud"],
    ["hihat-closed+kick:soft", "coarse"],
    ["-", "coarse"],
    ["snare", "off"],
  ];
  for (const [token, velocity] of valid) {
    await t.step(`valid: ${token} (${velocity ?? "either"})`, () => {
      assert.equal(drumGridTokenError(token, velocity), undefined);
      assert.equal(isDrumGridToken(token, velocity), true);
    });
  }
  const invalid: [string, RegExp, ("off" | "coarse")?][] = [
    ["", /names no drum class/],
    ["C4", /"C4" is not a drum class \(crash, hihat-closed, .*, tom-mid\)/],
    ["kick+hihat-closed", /alphabetical order \(hihat-closed\+kick\)/],
    ["kick+kick", /distinct/],
    ["kick+", /"" is not a drum class/],
    ["kick:forte", /"forte" is not a velocity/],
    ["kick:loud:loud", /more than one/],
    ["-:loud", /silent step/],
    ["kick:loud", /velocity is off/, "off"],
    ["kick", /lacks a velocity/, "coarse"],
  ];
  for (const [token, reason, velocity] of invalid) {
    await t.step(`invalid: ${JSON.stringify(token)}`, () => {
      const error = drumGridTokenError(token, velocity) ?? "";
      assert.match(error, reason);
      assert.ok(error.startsWith(`${JSON.stringify(token)} is not a drum-grid token: `));
      assert.equal(isDrumGridToken(token, velocity), false);
    });
  }
});

Deno.test("decodeDrumGrid() plays each class's first pitch one step long at the tempo", () => {
  // At 60 bpm a quarter is a second, so a step is 0.25 s and 120 ticks.
  const notes = decodeDrumGrid(["hihat-closed+kick:loud", "-", "tom-low:soft", "ride"], {
    bpm: 60,
  });
  const step = { durationTicks: 120, durationSeconds: 0.25 };
  assert.deepEqual(notes, [
    { pitch: 42, step: 0, tick: 0, seconds: 0, velocity: 112, ...step },
    { pitch: 36, step: 0, tick: 0, seconds: 0, velocity: 112, ...step },
    { pitch: 45, step: 2, tick: 240, seconds: 0.5, velocity: 40, ...step },
    { pitch: 51, step: 3, tick: 360, seconds: 0.75, velocity: 100, ...step },
  ]);
});

Deno.test("decodeDrumGrid() names the first token it cannot read", () => {
  assert.throws(
    () => decodeDrumGrid(["kick", "-", "0.6"]),
    (e) =>
      e instanceof SyntaxError &&
      e.message === 'Cannot decode token 2: "0.6" is not a drum-grid token: ' +
          '"0.6" is not a drum class (crash, hihat-closed, hihat-open, kick, ride, snare, ' +
          "tom-high, tom-low, tom-mid)",
  );
  assert.throws(() => decodeDrumGrid(["kick"], { bpm: 0 }), RangeError);
  assert.throws(() => decodeDrumGrid(["kick"], { bpm: Infinity }), RangeError);
});

Deno.test("drumGridMidi() writes the same bytes each time, on channel 10, at the tempo", () => {
  const tokens = ["hihat-closed+kick", "kick", "-", "snare:loud", "-"];
  const { bytes, notes } = drumGridMidi(tokens, { bpm: 90 });
  assert.deepEqual(drumGridMidi(tokens, { bpm: 90 }).bytes, bytes);
  assert.equal(notes.length, 4);
  const file = readSmf(bytes);
  assert.equal(file.format, 0);
  assert.equal(file.ticksPerQuarter, 480);
  const { count, status, data1, data2, tick } = file.events;
  const rows = Array.from({ length: count }, (_, i) => i);
  const tempo = rows.find((i) => status[i] === 0xff && data1[i] === 0x51)!;
  const us = [...bytes.subarray(file.events.payloadStart[tempo], file.events.payloadEnd[tempo])];
  assert.deepEqual(us, [0x0a, 0x2c, 0x2b], "666667 µs per quarter is 90 bpm");
  const ons = rows.filter((i) => (status[i]! & 0xf0) === 0x90);
  assert.ok(ons.every((i) => status[i] === 0x99));
  assert.deepEqual(ons.map((i) => [tick[i], data1[i], data2[i]]), [
    [0, 42, 100],
    [0, 36, 100],
    [120, 36, 100],
    [360, 38, 112],
  ]);
  // The kick struck on steps 0 and 1 ends before it is struck again.
  const kickAt120 = rows.filter((i) => tick[i] === 120 && data1[i] === 36).map((i) => status[i]);
  assert.deepEqual(kickAt120, [0x89, 0x99]);
  // The file lasts the whole grid, trailing silence included: 5 steps.
  assert.equal(tick[count - 1], 600);
});

Deno.test("encodeDrumGrid() of drumGridMidi() gives back the tokens", async (t) => {
  const cases: [string, string[], number][] = [
    ["off", ["hihat-closed+kick", "-", "hihat-closed", "kick+snare", "-", "-", "crash+ride"], 4],
    ["coarse", ["kick:soft", "-", "hihat-open+tom-mid:medium", "-", "snare:loud"], 4],
    ["coarse", ["tom-high:loud", "tom-high:loud", "tom-low:soft"], 3],
  ];
  for (const [velocity, tokens, stepsPerQuarter] of cases) {
    await t.step(`${velocity}, ${stepsPerQuarter} steps per quarter`, () => {
      for (const bpm of [60, 120, 173]) {
        const { bytes } = drumGridMidi(tokens, { bpm, stepsPerQuarter });
        const again = encodeDrumGrid(bytes, {
          stepsPerQuarter,
          velocity: velocity as "off" | "coarse",
        });
        assert.deepEqual(again.tokens, tokens);
      }
    });
  }
});

/** Every `.mid` file under `dir`, recursively, sorted. */
async function midiFiles(dir: URL): Promise<URL[]> {
  const out: URL[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) out.push(...await midiFiles(new URL(`${entry.name}/`, dir)));
    else if (entry.name.endsWith(".mid")) out.push(new URL(entry.name, dir));
  }
  return out.sort((a, b) => (a.href < b.href ? -1 : 1));
}

Deno.test("encodeDrumGrid() encodes every Groove file, and its MIDI encodes back", async () => {
  const files = await midiFiles(new URL("../../data/groove/", import.meta.url));
  assert.ok(files.length > 0, "data/groove holds no .mid file");
  for (const file of files) {
    const bytes = await Deno.readFile(file);
    for (const velocity of ["off", "coarse"] as const) {
      const { tokens, unmapped } = encodeDrumGrid(bytes, { velocity });
      assert.ok(tokens.some((token) => token !== "-"), `${file.pathname}: no hit`);
      assert.deepEqual(unmapped, [], `${file.pathname}: a pitch outside the map`);
      const again = encodeDrumGrid(drumGridMidi(tokens).bytes, { velocity }).tokens;
      assert.deepEqual(again, tokens, `${file.pathname}: decoding changed the tokens`);
    }
  }
});
