/**
 * The frame of a per-epoch chart, shared by the loss curve of one run (loss_curve.ts) and the
 * overlaid curves of compared runs (curves.ts): the scales (epochs from 1 on x, round-numbered
 * values on y with a little room above and below) and the grid, axes, ticks and labels.
 * Private to plots/ (the leading underscore).
 *
 * @module
 */
import { escapeXml, formatTick, niceTicks, px } from "./_svg.ts";

/** Where the plot sits in the drawing, in pixels. */
export interface PlotArea {
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  /** The whole drawing's height (the x label sits near its bottom). */
  height: number;
}

/**
 * Draws the frame of a chart of `epochs` epochs whose curves take the `values` given (non-finite
 * ones are ignored) into `out`, and returns the scales that place a point.
 */
export function epochFrame(
  out: string[],
  area: PlotArea,
  epochs: number,
  values: readonly number[],
  yLabel: string,
): { xOf: (epoch: number) => number; yOf: (value: number) => number } {
  const { left, top, plotW, plotH, height } = area;
  const finite = values.filter(Number.isFinite);
  const xTicks = epochs === 1
    ? [1]
    : niceTicks(1, epochs, Math.min(10, epochs - 1), 1).filter((t) => t >= 1 && t <= epochs);
  const xLo = epochs === 1 ? 0.5 : 1;
  const xHi = epochs === 1 ? 1.5 : epochs;
  const yMin = finite.length > 0 ? Math.min(...finite) : 0;
  const yMax = finite.length > 0 ? Math.max(...finite) : 1;
  // A little room above and below, so no point sits on the frame.
  const yPad = (yMax - yMin) * 0.04;
  const yTicks = niceTicks(yMin >= 0 ? Math.max(0, yMin - yPad) : yMin - yPad, yMax + yPad, 5);
  const yLo = yTicks[0] ?? 0;
  const yHi = yTicks.at(-1) ?? 1;
  const xOf = (epoch: number) => left + ((epoch - xLo) / (xHi - xLo)) * plotW;
  const yOf = (value: number) => top + plotH - ((value - yLo) / (yHi - yLo)) * plotH;
  const bottomY = px(top + plotH);

  out.push(`<g class="grid" stroke="#e4e7ec" stroke-width="1">`);
  for (const t of yTicks) {
    const y = px(yOf(t));
    out.push(`<line x1="${left}" y1="${y}" x2="${px(left + plotW)}" y2="${y}"/>`);
  }
  for (const t of xTicks) {
    const x = px(xOf(t));
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottomY}"/>`);
  }
  out.push(`</g>`);
  out.push(`<g class="axes" stroke="#555" stroke-width="1">`);
  out.push(`<line x1="${left}" y1="${bottomY}" x2="${px(left + plotW)}" y2="${bottomY}"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottomY}"/>`);
  for (const t of yTicks) {
    const y = px(yOf(t));
    out.push(`<line x1="${left - 4}" y1="${y}" x2="${left}" y2="${y}"/>`);
  }
  for (const t of xTicks) {
    const x = px(xOf(t));
    out.push(`<line x1="${x}" y1="${bottomY}" x2="${x}" y2="${px(top + plotH + 4)}"/>`);
  }
  out.push(`</g>`);
  out.push(`<g class="tick-labels" font-size="11" fill="#333">`);
  for (const t of yTicks) {
    out.push(
      `<text x="${left - 7}" y="${px(yOf(t) + 4)}" text-anchor="end">${formatTick(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    out.push(
      `<text x="${px(xOf(t))}" y="${px(top + plotH + 17)}" text-anchor="middle">${
        formatTick(t)
      }</text>`,
    );
  }
  out.push(`</g>`);
  out.push(
    `<text x="${px(left + plotW / 2)}" y="${
      height - 10
    }" font-size="12" fill="#555" text-anchor="middle">epoch</text>`,
  );
  const midY = px(top + plotH / 2);
  out.push(
    `<text x="16" y="${midY}" font-size="12" fill="#555" text-anchor="middle" ` +
      `transform="rotate(-90 16 ${midY})">${escapeXml(yLabel)}</text>`,
  );
  return { xOf, yOf };
}

/** One finite value of a per-epoch curve. */
export interface EpochPoint {
  /** From 1. */
  epoch: number;
  loss: number;
}

/** The finite values of a per-epoch curve (epoch 1 first), with their epochs. */
export function finitePoints(values: readonly number[]): EpochPoint[] {
  return values
    .map((loss, i) => ({ epoch: i + 1, loss }))
    .filter((p) => Number.isFinite(p.loss));
}

/** A marker on each of `points`: circles of radius `r`, for a group that gives their colour. */
export function pointMarkers(
  points: readonly EpochPoint[],
  xOf: (epoch: number) => number,
  yOf: (value: number) => number,
  r: number,
): string[] {
  return points.map((p) => `<circle cx="${px(xOf(p.epoch))}" cy="${px(yOf(p.loss))}" r="${r}"/>`);
}

/** A legend's sample of a line style: 24 pixels from (x, y) to the right. */
export function legendSwatch(
  x: number,
  y: number,
  stroke: string,
  strokeWidth: number,
  dash = "",
): string {
  return `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${stroke}" ` +
    `stroke-width="${strokeWidth}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
}

/** What the plot area says when there is no finite value to draw. */
export function noFiniteValues(area: PlotArea): string {
  const { left, top, plotW, plotH } = area;
  return `<text x="${px(left + plotW / 2)}" y="${px(top + plotH / 2)}" font-size="14" ` +
    `fill="#888" text-anchor="middle">no finite loss values</text>`;
}
