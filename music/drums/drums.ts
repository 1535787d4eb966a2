/**
 * Drums that sound like drums. The tutorial's tokens keep a drum hit's pitch (`F#2`, 42, the
 * closed hi-hat) but a chord's pitch classes only (`0.6`), which create_midi puts in octave 4 on
 * a piano: a kick with a hi-hat comes out as a bongo and a timbale. Rendered as drums, a note token
 * keeps its pitch and a chord token becomes the pitch set that most often made it in the training
 * files (parse's `voicings.json`), on General MIDI's drum channel.
 *
 * Groove was recorded on a Roland TD-11, whose hi-hat edge hits (22 closed, 26 open) have no
 * sound in General MIDI's kit (35–81). Such a pitch becomes the first pitch of its drum class in
 * Magenta's nine-class map (note_seq/drums_encoder_decoder.py: 22 → 42, 26 → 46), so every hit
 * is heard.
 *
 * @module
 */
import type { Voicings } from "../../formats/tokens.ts";
import { type TokenPitches, tokenPitches } from "../token_pitches.ts";

/** General MIDI's drum kit: keys 35 (Acoustic Bass Drum) to 81 (Open Triangle). */
const GM_KIT = { low: 35, high: 81 };

/**
 * Magenta's drum classes (note_seq/drums_encoder_decoder.py, DEFAULT_DRUM_TYPE_PITCHES), first
 * pitch first: a pitch outside the GM kit is played as its class's first pitch, and the drum grid
 * (music/drums/drum_grid.ts) writes a class as its first pitch.
 */
export const DRUM_CLASSES: readonly (readonly number[])[] = [
  [36, 35],
  [38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
  [42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22],
  [46, 67, 72, 74, 79, 81, 26],
  [45, 29, 41, 43, 61, 64, 84],
  [48, 47, 60, 63, 77, 86, 87],
  [50, 30, 62, 76, 83],
  [49, 52, 55, 57, 58],
  [51, 53, 59, 82],
];

/**
 * The names of {@link DRUM_CLASSES}, index for index, in note_seq's order: kick, snare, closed
 * hi-hat, open hi-hat, low, mid and high tom, crash, ride. They are token text (the drum grid's
 * `hihat-closed+kick`), so they never change.
 */
export const DRUM_CLASS_NAMES = [
  "kick",
  "snare",
  "hihat-closed",
  "hihat-open",
  "tom-low",
  "tom-mid",
  "tom-high",
  "crash",
  "ride",
] as const;

/** One of {@link DRUM_CLASS_NAMES}. */
export type DrumClassName = typeof DRUM_CLASS_NAMES[number];

/**
 * Class indices in the order of their names, by code unit so that no locale moves them: the
 * order in which the drum encodings' tokens list classes (`hihat-closed+kick`).
 */
export const DRUM_CLASSES_BY_NAME: readonly number[] = DRUM_CLASS_NAMES.map((_, index) => index)
  .sort((a, b) => DRUM_CLASS_NAMES[a]! < DRUM_CLASS_NAMES[b]! ? -1 : 1);

const CLASS_NAMED: ReadonlyMap<string, number> = new Map(
  DRUM_CLASS_NAMES.map((name, index) => [name, index]),
);

/** The index in {@link DRUM_CLASSES} of the class named `name`, or undefined. */
export function drumClassNamed(name: string): number | undefined {
  return CLASS_NAMED.get(name);
}

/** The index in {@link DRUM_CLASSES} of every pitch a class holds (no pitch is in two). */
const CLASS_OF_PITCH: ReadonlyMap<number, number> = new Map(
  DRUM_CLASSES.flatMap((pitches, index) => pitches.map((pitch) => [pitch, index] as const)),
);

/** The index in {@link DRUM_CLASSES} of the class that holds `pitch`, or undefined. */
export function drumClassOf(pitch: number): number | undefined {
  return CLASS_OF_PITCH.get(pitch);
}

/** A pitch the GM kit can play: itself, or its drum class's first pitch. */
export function gmDrum(pitch: number): number {
  if (pitch >= GM_KIT.low && pitch <= GM_KIT.high) return pitch;
  return DRUM_CLASSES.find((c) => c.includes(pitch))?.[0] ?? pitch;
}

/** How a token becomes drum pitches, given the training files' voicings. */
export function drumPitches(voicings: Voicings): (token: string) => TokenPitches {
  return (token) => {
    const read = voicedPitches(voicings, token);
    return { ...read, pitches: [...new Set(read.pitches.map(gmDrum))] };
  };
}

/** A chord token's most frequent voicing, else create_midi's reading (with a warning for a chord). */
function voicedPitches(voicings: Voicings, token: string): TokenPitches {
  const seen = voicings[token]?.[0];
  if (seen !== undefined) return { pitches: seen.pitches };
  const read = tokenPitches(token);
  if (read.pitches.length > 1 && read.warning === undefined) {
    return {
      ...read,
      warning: "no training file played this chord, so its pitch classes are written in octave 4",
    };
  }
  return read;
}
