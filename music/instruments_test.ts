import assert from "node:assert/strict";
import {
  deduplicate,
  GENERIC,
  type Instrument,
  instrumentFromNameEvent,
  instrumentFromProgram,
  instrumentFromString,
} from "./instruments.ts";
import {
  ALL_TO_BEST_NAME,
  BEST_NAME_TO_CLASS,
  CLASSES,
  PROGRAM_CLASS,
  PUNCTUATION,
} from "./instrument_tables.ts";
import { pySplit } from "./_py_str.ts";

const TABLES = new URL("../../shared/references/music21/instrument-tables.json", import.meta.url);
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("instrument_tables.ts holds exactly the reference instrument-tables.json", async () => {
  const t = JSON.parse(await Deno.readTextFile(TABLES));
  assert.deepEqual(
    PROGRAM_CLASS,
    Array.from({ length: 128 }, (_, p) => t.program_to_instrument[String(p)].class),
  );
  assert.deepEqual(Object.fromEntries(ALL_TO_BEST_NAME), t.allToBestName);
  assert.deepEqual(Object.fromEntries(BEST_NAME_TO_CLASS), t.bestNameToInstrumentClass);
  const classes = Object.fromEntries(
    Object.entries(t.classes as Record<string, unknown>).filter(([, v]) => v !== null),
  );
  assert.deepEqual(
    Object.fromEntries(
      CLASSES.map(([name, bestName, instrumentName, mro]) => [name, {
        bestName,
        instrumentName,
        mro,
      }]),
    ),
    classes,
  );
  assert.equal(PUNCTUATION, t.string_punctuation_removed);
});

Deno.test("instrumentFromProgram() follows the 6.7.1 table, with 76 and 112 generic", () => {
  assert.deepEqual(instrumentFromProgram(0), {
    cls: "Piano",
    instrumentName: "Piano",
    partName: null,
  });
  assert.equal(instrumentFromProgram(40).instrumentName, "Violin");
  assert.deepEqual(instrumentFromProgram(76), {
    cls: GENERIC,
    instrumentName: null,
    partName: null,
  });
  assert.equal(instrumentFromProgram(112).cls, GENERIC);
});

Deno.test("instrumentFromString() recognises pianos and keeps the text as the name", () => {
  for (const name of ["Piano", "Piano RH", "Acoustic Grand Piano", "Piano Template"]) {
    assert.deepEqual(instrumentFromString(name), {
      cls: "Piano",
      instrumentName: name,
      partName: null,
    });
  }
});

Deno.test("instrumentFromString() recognises nothing in track-ish names", () => {
  for (const name of ["Track 1", "MIDI", "Brooklyn", "Instrument 1", "", "constructor"]) {
    assert.equal(instrumentFromString(name), null, name);
  }
});

Deno.test("instrumentFromString() prefers a longer best name over a more general class", () => {
  assert.equal(instrumentFromString("Electric Bass")?.cls, "ElectricBass");
  assert.equal(instrumentFromString("Violin.")?.cls, "Violin");
});

Deno.test("instrumentFromNameEvent() sets partName for a track name, instrumentName otherwise", () => {
  assert.deepEqual(instrumentFromNameEvent(0x03, text("Midi Drums")), {
    cls: GENERIC,
    instrumentName: null,
    partName: "Midi Drums",
  });
  assert.deepEqual(instrumentFromNameEvent(0x04, text(" Brooklyn\x00junk")), {
    cls: GENERIC,
    instrumentName: "Brooklyn",
    partName: null,
  });
  assert.deepEqual(instrumentFromNameEvent(0x03, text("Piano RH")), {
    cls: "Piano",
    instrumentName: "Piano RH",
    partName: "Piano RH",
  });
});

Deno.test("instrumentFromNameEvent() ignores lousy and undecodable names", () => {
  for (const name of ["Inst 2", "Instrument 3", "instrument", "INST", "3"]) {
    assert.deepEqual(instrumentFromNameEvent(0x04, text(name)), {
      cls: GENERIC,
      instrumentName: null,
      partName: null,
    }, name);
  }
  assert.deepEqual(instrumentFromNameEvent(0x04, new Uint8Array([0xff, 0x41])), {
    cls: GENERIC,
    instrumentName: null,
    partName: null,
  });
});

/** Instruments with their ticks, as deduplicate takes them. */
const placed = (...list: [Instrument, number?][]) => ({
  instruments: list.map(([instrument]) => instrument),
  ticks: list.map(([, tick = 0]) => tick),
});

Deno.test("deduplicate() merges a track name and an instrument name into one Instrument", () => {
  const out = deduplicate(placed(
    [instrumentFromNameEvent(0x03, text("Midi Drums"))],
    [instrumentFromNameEvent(0x04, text("Brooklyn"))],
  ));
  assert.deepEqual(
    out,
    placed([{ cls: GENERIC, instrumentName: "Brooklyn", partName: "Midi Drums" }]),
  );
});

Deno.test("deduplicate() drops the generic Instrument next to a Piano", () => {
  const out = deduplicate(placed(
    [instrumentFromNameEvent(0x03, text("Track 1"))],
    [instrumentFromProgram(0)],
  ));
  assert.deepEqual(out, placed([{ cls: "Piano", instrumentName: "Piano", partName: "Track 1" }]));
});

Deno.test("deduplicate() changes nothing when instrument names differ", () => {
  const input = placed(
    [instrumentFromNameEvent(0x03, text("Piano RH"))],
    [instrumentFromProgram(0)],
  );
  assert.deepEqual(deduplicate(input), input);
  const programs = placed([instrumentFromProgram(0)], [instrumentFromProgram(40), 480]);
  assert.deepEqual(deduplicate(programs), programs);
});

Deno.test("deduplicate() keeps the first of one class whatever the offsets", () => {
  const out = deduplicate(placed([instrumentFromProgram(0)], [instrumentFromProgram(1), 480]));
  assert.deepEqual(out, placed([{ cls: "Piano", instrumentName: "Piano", partName: null }]));
  const h3 = deduplicate(placed(
    [instrumentFromNameEvent(0x03, text(""))],
    [instrumentFromProgram(0), 480],
  ));
  assert.deepEqual(h3, placed([{ cls: "Piano", instrumentName: "Piano", partName: null }, 480]));
});

/**
 * music21's `fromString` word for word: every run of consecutive words, 1-word runs first,
 * scored in that order. Cubic, so only for short names.
 */
function fromStringAsMusic21(text: string): string | null {
  let cleaned = "";
  for (const ch of text.replaceAll(".", " ")) if (!PUNCTUATION.includes(ch)) cleaned += ch;
  const words = pySplit(cleaned);
  const toBest = new Map(ALL_TO_BEST_NAME);
  const toClass = new Map(BEST_NAME_TO_CLASS);
  const info = new Map(CLASSES.map(([name, best, , mro]) => [name, { best, mro }]));
  let best: { cls: string; words: number; mro: readonly string[] } | undefined;
  for (let size = 1; size <= words.length; size++) {
    for (let start = 0; start + size <= words.length; start++) {
      const english = toBest.get(words.slice(start, start + size).join(" ").toLowerCase());
      const cls = english === undefined ? undefined : toClass.get(english);
      const c = cls === undefined ? undefined : info.get(cls);
      if (cls === undefined || c === undefined || c.best === null) continue;
      if (!c.mro.includes("Instrument") && !c.mro.includes("Musician")) continue;
      const n = c.best.toLowerCase().split(" ").length;
      if (best === undefined || (n >= best.words && !best.mro.includes(cls))) {
        best = { cls, words: n, mro: c.mro };
      }
    }
  }
  return best?.cls ?? null;
}

Deno.test("instrumentFromString() picks what music21's search of every run of words picks", () => {
  // Runs of the tables' words in any case, between odd spaces, punctuation and sigmas.
  const words = [...new Set(ALL_TO_BEST_NAME.flatMap(([key]) => key.split(" ")))];
  const between = [" ", "  ", "\t", ".", "-", "\x1f", "\u3000", ", ", "Σ ", "ς"];
  let seed = 3;
  const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  const picked = new Set<string | null>();
  for (let i = 0; i < 5000; i++) {
    let name = "";
    for (let k = 1 + random(6); k > 0; k--) {
      const word = words[random(words.length)]!;
      const cased = [word, word.toUpperCase(), word[0]!.toUpperCase() + word.slice(1)][random(3)]!;
      name += (name === "" ? "" : between[random(between.length)]!) + cased;
    }
    const cls = fromStringAsMusic21(name);
    assert.equal(instrumentFromString(name)?.cls ?? null, cls, name);
    picked.add(cls);
  }
  assert.ok(picked.size > 50, `only ${picked.size} classes picked`);
});

Deno.test("instrumentFromString() takes near-linear time on a long name of short words", () => {
  // 8 KB of two-letter words took music21's search (and this code before) about 120 s.
  const words = Array.from({ length: 2730 }, (_, i) => "ab cd ef gh ij".split(" ")[i % 5]);
  const long = `${words.join(" ")} violin`;
  const started = performance.now();
  assert.equal(instrumentFromString(long)?.cls, "Violin");
  assert.equal(instrumentFromString(`${long} piano`.repeat(100))?.cls, "Piano");
  assert.ok(performance.now() - started < 2000);
  assert.equal(instrumentFromString(words.join(" ").repeat(100)), null);
});
