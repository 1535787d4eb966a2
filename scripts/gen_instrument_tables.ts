/**
 * Generates music/instrument_tables.ts from the reference
 * `../shared/references/music21/instrument-tables.json`, so that the tokenizer carries the
 * music21 6.7.1 tables itself and reads nothing at run time.
 *
 * Usage: `deno run --allow-read --allow-write scripts/gen_instrument_tables.ts [JSON]`, then
 * `deno fmt music/instrument_tables.ts`.
 *
 * @module
 */

interface ClassRow {
  bestName: string | null;
  instrumentName: string | null;
  mro: string[];
}

interface Tables {
  music21_version: string;
  program_to_instrument: Record<string, { class: string; instrumentName: string | null }>;
  allToBestName: Record<string, string>;
  bestNameToInstrumentClass: Record<string, string>;
  /** `null` for a class music21 does not define (`Cowbells`). */
  classes: Record<string, ClassRow | null>;
  string_punctuation_removed: string;
}

const root = new URL("../", import.meta.url);
const source = Deno.args[0] ??
  new URL("../shared/references/music21/instrument-tables.json", root).pathname;
const t = JSON.parse(await Deno.readTextFile(source)) as Tables;

const programs = Array.from({ length: 128 }, (_, p) => {
  const row = t.program_to_instrument[String(p)];
  if (row === undefined) throw new Error(`program ${p} is missing from ${source}`);
  return row.class;
});

const j = (v: unknown) => JSON.stringify(v);
const lines = [
  "/**",
  ` * The music21 ${t.music21_version} instrument tables (SPEC.md §5), generated from`,
  " * `instrument-tables.json` by scripts/gen_instrument_tables.ts. Do not edit by hand.",
  " *",
  " * @module",
  " */",
  "",
  "/** The instrument class of each MIDI program 0–127 (`Instrument` = generic, no name). */",
  `export const PROGRAM_CLASS: readonly string[] = ${j(programs)};`,
  "",
  "/** `instrumentLookup.allToBestName` as [key, best name] pairs. */",
  `export const ALL_TO_BEST_NAME: readonly (readonly [string, string])[] = ${
    j(Object.entries(t.allToBestName))
  };`,
  "",
  "/** `instrumentLookup.bestNameToInstrumentClass` as [best name, class] pairs. */",
  `export const BEST_NAME_TO_CLASS: readonly (readonly [string, string])[] = ${
    j(Object.entries(t.bestNameToInstrumentClass))
  };`,
  "",
  "/** Each class music21 defines: [name, bestName, default instrumentName, mro (self first)]. */",
  "export const CLASSES: readonly (readonly [string, string | null, string | null, readonly string[]])[] =",
  `  ${
    j(
      Object.entries(t.classes).flatMap(([k, v]) =>
        v === null ? [] : [[k, v.bestName, v.instrumentName, v.mro]]
      ),
    )
  };`,
  "",
  "/** Python's `string.punctuation`, which `common.removePunctuation` deletes. */",
  `export const PUNCTUATION = ${j(t.string_punctuation_removed)};`,
  "",
];
const out = new URL("music/instrument_tables.ts", root);
await Deno.writeTextFile(out, lines.join("\n"));
console.log(`wrote ${out.pathname}`);
