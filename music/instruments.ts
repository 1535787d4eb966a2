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
import { forEachPyWord, pyIsDigit, pySplit, pyStrip } from "./_py_str.ts";

/** The generic class: an `Instrument` that is no particular instrument. */
export const GENERIC = "Instrument";

/** The fields of a music21 Instrument that decide partitioning; shared, so never changed. */
export interface Instrument {
  /** The music21 class name; {@link GENERIC} for a plain `Instrument`. */
  readonly cls: string;
  /** `instrumentName`, the key `partitionByInstrument` groups by; `null` is Python's None. */
  readonly instrumentName: string | null;
  /** `partName`, set by a track name. */
  readonly partName: string | null;
}

interface ClassInfo {
  bestNameWords: number;
  instrumentName: string | null;
  mro: readonly string[];
}

/** A class `fromString` can pick. */
interface Candidate {
  cls: string;
  info: ClassInfo;
}

/** A word of a name in `allToBestName`: what the words so far plus this one spell. */
interface NameNode {
  /** By word id. */
  next: Map<number, NameNode>;
  /** The class the spelled name stands for, where `fromString` can pick it. */
  candidate: Candidate | undefined;
}

const bestNameToClass = new Map(BEST_NAME_TO_CLASS);
const classes = new Map<string, ClassInfo & { hasBestName: boolean }>(
  CLASSES.map(([name, bestName, instrumentName, mro]) => [name, {
    hasBestName: bestName !== null,
    bestNameWords: bestName === null ? 0 : pySplit(bestName.toLowerCase()).length,
    instrumentName,
    mro,
  }]),
);

/** The class `fromString` gets from a lower-case name, if it can pick one. */
function candidateFor(english: string): Candidate | undefined {
  const cls = bestNameToClass.get(english);
  if (cls === undefined) return undefined;
  const info = classes.get(cls);
  if (info === undefined || !info.hasBestName) return undefined;
  if (!info.mro.includes("Instrument") && !info.mro.includes("Musician")) return undefined;
  return { cls, info };
}

/**
 * Ids for the words of the names. A Map hashes each new string, about 300 ns, and a long name
 * has millions of words: this table on a cheap hash of the UTF-16 units is far quicker.
 */
class WordIds {
  private readonly words: readonly string[];
  private readonly slots: Int32Array;

  constructor(words: readonly string[]) {
    this.words = words;
    this.slots = new Int32Array(2 ** Math.ceil(Math.log2(4 * words.length + 1))).fill(-1);
    words.forEach((word, id) => {
      let slot = this.home(word);
      while (this.slots[slot] !== -1) slot = (slot + 1) & (this.slots.length - 1);
      this.slots[slot] = id;
    });
  }

  /** The id of `word`, or -1 when no name has it. */
  id(word: string): number {
    for (let slot = this.home(word);; slot = (slot + 1) & (this.slots.length - 1)) {
      const id = this.slots[slot]!;
      if (id === -1 || this.words[id] === word) return id;
    }
  }

  /** FNV-1a over the UTF-16 units. */
  private home(word: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
    return (h >>> 0) & (this.slots.length - 1);
  }
}

/**
 * The `allToBestName` keys that name a class `fromString` can pick, as word lists. A
 * candidate is words joined by single spaces, so a key with another separator never matches,
 * here as in music21.
 */
const nameWords = ALL_TO_BEST_NAME.flatMap(([key, english]) => {
  const candidate = candidateFor(english);
  return candidate === undefined ? [] : [{ words: key.split(" "), candidate }];
});
const wordIds = new WordIds([...new Set(nameWords.flatMap((n) => n.words))]);
/** The most words of any name: longer runs of words cannot be names. */
const longestName = Math.max(...nameWords.map((n) => n.words.length));
/** The longest word of any name, in UTF-16 units. */
const longestWord = Math.max(...nameWords.flatMap((n) => n.words.map((w) => w.length)));
/** The names as a trie of word ids. */
const names: NameNode = { next: new Map(), candidate: undefined };
for (const { words, candidate } of nameWords) {
  let node = names;
  for (const word of words) {
    const id = wordIds.id(word);
    let child = node.next.get(id);
    if (child === undefined) node.next.set(id, child = { next: new Map(), candidate: undefined });
    node = child;
  }
  node.candidate = candidate;
}

/** Python's `string.punctuation`, which `fromString` deletes (after turning `.` into a space). */
const punctuationClass = `[${PUNCTUATION.replace(/[\\\]^-]/g, "\\$&")}]`;
const punctuation = new RegExp(punctuationClass, "g");
const hasPunctuation = new RegExp(punctuationClass);

/** The same Instrument for each program: a file may hold millions of program changes. */
const programInstruments: readonly Instrument[] = Array.from({ length: 128 }, (_, program) => {
  const cls = PROGRAM_CLASS[program] ?? GENERIC;
  return { cls, instrumentName: classes.get(cls)?.instrumentName ?? null, partName: null };
});

/**
 * `instrument.instrumentFromMidiProgram(program)`; programs 76 and 112, missing from
 * music21 6.7.1's table, give a generic Instrument with no name.
 *
 * @param program 0–127
 * @returns a shared Instrument
 */
export function instrumentFromProgram(program: number): Instrument {
  return programInstruments[program]!;
}

/**
 * `instrument.fromString(text)`: the best-matching class for a name, with `instrumentName`
 * set to `text`, or `null` where music21 raises `InstrumentException`.
 *
 * music21 tries every run of consecutive words, all 1-word runs left to right, then all
 * 2-word runs, and so on: cubic in the words, 120 s for an 8 KB name. Only runs of at most
 * {@link longestName} words can be names, and walking the trie of names from each word finds
 * them all in one pass; they are then scored in music21's order, which gives its result.
 *
 * @param text the stripped name
 */
export function instrumentFromString(text: string): Instrument | null {
  const cleaned = hasPunctuation.test(text)
    ? text.replaceAll(".", " ").replace(punctuation, "")
    : text;
  let best: Candidate | undefined;
  for (const list of namesIn(cleaned)) {
    for (const c of list) {
      if (
        best === undefined ||
        (c.info.bestNameWords >= best.info.bestNameWords && !best.info.mro.includes(c.cls))
      ) {
        best = c;
      }
    }
  }
  return best === undefined ? null : { cls: best.cls, instrumentName: text, partName: null };
}

/**
 * The candidates of the runs of words of `cleaned` that are names: element `n - 1` lists those
 * of the `n`-word runs, left to right (none at all for most names). A lower-cased run is its
 * lower-cased words joined by spaces (a space is no context for case mapping, not even for a
 * final sigma).
 */
function namesIn(cleaned: string): Candidate[][] {
  let bySize: Candidate[][] = [];
  // The walks still in the trie, each started at one of the last words; at most one per depth.
  const walks: NameNode[] = [];
  const depths: number[] = [];
  let live = 0;
  forEachPyWord(cleaned, (word) => {
    // Lower-casing never shortens a word, so a longer one is in no name.
    const id = word.length > longestWord ? -1 : wordIds.id(word.toLowerCase());
    if (id === -1) {
      live = 0;
      return;
    }
    walks[live] = names;
    depths[live++] = 0;
    let kept = 0;
    for (let w = 0; w < live; w++) {
      const node = walks[w]!.next.get(id);
      if (node === undefined) continue;
      const size = depths[w]! + 1;
      if (node.candidate !== undefined) {
        if (bySize.length === 0) bySize = Array.from({ length: longestName }, () => []);
        addCandidate(bySize[size - 1]!, node.candidate);
      }
      if (node.next.size > 0) {
        walks[kept] = node;
        depths[kept++] = size;
      }
    }
    live = kept;
  });
  return bySize;
}

/**
 * Appends a candidate, skipping a repeat of the last one: scoring the same candidate twice in
 * a row changes nothing, and a name of one word repeated would otherwise fill memory.
 */
function addCandidate(list: Candidate[], candidate: Candidate): void {
  if (list[list.length - 1] !== candidate) list.push(candidate);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A name music21 will not use: "instrument", "inst", or digits after those words. */
function isLousy(text: string): boolean {
  const lower = text.toLowerCase();
  if (lower === "instrument" || lower === "inst") return true;
  if (!lower.includes("inst")) return pyIsDigit(lower); // then there is nothing to remove
  return pyIsDigit(lower.split("instrument ").join("").split("inst ").join(""));
}

/**
 * The payload as UTF-8, or undefined where it is not valid UTF-8. Names are mostly short and
 * ASCII, and a dense file holds millions: those skip the decoder.
 */
function decodeName(data: Uint8Array): string | undefined {
  if (data.length <= 64) {
    let text = "";
    for (let k = 0; k < data.length && data[k]! < 0x80; k++) text += String.fromCharCode(data[k]!);
    if (text.length === data.length) return text;
  }
  try {
    return utf8.decode(data);
  } catch {
    return undefined;
  }
}

const NO_INSTRUMENT: Instrument = { cls: GENERIC, instrumentName: null, partName: null };

/**
 * `midiEventsToInstrument` for a SEQUENCE_TRACK_NAME (`FF 03`) or INSTRUMENT_NAME (`FF 04`)
 * event: every such event gives an Instrument, recognised or not.
 *
 * @param metaType 0x03 or 0x04
 * @param data the event's payload
 */
export function instrumentFromNameEvent(metaType: number, data: Uint8Array): Instrument {
  const decoded = decodeName(data);
  if (decoded === undefined) return NO_INSTRUMENT;
  const cut = decoded.indexOf("\x00");
  const text = pyStrip(cut < 0 ? decoded : decoded.slice(0, cut));
  const inst = instrumentFromString(text) ?? NO_INSTRUMENT;
  if (text === "" || isLousy(text)) return inst;
  return metaType === 0x03 ? { ...inst, partName: text } : { ...inst, instrumentName: text };
}

/** A track's Instruments in file order, as two columns: millions of them fit. */
export interface PlacedInstruments {
  instruments: readonly Instrument[];
  /** The absolute tick of each. */
  ticks: readonly number[];
}

/**
 * `instrument.deduplicate` on one track's Instruments, given in file order. All of them form
 * one group whatever their offsets; with one name of each kind the group collapses.
 *
 * @param placed the track's Instruments in file order (not modified)
 * @returns the Instruments left, in file order (`placed` itself when nothing changes)
 */
export function deduplicate(placed: PlacedInstruments): PlacedInstruments {
  const { instruments, ticks } = placed;
  if (instruments.length < 2) return placed;
  // At most one name of each kind, else nothing changes: keep the one seen (no Set, which
  // would hash millions of fresh strings).
  let partName: string | null = null;
  let instrumentName: string | null = null;
  let oneClass = true;
  for (const instrument of instruments) {
    const part = instrument.partName;
    const name = instrument.instrumentName;
    if (part !== null && partName !== null && part !== partName) return placed;
    if (name !== null && instrumentName !== null && name !== instrumentName) return placed;
    partName ??= part;
    instrumentName ??= name;
    oneClass &&= instrument.cls === instruments[0]!.cls;
  }
  // The renamed Instrument depends only on the class: one object per class.
  const renamed = new Map<string, Instrument>();
  const rename = (cls: string): Instrument => {
    let out = renamed.get(cls);
    if (out === undefined) renamed.set(cls, out = { cls, instrumentName, partName });
    return out;
  };
  if (oneClass) {
    let first = 0;
    for (let i = 1; i < ticks.length; i++) if (ticks[i]! < ticks[first]!) first = i;
    return { instruments: [rename(instruments[first]!.cls)], ticks: [ticks[first]!] };
  }
  const kept: Instrument[] = [];
  const keptTicks: number[] = [];
  for (let i = 0; i < instruments.length; i++) {
    const cls = instruments[i]!.cls;
    if (cls === GENERIC) continue;
    kept.push(rename(cls));
    keptTicks.push(ticks[i]!);
  }
  return { instruments: kept, ticks: keptTicks };
}
