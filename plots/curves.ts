/**
 * Loss curves of several runs overlaid in one self-contained SVG: epochs (from 1) on x, loss on y,
 * round-numbered ticks on both axes, one colour per run, the training loss solid and the
 * validation loss (where a run has one) dashed, and a legend naming each run.
 *
 * @module
 */
import {
  epochFrame,
  finitePoints,
  legendSwatch,
  noFiniteValues,
  pointMarkers,
} from "./_epoch_chart.ts";
import { escapeXml, px, svgHeader } from "./_svg.ts";

/** One run's curves. */
export interface CurveSeries {
  /** What the legend calls the run (a config hash). */
  label: string;
  /** A second, smaller legend line (e.g. the settings that set this run apart). */
  note?: string;
  /** Training loss after each epoch, epoch 1 first. */
  train: readonly number[];
  /** Validation loss after each epoch, epoch 1 first, when the run has one. */
  validation?: readonly number[];
}

/** Options of {@link lossCurvesSvg}. */
export interface CurvesOptions {
  /** Heading drawn above the chart; default "Loss per epoch". */
  title?: string;
  /** Total width in pixels; default 820. */
  width?: number;
  /** Minimum total height in pixels (a long legend makes it taller); default 380. */
  height?: number;
  /** The y axis' label; default "loss". */
  yLabel?: string;
}

/** Ten colours that stay apart from each other (Tableau 10); run `i` gets colour `i % 10`. */
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** The colour of the `index`-th run's curves, so a page can match its tables to the chart. */
export function curveColor(index: number): string {
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

/** The dash pattern of validation curves. */
const DASH = "7 4";
/** Markers are drawn on every point of a curve up to this many epochs. */
const MAX_MARKED = 60;

/**
 * Draws the loss curves of several runs in one chart. Non-finite losses (NaN, ±Infinity) are
 * left out: the line breaks there.
 *
 * Each curve is a `<path class="curve train">` or `<path class="curve validation">` with a
 * `data-run` attribute holding the series' label, inside a `<g class="run">`.
 *
 * @param series one entry per run, in legend order
 * @param opts title, size and y label
 * @returns an SVG document as a string (dependency-free; opens in any browser, and can be inlined
 *   in an HTML page)
 *
 * @example
 * ```ts
 * import { lossCurvesSvg } from "./curves.ts";
 * const svg = lossCurvesSvg([
 *   { label: "8a93938e7a9b987f", train: [4.1, 3.2], validation: [4.3, 3.9] },
 *   { label: "ec59242a10257c32", train: [4.0, 3.5] },
 * ]);
 * svg.includes('class="curve validation"'); // true
 * ```
 */
export function lossCurvesSvg(series: readonly CurveSeries[], opts: CurvesOptions = {}): string {
  const title = opts.title ?? "Loss per epoch";
  const width = opts.width ?? 820;
  const anyValidation = series.some((s) => (s.validation?.length ?? 0) > 0);
  const left = 64;
  const right = 16;
  const top = 52;
  const bottom = 48;
  const legendTop = top + (anyValidation ? 44 : 4);
  const height = Math.max(opts.height ?? 380, legendTop + series.length * ENTRY_H + bottom);
  const plotW = width - left - right - LEGEND_W - LEGEND_GAP;
  const area = { left, top, plotW, plotH: height - top - bottom, height };

  const out = svgHeader(width, height, title, left, 28);
  const epochs = Math.max(
    1,
    ...series.map((s) => Math.max(s.train.length, s.validation?.length ?? 0)),
  );
  const notes = [
    `${series.length} run${series.length === 1 ? "" : "s"}`,
    `${epochs} epoch${epochs === 1 ? "" : "s"}`,
  ];
  if (anyValidation) notes.push("solid: training, dashed: validation");
  out.push(
    `<text x="${left}" y="44" font-size="12" fill="#666">${escapeXml(notes.join(" · "))}</text>`,
  );

  // Scales over every finite value of every curve.
  const finite = series.flatMap((s) => [...s.train, ...(s.validation ?? [])])
    .filter(Number.isFinite);
  const { xOf, yOf } = epochFrame(out, area, epochs, finite, opts.yLabel ?? "loss");
  if (finite.length === 0) out.push(noFiniteValues(area));
  series.forEach((s, i) => out.push(...runCurves(s, curveColor(i), xOf, yOf)));
  out.push(...legend(series, left + plotW + LEGEND_GAP, top, legendTop, anyValidation));
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** Width of the legend right of the plot, its gap to the plot, and the height of one entry. */
const LEGEND_W = 250;
const LEGEND_GAP = 20;
const ENTRY_H = 34;

/**
 * One run's `<g class="run">`: its validation curve first, so the training line is drawn over
 * it, each with markers on up to {@link MAX_MARKED} points.
 */
function runCurves(
  s: CurveSeries,
  color: string,
  xOf: (epoch: number) => number,
  yOf: (loss: number) => number,
): string[] {
  const parts: string[] = [];
  for (const [kind, values] of [["validation", s.validation], ["train", s.train]] as const) {
    if (values === undefined) continue;
    const points = finitePoints(values);
    if (points.length === 0) continue;
    const d = pathData(values, xOf, yOf);
    const dash = kind === "validation" ? ` stroke-dasharray="${DASH}"` : "";
    parts.push(
      `<path class="curve ${kind}" data-run="${escapeXml(s.label)}" d="${d}" fill="none" ` +
        `stroke="${color}" stroke-width="2"${dash} stroke-linejoin="round" stroke-linecap="round"/>`,
    );
    if (points.length <= MAX_MARKED) {
      const fill = kind === "validation" ? `fill="#ffffff" stroke="${color}"` : `fill="${color}"`;
      parts.push(`<g class="markers ${kind}" ${fill} stroke-width="1.5">`);
      parts.push(...pointMarkers(points, xOf, yOf, 2.8), `</g>`);
    }
  }
  return [`<g class="run" data-run="${escapeXml(s.label)}">`, ...parts, `</g>`];
}

/**
 * The legend at x `lx`: what solid and dashed mean (from `top`, when a run has a validation
 * curve), then one entry per run from `entriesTop`.
 */
function legend(
  series: readonly CurveSeries[],
  lx: number,
  top: number,
  entriesTop: number,
  anyValidation: boolean,
): string[] {
  const out = [`<g class="legend" font-size="12">`];
  if (anyValidation) {
    const styles = [{ name: "training", dash: "" }, { name: "validation", dash: DASH }];
    styles.forEach(({ name, dash }, k) => {
      const y = top + 8 + k * 18;
      out.push(
        legendSwatch(lx, y, "#555", 2, dash),
        `<text x="${lx + 32}" y="${y + 4}" fill="#555">${name}</text>`,
      );
    });
  }
  series.forEach((s, i) => {
    const y = entriesTop + i * ENTRY_H + 8;
    // A run whose curves are another's exactly (a sweep over generate.*: train ran once) is
    // drawn over it; the legend says so, or the earlier colour would seem to be missing.
    const twin = series.findIndex((o, j) => j < i && sameCurves(o, s));
    const note = [
      twin >= 0 ? `same curves as ${series[twin]!.label.slice(0, 8)}` : "",
      s.note ?? "",
    ].filter(Boolean).join(" · ");
    out.push(
      legendSwatch(lx, y, curveColor(i), 3),
      `<text x="${lx + 32}" y="${y + 4}" fill="#222" font-family="Menlo, Consolas, monospace">${
        escapeXml(clip(s.label, 22))
      }</text>`,
    );
    if (note) {
      out.push(
        `<text x="${lx + 32}" y="${y + 18}" font-size="10.5" fill="#666">${
          escapeXml(clip(note, 38))
        }</text>`,
      );
    }
  });
  out.push(`</g>`);
  return out;
}

/** Path data through the finite points of `values`; the line breaks at a non-finite value. */
function pathData(
  values: readonly number[],
  xOf: (epoch: number) => number,
  yOf: (loss: number) => number,
): string {
  const d: string[] = [];
  let pen = false;
  values.forEach((loss, e) => {
    if (!Number.isFinite(loss)) {
      pen = false;
      return;
    }
    d.push(`${pen ? "L" : "M"}${px(xOf(e + 1))} ${px(yOf(loss))}`);
    pen = true;
  });
  return d.join(" ");
}

/** True when two runs' curves are the same numbers (NaN equal to NaN). */
function sameCurves(a: CurveSeries, b: CurveSeries): boolean {
  const same = (x: readonly number[] = [], y: readonly number[] = []) =>
    x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
  return a.train.length > 0 && same(a.train, b.train) && same(a.validation, b.validation);
}

/** `text`, cut to `max` characters with an ellipsis. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
