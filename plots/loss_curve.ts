/**
 * The training loss per epoch as a self-contained SVG line chart: epochs (from 1) on x, loss on
 * y, round-numbered ticks on both axes, and a marker on the best epoch; with the validation loss,
 * a second, dashed line and a legend, and the loss of ignoring the context as a dotted level.
 *
 * @module
 */
import {
  epochFrame,
  type EpochPoint,
  finitePoints,
  legendSwatch,
  noFiniteValues,
  type PlotArea,
  pointMarkers,
} from "./_epoch_chart.ts";
import { escapeXml, px, svgHeader } from "./_svg.ts";

/** Options of {@link lossCurveSvg}. */
export interface LossCurveOptions {
  /** Heading drawn above the chart; default "Training loss". */
  title?: string;
  /**
   * 0-based index into `losses` of the epoch to mark (e.g. the checkpoint kept). Default: the
   * epoch with the lowest finite loss. An index that is out of range or points at a non-finite
   * loss falls back to the default.
   */
  best?: number;
  /** The validation loss after each epoch, drawn dashed beside the training loss. */
  validation?: readonly number[];
  /**
   * The validation loss of a model that ignores its context (model/evaluate.ts), drawn as a
   * dotted level line: a validation curve above it has learnt nothing from the context.
   */
  contextFree?: number;
  /**
   * Other models' held-out losses on the same steps (baselines), each drawn as a dotted level
   * line with its label.
   */
  levels?: readonly { label: string; value: number }[];
  /** Total width in pixels; default 640. */
  width?: number;
  /** Total height in pixels; default 360. */
  height?: number;
}

/**
 * Draws a loss curve. Non-finite losses (NaN, ±Infinity) are left out of the line.
 *
 * @param losses the loss after each epoch, epoch 1 first
 * @param opts title, best epoch and size
 * @returns an SVG document as a string (dependency-free; opens in any browser)
 *
 * @example
 * ```ts
 * import { lossCurveSvg } from "./loss_curve.ts";
 * const svg = lossCurveSvg([4.1, 3.2, 2.9, 3.0], { title: "quick" });
 * svg.includes("<polyline"); // true
 * ```
 */
export function lossCurveSvg(losses: readonly number[], opts: LossCurveOptions = {}): string {
  const title = opts.title ?? "Training loss";
  const width = opts.width ?? 640;
  const height = opts.height ?? 360;
  const left = 64;
  const right = 24;
  const top = 48;
  const bottom = 48;
  const area = { left, top, plotW: width - left - right, plotH: height - top - bottom, height };

  const points = finitePoints(losses);
  const skipped = losses.length - points.length;
  const out = svgHeader(width, height, title, left, 26);
  const notes: string[] = [`${losses.length} epoch${losses.length === 1 ? "" : "s"}`];
  if (skipped > 0) notes.push(`${skipped} non-finite skipped`);
  out.push(
    `<text x="${width - right}" y="26" font-size="12" fill="#666" text-anchor="end">${
      escapeXml(notes.join(" · "))
    }</text>`,
  );

  const level = Number.isFinite(opts.contextFree) ? opts.contextFree : undefined;
  const levels = (opts.levels ?? []).filter((l) => Number.isFinite(l.value));
  const validation = finitePoints(opts.validation ?? []);
  const scales = epochFrame(
    out,
    area,
    Math.max(1, losses.length),
    [...points, ...validation].map((p) => p.loss).concat(level === undefined ? [] : [level])
      .concat(levels.map((l) => l.value)),
    "loss",
  );
  if (level !== undefined) out.push(contextFreeLevel(level, area, scales.yOf));
  for (const l of levels) out.push(baselineLevel(l, area, scales.yOf));
  if (points.length === 0) out.push(noFiniteValues(area));
  else out.push(...curves(points, validation, area, scales));
  const best = bestEpoch(losses, points, opts.best);
  const bestLoss = best === undefined ? undefined : losses[best];
  if (best !== undefined && bestLoss !== undefined) {
    out.push(bestMarker(best, bestLoss, area, scales));
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** Where a point of the chart goes. */
interface Scales {
  xOf: (epoch: number) => number;
  yOf: (value: number) => number;
}

/**
 * The 0-based epoch to mark: `asked` when it is an integer pointing at a finite loss, else the
 * epoch with the lowest finite loss (the first of equals); undefined when none is finite.
 */
function bestEpoch(
  losses: readonly number[],
  points: readonly EpochPoint[],
  asked: number | undefined,
): number | undefined {
  if (asked !== undefined && Number.isInteger(asked) && Number.isFinite(losses[asked] ?? NaN)) {
    return asked;
  }
  let best: number | undefined;
  for (const p of points) {
    if (best === undefined || p.loss < (losses[best] ?? Infinity)) best = p.epoch - 1;
  }
  return best;
}

/** The dotted level of ignoring the context, labelled. */
function contextFreeLevel(level: number, area: PlotArea, yOf: (value: number) => number): string {
  const { left, plotW } = area;
  const y = px(yOf(level));
  return `<g class="context-free"><line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" ` +
    `stroke="#868e96" stroke-width="1.5" stroke-dasharray="2 3"/>` +
    // Below the line at the right end: where a validation curve that rose above the level
    // ends, the training curve has usually fallen far below the label.
    `<text x="${left + plotW - 4}" y="${px(yOf(level) + 14)}" font-size="11" fill="#495057" ` +
    `stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="end">${
      escapeXml(`ignoring context ${formatLoss(level)}`)
    }</text></g>`;
}

/** A baseline's dotted level, labelled at the left end (the context-free label is at the right). */
function baselineLevel(
  level: { label: string; value: number },
  area: PlotArea,
  yOf: (value: number) => number,
): string {
  const { left, plotW } = area;
  const y = px(yOf(level.value));
  return `<g class="baseline"><line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" ` +
    `stroke="#adb5bd" stroke-width="1" stroke-dasharray="1 3"/>` +
    `<text x="${left + 4}" y="${px(yOf(level.value) - 4)}" font-size="10" fill="#495057" ` +
    `stroke="#ffffff" stroke-width="3" paint-order="stroke">${
      escapeXml(`${level.label} ${formatLoss(level.value)}`)
    }</text></g>`;
}

/**
 * The training curve with its markers (up to 60 points), and before it the dashed validation
 * curve and a legend when there is one.
 */
function curves(
  points: readonly EpochPoint[],
  validation: readonly EpochPoint[],
  { left, top }: PlotArea,
  { xOf, yOf }: Scales,
): string[] {
  const out: string[] = [];
  const coordsOf = (curve: readonly EpochPoint[]) =>
    curve.map((p) => `${px(xOf(p.epoch))},${px(yOf(p.loss))}`).join(" ");
  if (validation.length > 0) {
    out.push(
      `<polyline class="val-loss" points="${coordsOf(validation)}" fill="none" ` +
        `stroke="${VALIDATION}" stroke-width="2" stroke-dasharray="${DASH}" stroke-linejoin="round"/>`,
      `<g class="legend" font-size="12" fill="#333">` +
        legendSwatch(left + 12, top + 10, TRAINING, 2) +
        `<text x="${left + 42}" y="${top + 14}">training</text>` +
        legendSwatch(left + 112, top + 10, VALIDATION, 2, DASH) +
        `<text x="${left + 142}" y="${top + 14}">validation</text></g>`,
    );
  }
  out.push(
    `<polyline class="loss" points="${coordsOf(points)}" fill="none" stroke="${TRAINING}" ` +
      `stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`,
  );
  if (points.length <= 60) {
    out.push(`<g class="points" fill="${TRAINING}">`, ...pointMarkers(points, xOf, yOf, 2.5));
    out.push(`</g>`);
  }
  return out;
}

/** A ring on the best epoch, labelled with its loss. */
function bestMarker(best: number, bestLoss: number, area: PlotArea, scales: Scales): string {
  const { left, top, plotW, plotH } = area;
  const cx = scales.xOf(best + 1);
  const cy = scales.yOf(bestLoss);
  const label = `best ${formatLoss(bestLoss)} @ epoch ${best + 1}`;
  // The best loss is usually the lowest point, so the label goes below the marker, where the
  // curve is not, unless that leaves the plot; it sits left of the marker near the right edge.
  const anchorEnd = cx > left + plotW * 0.6;
  const below = cy + 22 <= top + plotH - 4;
  return `<g class="best"><circle cx="${px(cx)}" cy="${px(cy)}" r="6" fill="none" ` +
    `stroke="#d9480f" stroke-width="2"/><text x="${px(anchorEnd ? cx - 9 : cx + 9)}" y="${
      px(below ? cy + 22 : cy - 12)
    }" font-size="12" fill="#d9480f" stroke="#ffffff" stroke-width="3" paint-order="stroke" ` +
    `text-anchor="${anchorEnd ? "end" : "start"}">${escapeXml(label)}</text></g>`;
}

/** The training curve's colour, and the validation curve's, dashed. */
const TRAINING = "#2f6fd0";
const VALIDATION = "#e8590c";
const DASH = "6 4";

/** A loss for the best-epoch label: 4 significant digits. */
function formatLoss(loss: number): string {
  return loss.toPrecision(4);
}
