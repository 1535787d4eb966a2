/**
 * Instruments as music21 6.7.1 makes them from MIDI (SPEC.md §5): program changes through
 * `instrumentFromMidiProgram`, track and instrument names through `instrument.fromString`, and
 * the per-track `instrument.deduplicate` with its group-everything quirk.
 *
 * @module
 */
import {
  ALL_TO_BEST_NAME,
  BEST_NAME_TO_CLASS,
  CLASSES,
  PROGRAM_CLASS,
  PUNCTUATION,
} from "./instrument_tables.ts";
import { pyIsDigit, pySplit, pyStrip } from "./_py_str.ts";

/** The generic class: an `Instrument` that is no particular instrument. */
export const GENERIC = "Instrument";

/** The fields of a music21 Instrument that decide partitioning. */
export interface Instrument {
  /** The music21 class name; {@link GENERIC} for a plain `Instrument`. */
  cls: string;
  /** `instrumentName`, the key `partitionByInstrument` groups by; `null` is Python's None. */
  instrumentName: string | null;
  /** `partName`, set by a track name. */
  partName: string | null;
}

interface ClassInfo {
  bestNameLower: string | null;
  bestNameWords: number;
  instrumentName: string | null;
  mro: readonly string[];
}

const allToBestName = new Map(ALL_TO_BEST_NAME);
const bestNameToClass = new Map(BEST_NAME_TO_CLASS);
const classes = new Map<string, ClassInfo>(
  CLASSES.map(([name, bestName, instrumentName, mro]) => [name, {
    bestNameLower: bestName === null ? null : bestName.toLowerCase(),
    bestNameWords: bestName === null ? 0 : pySplit(bestName.toLowerCase()).length,
    instrumentName,
    mro,
  }]),
);
const punctuation = new Set(PUNCTUATION);

/**
 * `instrument.instrumentFromMidiProgram(program)`; programs 76 and 112, missing from
 * music21 6.7.1's table, give a generic Instrument with no name.
 *
 * @param program 0–127
 */
export function instrumentFromProgram(program: number): Instrument {
  const cls = PROGRAM_CLASS[program] ?? GENERIC;
  return { cls, instrumentName: classes.get(cls)?.instrumentName ?? null, partName: null };
}

/**
 * `instrument.fromString(text)`: the best-matching class for a name, with `instrumentName`
 * set to `text`, or `null` where music21 raises `InstrumentException`.
 *
 * @param text the stripped name
 */
export function instrumentFromString(text: string): Instrument | null {
  let cleaned = "";
  for (const ch of text.replaceAll(".", " ")) if (!punctuation.has(ch)) cleaned += ch;
  const words = pySplit(cleaned);
  let best: { cls: string; info: ClassInfo } | undefined;
  for (let size = 1; size <= words.length; size++) {
    for (let start = 0; start + size <= words.length; start++) {
      const candidate = words.slice(start, start + size).join(" ").toLowerCase();
      const english = allToBestName.get(candidate);
      if (english === undefined) continue;
      const cls = bestNameToClass.get(english);
      if (cls === undefined) continue;
      const info = classes.get(cls);
      if (info === undefined || info.bestNameLower === null) continue;
      if (!info.mro.includes("Instrument") && !info.mro.includes("Musician")) continue;
      if (
        best === undefined ||
        (info.bestNameWords >= best.info.bestNameWords && !best.info.mro.includes(cls))
      ) {
        best = { cls, info };
      }
    }
  }
  return best === undefined ? null : { cls: best.cls, instrumentName: text, partName: null };
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A name music21 will not use: "instrument", "inst", or digits after those words. */
function isLousy(text: string): boolean {
  const lower = text.toLowerCase();
  if (lower === "instrument" || lower === "inst") return true;
  return pyIsDigit(lower.split("instrument ").join("").split("inst ").join(""));
}

/**
 * `midiEventsToInstrument` for a SEQUENCE_TRACK_NAME (`FF 03`) or INSTRUMENT_NAME (`FF 04`)
 * event: every such event gives an Instrument, recognised or not.
 *
 * @param metaType 0x03 or 0x04
 * @param data the event's payload
 */
export function instrumentFromNameEvent(metaType: number, data: Uint8Array): Instrument {
  let decoded: string;
  try {
    decoded = utf8.decode(data);
  } catch {
    return { cls: GENERIC, instrumentName: null, partName: null };
  }
  const cut = decoded.indexOf("\x00");
  const text = pyStrip(cut < 0 ? decoded : decoded.slice(0, cut));
  const inst = instrumentFromString(text) ??
    { cls: GENERIC, instrumentName: null, partName: null };
  if (text === "" || isLousy(text)) return inst;
  if (metaType === 0x03) inst.partName = text;
  else inst.instrumentName = text;
  return inst;
}

/** An Instrument placed in a track. */
export interface PlacedInstrument {
  instrument: Instrument;
  /** Absolute tick. */
  tick: number;
}

/**
 * `instrument.deduplicate` on one track's Instruments, given in file order. All of them form
 * one group whatever their offsets; with one name of each kind the group collapses.
 *
 * @param placed the track's Instruments in file order (not modified)
 * @returns the Instruments left, in file order
 */
export function deduplicate(placed: readonly PlacedInstrument[]): PlacedInstrument[] {
  if (placed.length < 2) return [...placed];
  const partNames = new Set<string>();
  const instrumentNames = new Set<string>();
  const classSet = new Set<string>();
  for (const { instrument } of placed) {
    if (instrument.partName !== null) partNames.add(instrument.partName);
    if (instrument.instrumentName !== null) instrumentNames.add(instrument.instrumentName);
    classSet.add(instrument.cls);
  }
  if (partNames.size > 1 || instrumentNames.size > 1) return [...placed];
  const partName = partNames.size === 1 ? [...partNames][0]! : null;
  const instrumentName = instrumentNames.size === 1 ? [...instrumentNames][0]! : null;
  const rename = (p: PlacedInstrument): PlacedInstrument => ({
    tick: p.tick,
    instrument: { cls: p.instrument.cls, instrumentName, partName },
  });
  if (classSet.size === 1) {
    let first = placed[0]!;
    for (const p of placed) if (p.tick < first.tick) first = p;
    return [rename(first)];
  }
  return placed.filter((p) => p.instrument.cls !== GENERIC).map(rename);
}
