/**
 * Pitch spelling as music21 6.7.1's `str(pitch)` gives it for a MIDI number (SPEC.md §12.1,
 * §2.4): sharps for C, F and G, flats for E and B, octave `m // 12 - 1`.
 *
 * @module
 */

const NAMES = ["C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B"] as const;

/**
 * The MIDI number music21 stores for a value outside 0–127 (`Pitch.midi` setter, pitch.py
 * l.2535, SPEC.md §2.4): above 127 it folds into the top octave (`108 + v % 12`, plus 12 if that
 * is below 115); below 0 it becomes `v mod 12`. Used for data bytes read from a file and for
 * pitches a token names.
 *
 * @param value a MIDI number, possibly out of range
 * @returns the stored MIDI number, 0–127
 */
export function storedMidi(value: number): number {
  if (value > 127) {
    const folded = 108 + (value % 12);
    return folded < 115 ? folded + 12 : folded;
  }
  if (value < 0) return ((value % 12) + 12) % 12;
  return value;
}

/**
 * The name music21 prints for a MIDI pitch, e.g. 60 → `C4`, 63 → `E-4`, 42 → `F#2`, 0 → `C-1`.
 *
 * @param value a MIDI data byte, 0–255 (values above 127 are folded first)
 * @returns the pitch token
 */
export function pitchName(value: number): string {
  const m = storedMidi(value);
  return NAMES[m % 12]! + (Math.floor(m / 12) - 1);
}
