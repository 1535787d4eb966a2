/**
 * A piano roll as a self-contained SVG string: time runs left to right in bars of four quarter
 * notes, pitch bottom to top, one rectangle per note.
 *
 * Two ways to lay out the pitch axis:
 * - `octaves`: every semitone from the lowest to the highest note (at least an octave), black-key
 *   rows shaded as on a keyboard, labels at each C (`C4`);
 * - `drums`: one lane per pitch that occurs, labelled with its name, number and General MIDI
 *   drum sound (`F#2 42 Closed Hi-Hat`), which is how drum editors show a pattern.
 *
 * `auto` (the default) picks `drums` for up to 24 distinct pitches, `octaves` otherwise.
 *
 * @module
 */
import { pitchName } from "../music/pitch.ts";
import { escapeXml, formatTick, px, svgHeader } from "./_svg.ts";

/** One note, with time in quarter notes. */
export interface PianoRollNote {
  /** MIDI pitch 0–127. */
  pitch: number;
  /** Start, in quarter notes from the beginning. */
  start: number;
  /** Length in quarter notes. */
  duration: number;
  /**
   * MIDI velocity 1–127: the note is shaded by it (a ghost note faint, an accent solid), so a
   * performance's dynamics show; without it every note is drawn alike.
   */
  velocity?: number;
}

/** Options of {@link pianoRollSvg}. */
export interface PianoRollOptions {
  /** Heading drawn above the roll; default "Piano roll". */
  title?: string;
  /** Pitch axis layout; default `auto`. */
  labels?: "auto" | "octaves" | "drums";
  /** Total width in pixels; default 960, wider for long pieces (40 px a bar, up to 4000). */
  width?: number;
  /** Quarter notes per bar for the grid; default 4. */
  beatsPerBar?: number;
}

const BLACK_KEYS = new Set([1, 3, 6, 8, 10]);

/** General MIDI percussion key map, keys 35–81. */
const GM_DRUMS: readonly string[] = [
  "Acoustic Bass Drum",
  "Bass Drum 1",
  "Side Stick",
  "Acoustic Snare",
  "Hand Clap",
  "Electric Snare",
  "Low Floor Tom",
  "Closed Hi-Hat",
  "High Floor Tom",
  "Pedal Hi-Hat",
  "Low Tom",
  "Open Hi-Hat",
  "Low-Mid Tom",
  "Hi-Mid Tom",
  "Crash Cymbal 1",
  "High Tom",
  "Ride Cymbal 1",
  "Chinese Cymbal",
  "Ride Bell",
  "Tambourine",
  "Splash Cymbal",
  "Cowbell",
  "Crash Cymbal 2",
  "Vibraslap",
  "Ride Cymbal 2",
  "Hi Bongo",
  "Low Bongo",
  "Mute Hi Conga",
  "Open Hi Conga",
  "Low Conga",
  "High Timbale",
  "Low Timbale",
  "High Agogo",
  "Low Agogo",
  "Cabasa",
  "Maracas",
  "Short Whistle",
  "Long Whistle",
  "Short Guiro",
  "Long Guiro",
  "Claves",
  "Hi Wood Block",
  "Low Wood Block",
  "Mute Cuica",
  "Open Cuica",
  "Mute Triangle",
  "Open Triangle",
];

/**
 * The General MIDI drum sound on channel 10 for a key, if it has one.
 *
 * @param pitch MIDI key
 * @returns e.g. "Closed Hi-Hat" for 42; undefined outside 35–81
 */
export function gmDrumName(pitch: number): string | undefined {
  return GM_DRUMS[pitch - 35];
}

/**
 * Draws notes as a piano roll.
 *
 * @param notes the notes, times in quarter notes
 * @param opts title, layout and size
 * @returns an SVG document as a string (dependency-free; opens in any browser)
 *
 * @example
 * ```ts
 * import { pianoRollSvg } from "./piano_roll.ts";
 * const svg = pianoRollSvg([{ pitch: 60, start: 0, duration: 1 }], { title: "One C" });
 * svg.startsWith("<svg"); // true
 * ```
 */
export function pianoRollSvg(
  notes: readonly PianoRollNote[],
  opts: PianoRollOptions = {},
): string {
  const title = opts.title ?? "Piano roll";
  const beatsPerBar = opts.beatsPerBar ?? 4;
  const valid = notes.filter((n) =>
    Number.isFinite(n.pitch) && Number.isFinite(n.start) && Number.isFinite(n.duration)
  );
  const pitches = [...new Set(valid.map((n) => n.pitch))].sort((a, b) => a - b);
  const mode = opts.labels === "drums" || opts.labels === "octaves"
    ? opts.labels
    : pitches.length > 0 && pitches.length <= 24
    ? "drums"
    : "octaves";
  const rows = mode === "drums" && pitches.length > 0
    ? [...pitches].reverse()
    : octaveRows(pitches);
  const end = valid.reduce((m, n) => Math.max(m, n.start + Math.max(0, n.duration)), 0);
  const bars = Math.max(1, Math.ceil(end / beatsPerBar - 1e-9));
  const roll = layout(mode, rows.length, bars, beatsPerBar, opts.width);
  const { width, height, right, left, top, plotW, plotH } = roll;

  const out = svgHeader(width, height, title, left, 24);
  const summary = `${valid.length} note${valid.length === 1 ? "" : "s"} · ${bars} bar${
    bars === 1 ? "" : "s"
  } of ${beatsPerBar}/4`;
  out.push(
    `<text x="${width - right}" y="24" font-size="12" fill="#666" text-anchor="end">${
      escapeXml(summary)
    }</text>`,
  );
  out.push(...rowBackgrounds(rows, mode, roll));
  out.push(...grid(rows, mode, roll));
  out.push(...pitchLabels(rows, mode, roll));
  out.push(...noteRects(valid, rows, roll));
  // Frame and the time axis.
  out.push(
    `<rect x="${left}" y="${top}" width="${px(plotW)}" height="${
      px(plotH)
    }" fill="none" stroke="#8a919c"/>`,
  );
  out.push(...timeAxis(roll));
  if (valid.length === 0) {
    out.push(
      `<text x="${px(left + plotW / 2)}" y="${
        px(top + plotH / 2 + 5)
      }" font-size="14" fill="#888" text-anchor="middle">no notes</text>`,
    );
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** How the pitch axis is laid out: a keyboard's semitones, or one lane per drum. */
type Mode = "octaves" | "drums";

/** Where everything of the roll goes, in pixels. */
interface RollLayout {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  plotW: number;
  plotH: number;
  rowH: number;
  bars: number;
  beatsPerBar: number;
  totalBeats: number;
  /** The x of a time in quarter notes. */
  xOf: (beat: number) => number;
  /** The top of a row. */
  yOf: (row: number) => number;
}

/**
 * The rows of the octaves layout, from the top down: every semitone from one below the lowest
 * note to one above the highest, widened to at least an octave (C4–B4 when there are no notes).
 */
function octaveRows(pitches: readonly number[]): number[] {
  let lo = pitches.length > 0 ? Math.max(0, (pitches[0] ?? 60) - 1) : 60;
  let hi = pitches.length > 0 ? Math.min(127, (pitches.at(-1) ?? 71) + 1) : 71;
  while (hi - lo < 11) {
    if (lo > 0) lo--;
    if (hi - lo < 11 && hi < 127) hi++;
  }
  const rows: number[] = [];
  for (let p = hi; p >= lo; p--) rows.push(p);
  return rows;
}

/** Sizes the roll: margins by mode, 40 px a bar (960 to 4000 wide), rows to fit about 420 px. */
function layout(
  mode: Mode,
  rowCount: number,
  bars: number,
  beatsPerBar: number,
  askedWidth: number | undefined,
): RollLayout {
  const totalBeats = bars * beatsPerBar;
  const left = mode === "drums" ? 170 : 48;
  const right = 16;
  const width = askedWidth ?? Math.min(4000, Math.max(960, left + right + bars * 40));
  const top = 44;
  const bottom = 40;
  const plotW = width - left - right;
  const rowH = Math.min(
    mode === "drums" ? 18 : 14,
    Math.max(mode === "drums" ? 11 : 4, 420 / rowCount),
  );
  const plotH = rowH * rowCount;
  const height = top + plotH + bottom;
  const xOf = (beat: number) => left + (beat / totalBeats) * plotW;
  const yOf = (row: number) => top + row * rowH;
  return {
    width,
    height,
    left,
    right,
    top,
    plotW,
    plotH,
    rowH,
    bars,
    beatsPerBar,
    totalBeats,
    xOf,
    yOf,
  };
}

/** Row backgrounds: black keys shaded as on a keyboard, or drum lanes striped. */
function rowBackgrounds(rows: readonly number[], mode: Mode, roll: RollLayout): string[] {
  const { left, plotW, rowH, yOf } = roll;
  const out = [`<g class="rows">`];
  rows.forEach((pitch, i) => {
    const shade = mode === "drums"
      ? (i % 2 === 0 ? "#f4f6f9" : "#ffffff")
      : (BLACK_KEYS.has(pitch % 12) ? "#eceef2" : "#ffffff");
    out.push(
      `<rect x="${left}" y="${px(yOf(i))}" width="${px(plotW)}" height="${
        px(rowH)
      }" fill="${shade}"/>`,
    );
  });
  out.push(`</g>`);
  return out;
}

/** Vertical grid (beats faint, bars darker) and, on a keyboard, a line below each C. */
function grid(rows: readonly number[], mode: Mode, roll: RollLayout): string[] {
  const { left, top, plotW, plotH, totalBeats, beatsPerBar, xOf, yOf } = roll;
  const out = [`<g class="grid" stroke-width="1">`];
  for (let beat = 0; beat <= totalBeats; beat++) {
    const isBar = beat % beatsPerBar === 0;
    if (!isBar && plotW / totalBeats < 6) continue;
    const x = px(xOf(beat));
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${px(top + plotH)}" stroke="${
        isBar ? "#b8bec8" : "#e2e5ea"
      }"/>`,
    );
  }
  if (mode === "octaves") {
    rows.forEach((pitch, i) => {
      if (pitch % 12 !== 0) return;
      const y = px(yOf(i + 1));
      out.push(
        `<line x1="${left}" y1="${y}" x2="${px(left + plotW)}" y2="${y}" stroke="#b8bec8"/>`,
      );
    });
  }
  out.push(`</g>`);
  return out;
}

/** Labels on the pitch axis: each C on a keyboard; name, number and drum sound per lane. */
function pitchLabels(rows: readonly number[], mode: Mode, roll: RollLayout): string[] {
  const { left, rowH, yOf } = roll;
  const out = [`<g class="pitch-labels" font-size="${mode === "drums" ? 10 : 11}" fill="#333">`];
  rows.forEach((pitch, i) => {
    const y = px(yOf(i) + rowH / 2 + 3.5);
    if (mode === "octaves") {
      if (pitch % 12 !== 0) return;
      out.push(`<text x="${left - 6}" y="${y}" text-anchor="end">${pitchName(pitch)}</text>`);
      return;
    }
    const drum = gmDrumName(pitch);
    out.push(
      `<text x="${left - 6}" y="${y}" text-anchor="end">` +
        `<tspan font-weight="bold">${pitchName(pitch)}</tspan> ${pitch}` +
        (drum === undefined ? "" : ` <tspan fill="#777">${escapeXml(drum)}</tspan>`) +
        `</text>`,
    );
  });
  out.push(`</g>`);
  return out;
}

/** Notes: one rect each, semi-transparent so that overlaps show. */
function noteRects(
  notes: readonly PianoRollNote[],
  rows: readonly number[],
  roll: RollLayout,
): string[] {
  const { rowH, xOf, yOf } = roll;
  const rowOf = new Map(rows.map((p, i) => [p, i]));
  const out = [
    `<g class="notes" fill="#3a6fc4" fill-opacity="0.8" stroke="#1c3f7a" stroke-width="0.6">`,
  ];
  for (const note of notes) {
    const row = rowOf.get(note.pitch);
    if (row === undefined) continue;
    const x = xOf(note.start);
    const w = Math.max(1.5, xOf(note.start + Math.max(0, note.duration)) - x);
    const v = note.velocity;
    // fill-opacity from 0.15 (velocity 1) to 1 (127); the default 0.8 where none is given.
    const shade = v === undefined ? "" : ` fill-opacity="${(0.15 + 0.85 * (v / 127)).toFixed(2)}"`;
    out.push(
      `<rect class="note" x="${px(x)}" y="${px(yOf(row) + 1)}" width="${px(w)}" height="${
        px(Math.max(1, rowH - 2))
      }" rx="1.5"${shade}><title>${pitchName(note.pitch)} (${note.pitch}) at beat ${
        formatTick(note.start)
      }${v === undefined ? "" : `, velocity ${v}`}</title></rect>`,
    );
  }
  out.push(`</g>`);
  return out;
}

/** Bar numbers under the roll (every bar, or fewer when bars are narrow) and the axis label. */
function timeAxis(roll: RollLayout): string[] {
  const { left, top, plotW, plotH, bars, beatsPerBar, xOf } = roll;
  const barPx = plotW / bars;
  const labelEvery = [1, 2, 4, 8, 16, 32, 64, 128].find((n) => n * barPx >= 36) ?? 256;
  const out = [`<g class="time-labels" font-size="11" fill="#333" text-anchor="middle">`];
  for (let bar = 0; bar < bars; bar += labelEvery) {
    out.push(
      `<text x="${px(xOf(bar * beatsPerBar))}" y="${px(top + plotH + 15)}">${bar + 1}</text>`,
    );
  }
  out.push(`</g>`);
  out.push(
    `<text x="${px(left + plotW / 2)}" y="${
      px(top + plotH + 32)
    }" font-size="12" fill="#555" text-anchor="middle">bar</text>`,
  );
  return out;
}
