import assert from "node:assert/strict";
import { gmDrumName, pianoRollSvg } from "./piano_roll.ts";
import { assertWellFormedSvg } from "../tests/_svg.ts";

const countNotes = (svg: string) => svg.match(/<rect class="note"/g)?.length ?? 0;

Deno.test("pianoRollSvg() draws one rect per note in a well-formed SVG", () => {
  const notes = Array.from({ length: 40 }, (_, k) => ({
    pitch: 36 + (k * 7) % 40,
    start: k / 2,
    duration: 1,
  }));
  const svg = pianoRollSvg(notes, { title: "forty notes" });
  assertWellFormedSvg(svg);
  assert.equal(countNotes(svg), 40);
  assert.ok(svg.includes("forty notes"));
  assert.ok(svg.includes("40 notes"));
});

Deno.test("pianoRollSvg() of zero notes still draws the axes and says so", () => {
  const svg = pianoRollSvg([]);
  assertWellFormedSvg(svg);
  assert.equal(countNotes(svg), 0);
  assert.ok(svg.includes("no notes"));
});

Deno.test("pianoRollSvg() labels the C of each octave when there are many pitches", () => {
  const notes = Array.from({ length: 30 }, (_, k) => ({ pitch: 40 + k, start: k, duration: 1 }));
  const svg = pianoRollSvg(notes);
  assertWellFormedSvg(svg);
  for (const label of ["C3", "C4"]) assert.ok(svg.includes(`>${label}</text>`), label);
  assert.ok(!svg.includes("Closed Hi-Hat"));
});

Deno.test("pianoRollSvg() gives drum-friendly lanes for a few pitches", () => {
  const notes = [36, 38, 42, 42, 46].map((pitch, k) => ({ pitch, start: k / 2, duration: 1 }));
  const svg = pianoRollSvg(notes);
  assertWellFormedSvg(svg);
  assert.equal(countNotes(svg), 5);
  for (const name of ["Bass Drum 1", "Acoustic Snare", "Closed Hi-Hat", "Open Hi-Hat"]) {
    assert.ok(svg.includes(name), name);
  }
  // One lane per distinct pitch: 4 lanes.
  assert.equal(svg.match(/<tspan font-weight="bold">/g)?.length, 4);
});

Deno.test("pianoRollSvg() draws one note at a single pitch and escapes the title", () => {
  const svg = pianoRollSvg([{ pitch: 127, start: 0, duration: 1 }], {
    title: `<"tom" & 'jerry'>`,
    labels: "octaves",
  });
  assertWellFormedSvg(svg);
  assert.equal(countNotes(svg), 1);
  assert.ok(svg.includes("&lt;&quot;tom&quot; &amp; &apos;jerry&apos;&gt;"));
});

Deno.test("pianoRollSvg() leaves out notes with non-finite values", () => {
  const svg = pianoRollSvg([
    { pitch: 60, start: 0, duration: 1 },
    { pitch: NaN, start: 1, duration: 1 },
    { pitch: 62, start: Infinity, duration: 1 },
  ]);
  assertWellFormedSvg(svg);
  assert.equal(countNotes(svg), 1);
});

Deno.test("gmDrumName() names General MIDI drum keys 35-81 only", () => {
  assert.equal(gmDrumName(35), "Acoustic Bass Drum");
  assert.equal(gmDrumName(42), "Closed Hi-Hat");
  assert.equal(gmDrumName(81), "Open Triangle");
  assert.equal(gmDrumName(34), undefined);
  assert.equal(gmDrumName(82), undefined);
});
