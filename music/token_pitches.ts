/**
 * What the tutorial's `create_midi` reads a token as under music21 6.7.1 (SPEC.md §14.1): the
 * MIDI pitches it writes for one token, quirks included.
 *
 * - **Chord path**: a token containing `.` or made only of digits is split on `.`; each part is
 *   an int, below 12 a pitch class in octave 4 (`60 + pc`), otherwise a MIDI number. Members keep
 *   token order.
 * - **Note path**: anything else is a pitch name read the way `Pitch.name` reads it: every digit
 *   anywhere is the octave and every other character after the letter is the accidental, so the
 *   `-` of octave −1 becomes a flat (`C-1` is C♭1, MIDI 23).
 *
 * Where music21 would raise (`C#-1`: the accidental `#-` does not exist), the token is read in
 * the tokenizer's own grammar instead (`C#-1` is MIDI 1) and a warning says so (DECISIONS.md §3).
 * A token that names no pitch at all gives no pitches and a warning.
 *
 * @module
 */
import { storedMidi } from "./pitch.ts";

/** The pitches one token renders as, and a warning when the token was not plain music21 input. */
export interface TokenPitches {
  /** MIDI pitches 0–127, in the order music21 writes them (chord members in token order). */
  pitches: number[];
  /**
   * Set when the token was read in a way music21 would not, or was partly or wholly skipped;
   * one clause without the token itself (the caller names it).
   */
  warning?: string;
}

/** Pitch class of each step letter. */
const STEP_PC: Readonly<Record<string, number>> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** Accidental names `Accidental(name)` accepts in 6.7.1 (lower-cased), as semitone shifts. */
const ACCIDENTAL_ALTER: Readonly<Record<string, number>> = {
  "#": 1,
  "##": 2,
  "###": 3,
  "####": 4,
  "-": -1,
  "--": -2,
  "---": -3,
  "----": -4,
  "n": 0,
  "natural": 0,
  "sharp": 1,
  "double-sharp": 2,
  "triple-sharp": 3,
  "quadruple-sharp": 4,
  "flat": -1,
  "double-flat": -2,
  "triple-flat": -3,
  "quadruple-flat": -4,
};

/** The tokenizer's own note grammar (SPEC.md §12.1), used when music21 would raise. */
const TOKENIZER_NOTE = /^([A-G])(#{1,4}|-{1,4})?(-?[0-9]+)$/;

/**
 * Reads one token as `create_midi` does.
 *
 * @param token a token string, e.g. `E-4`, `10.2.4`, `0`
 * @returns the pitches to write, and a warning when music21 would have read it otherwise
 *
 * @example
 * ```ts
 * import { tokenPitches } from "./token_pitches.ts";
 * tokenPitches("10.2.4").pitches; // [70, 62, 64]
 * tokenPitches("C-1").pitches; // [23]: C♭1, as music21 reads it
 * ```
 */
export function tokenPitches(token: string): TokenPitches {
  if (token.includes(".") || /^[0-9]+$/.test(token)) return chordPitches(token);
  return notePitches(token);
}

function chordPitches(token: string): TokenPitches {
  const pitches: number[] = [];
  const bad: string[] = [];
  const wrapped: string[] = [];
  for (const part of token.split(".")) {
    // Python's int() ignores surrounding whitespace.
    const trimmed = part.trim();
    if (!/^[0-9]+$/.test(trimmed)) {
      bad.push(part);
      continue;
    }
    const n = Number(trimmed);
    const midi = n < 12 ? 60 + n : storedMidi(n);
    if (midi !== n && n >= 12) wrapped.push(`${n} as ${midi}`);
    pitches.push(midi);
  }
  const notes: string[] = [];
  if (bad.length > 0) {
    notes.push(
      `music21 6.7.1 raises ValueError on the part(s) ${
        bad.map((b) => JSON.stringify(b)).join(", ")
      }`,
    );
  }
  if (wrapped.length > 0) notes.push(`pitch(es) above 127 wrapped as music21 does: ${wrapped}`);
  if (notes.length === 0) return { pitches };
  const what = pitches.length === 0 ? "skipped" : `wrote MIDI ${pitches.join(", ")}`;
  return { pitches, warning: `${notes.join("; ")}; ${what}` };
}

function notePitches(token: string): TokenPitches {
  const music21 = music21NoteMidi(token);
  if (music21 !== undefined) {
    const midi = storedMidi(music21);
    if (midi === music21) return { pitches: [midi] };
    return {
      pitches: [midi],
      warning: `pitch ${music21} is above 127; wrote MIDI ${midi} as music21 does`,
    };
  }
  const match = TOKENIZER_NOTE.exec(token.trim());
  if (match === null) {
    return {
      pitches: [],
      warning: "not a note name or chord; skipped",
    };
  }
  const [, step = "C", accidental = "", octave = "4"] = match;
  const alter = accidental.startsWith("#") ? accidental.length : -accidental.length;
  const named = 12 * (Number(octave) + 1) + (STEP_PC[step] ?? 0) + alter;
  const midi = storedMidi(named);
  const wrote = midi === named ? `MIDI ${midi}` : `MIDI ${midi} (${named} wrapped into 0-127)`;
  return {
    pitches: [midi],
    warning: `music21 6.7.1 raises AccidentalException here; wrote the pitch it names, ${wrote}`,
  };
}

/**
 * `note.Note(token)` in 6.7.1: digits anywhere form the octave, the first other character is the
 * step and the rest the accidental. Returns undefined where music21 would raise.
 */
function music21NoteMidi(token: string): number | undefined {
  const chars = [...token.trim()];
  const digits = chars.filter((c) => c >= "0" && c <= "9").join("");
  const name = chars.filter((c) => !(c >= "0" && c <= "9")).join("");
  const first = name[0];
  if (first === undefined) return undefined;
  const stepPc = STEP_PC[first.toUpperCase()];
  if (stepPc === undefined) return undefined;
  const accidental = name.slice(1);
  const alter = accidental === "" ? 0 : ACCIDENTAL_ALTER[accidental.toLowerCase()];
  if (alter === undefined) return undefined;
  const octave = digits === "" ? 4 : Number(digits);
  return 12 * (octave + 1) + stepPc + alter;
}
