/**
 * The few Python 3.11 `str` behaviours music21's name handling relies on, where JavaScript's
 * built-ins differ: `strip()`/`split()` whitespace (which includes `\x1c`–`\x1f` and `\x85` but
 * not the BOM) and `isdigit()` (which accepts superscripts and circled digits).
 *
 * @module
 */

/** Code points for which Python's `str.isspace()` is true (Unicode 14). */
const PY_SPACE = new Set([
  0x09,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0x1c,
  0x1d,
  0x1e,
  0x1f,
  0x20,
  0x85,
  0xa0,
  0x1680,
  0x2000,
  0x2001,
  0x2002,
  0x2003,
  0x2004,
  0x2005,
  0x2006,
  0x2007,
  0x2008,
  0x2009,
  0x200a,
  0x2028,
  0x2029,
  0x202f,
  0x205f,
  0x3000,
]);

/** Ranges of non-Nd code points for which Python's `str.isdigit()` is true (Unicode 14). */
const PY_OTHER_DIGITS: readonly (readonly [number, number])[] = [
  [0xb2, 0xb3],
  [0xb9, 0xb9],
  [0x1369, 0x1371],
  [0x19da, 0x19da],
  [0x2070, 0x2070],
  [0x2074, 0x2079],
  [0x2080, 0x2089],
  [0x2460, 0x2468],
  [0x2474, 0x247c],
  [0x2488, 0x2490],
  [0x24ea, 0x24ea],
  [0x24f5, 0x24fd],
  [0x24ff, 0x24ff],
  [0x2776, 0x277e],
  [0x2780, 0x2788],
  [0x278a, 0x2792],
  [0x10a40, 0x10a43],
  [0x10e60, 0x10e68],
  [0x11052, 0x1105a],
  [0x1f100, 0x1f10a],
];

/** Python's `isdigit()` over a whole string, as one pattern: Nd plus the other digits. */
const DIGITS = new RegExp(
  `^[\\p{Nd}${
    PY_OTHER_DIGITS.map(([lo, hi]) => `\\u{${lo.toString(16)}}-\\u{${hi.toString(16)}}`).join("")
  }]+$`,
  "u",
);

// Python's whitespace is all in the BMP and no surrogate is whitespace, so the functions below
// may test UTF-16 units one by one, slicing rather than copying character by character.

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && PY_SPACE.has(s.charCodeAt(a))) a++;
  while (b > a && PY_SPACE.has(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** Python's `s.split()` with no separator: runs of whitespace split, empty words dropped. */
export function pySplit(s: string): string[] {
  const words: string[] = [];
  forEachPyWord(s, (word) => words.push(word));
  return words;
}

/** Calls `visit` with each word of {@link pySplit}, in order, without listing them all. */
export function forEachPyWord(s: string, visit: (word: string) => void): void {
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (PY_SPACE.has(s.charCodeAt(i))) {
      if (start >= 0) visit(s.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) visit(s.slice(start));
}

/** Python's `s.isdigit()`: non-empty and every character a digit. */
export function pyIsDigit(s: string): boolean {
  return DIGITS.test(s);
}
