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

const at = (instrument: Instrument, tick = 0) => ({ instrument, tick });

Deno.test("deduplicate() merges a track name and an instrument name into one Instrument", () => {
  const out = deduplicate([
    at(instrumentFromNameEvent(0x03, text("Midi Drums"))),
    at(instrumentFromNameEvent(0x04, text("Brooklyn"))),
  ]);
  assert.deepEqual(out, [at({ cls: GENERIC, instrumentName: "Brooklyn", partName: "Midi Drums" })]);
});

Deno.test("deduplicate() drops the generic Instrument next to a Piano", () => {
  const out = deduplicate([
    at(instrumentFromNameEvent(0x03, text("Track 1"))),
    at(instrumentFromProgram(0)),
  ]);
  assert.deepEqual(out, [at({ cls: "Piano", instrumentName: "Piano", partName: "Track 1" })]);
});

Deno.test("deduplicate() changes nothing when instrument names differ", () => {
  const input = [at(instrumentFromNameEvent(0x03, text("Piano RH"))), at(instrumentFromProgram(0))];
  assert.deepEqual(deduplicate(input), input);
  const programs = [at(instrumentFromProgram(0)), at(instrumentFromProgram(40), 480)];
  assert.deepEqual(deduplicate(programs), programs);
});

Deno.test("deduplicate() keeps the first of one class whatever the offsets", () => {
  const out = deduplicate([at(instrumentFromProgram(0)), at(instrumentFromProgram(1), 480)]);
  assert.deepEqual(out, [at({ cls: "Piano", instrumentName: "Piano", partName: null })]);
  const h3 = deduplicate([
    at(instrumentFromNameEvent(0x03, text(""))),
    at(instrumentFromProgram(0), 480),
  ]);
  assert.deepEqual(h3, [at({ cls: "Piano", instrumentName: "Piano", partName: null }, 480)]);
});
