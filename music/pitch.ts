/**
 * Pitch spelling as music21 6.7.1's `str(pitch)` gives it for a MIDI number (SPEC.md §12.1,
 * §2.4): sharps for C, F and G, flats for E and B, octave `m // 12 - 1`.
 *
 * @module
 */

const NAMES = ["C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B"] as const;

/**
 * The MIDI number music21 stores for a raw data byte: values above 127 fold into the top octave
 * (`Pitch.midi` setter, pitch.py l.2535).
 *
 * @param value a MIDI data byte, 0–255
 * @returns the stored MIDI number, 0–127
 */
export function storedMidi(value: number): number {
  if (value <= 127) return value;
  const folded = 108 + (value % 12);
  return folded < 115 ? folded + 12 : folded;
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
