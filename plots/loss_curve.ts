/**
 * The training loss per epoch as a self-contained SVG line chart: epochs (from 1) on x, loss on
 * y, round-numbered ticks on both axes, and a marker on the best epoch; with the validation loss,
 * a second, dashed line and a legend, and the loss of ignoring the context as a dotted level.
 *
 * @module
 */
import { epochFrame } from "./_epoch_chart.ts";
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
  const plotW = width - left - right;
  const plotH = height - top - bottom;

  const points = losses
    .map((loss, i) => ({ epoch: i + 1, loss }))
    .filter((p) => Number.isFinite(p.loss));
  const skipped = losses.length - points.length;

  const out = svgHeader(width, height, title, left, 26);

  // Pick the epoch to mark.
  let best = opts.best;
  if (best === undefined || !Number.isInteger(best) || !Number.isFinite(losses[best] ?? NaN)) {
    best = undefined;
    for (const p of points) {
      if (best === undefined || p.loss < (losses[best] ?? Infinity)) best = p.epoch - 1;
    }
  }

  const notes: string[] = [`${losses.length} epoch${losses.length === 1 ? "" : "s"}`];
  if (skipped > 0) notes.push(`${skipped} non-finite skipped`);
  out.push(
    `<text x="${width - right}" y="26" font-size="12" fill="#666" text-anchor="end">${
      escapeXml(notes.join(" · "))
    }</text>`,
  );

  const level = Number.isFinite(opts.contextFree) ? opts.contextFree : undefined;
  const validation = (opts.validation ?? [])
    .map((loss, i) => ({ epoch: i + 1, loss }))
    .filter((p) => Number.isFinite(p.loss));
  const { xOf, yOf } = epochFrame(
    out,
    { left, top, plotW, plotH, height },
    Math.max(1, losses.length),
    [...points, ...validation].map((p) => p.loss).concat(level === undefined ? [] : [level]),
    "loss",
  );
  if (level !== undefined) {
    const y = px(yOf(level));
    out.push(
      `<g class="context-free"><line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" ` +
        `stroke="#868e96" stroke-width="1.5" stroke-dasharray="2 3"/>` +
        // Below the line at the right end: where a validation curve that rose above the level
        // ends, the training curve has usually fallen far below the label.
        `<text x="${left + plotW - 4}" y="${px(yOf(level) + 14)}" font-size="11" fill="#495057" ` +
        `stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="end">${
          escapeXml(`ignoring context ${formatLoss(level)}`)
        }</text></g>`,
    );
  }

  // The curve.
  if (points.length === 0) {
    out.push(
      `<text x="${px(left + plotW / 2)}" y="${
        px(top + plotH / 2)
      }" font-size="14" fill="#888" text-anchor="middle">no finite loss values</text>`,
    );
  } else {
    if (validation.length > 0) {
      const coords = validation.map((p) => `${px(xOf(p.epoch))},${px(yOf(p.loss))}`).join(" ");
      out.push(
        `<polyline class="val-loss" points="${coords}" fill="none" stroke="#e8590c" ` +
          `stroke-width="2" stroke-dasharray="6 4" stroke-linejoin="round"/>`,
        `<g class="legend" font-size="12" fill="#333">` +
          `<line x1="${left + 12}" y1="${top + 10}" x2="${left + 36}" y2="${top + 10}" ` +
          `stroke="#2f6fd0" stroke-width="2"/><text x="${left + 42}" y="${
            top + 14
          }">training</text>` +
          `<line x1="${left + 112}" y1="${top + 10}" x2="${left + 136}" y2="${top + 10}" ` +
          `stroke="#e8590c" stroke-width="2" stroke-dasharray="6 4"/>` +
          `<text x="${left + 142}" y="${top + 14}">validation</text></g>`,
      );
    }
    const coords = points.map((p) => `${px(xOf(p.epoch))},${px(yOf(p.loss))}`).join(" ");
    out.push(
      `<polyline class="loss" points="${coords}" fill="none" stroke="#2f6fd0" ` +
        `stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
    if (points.length <= 60) {
      out.push(`<g class="points" fill="#2f6fd0">`);
      for (const p of points) {
        out.push(`<circle cx="${px(xOf(p.epoch))}" cy="${px(yOf(p.loss))}" r="2.5"/>`);
      }
      out.push(`</g>`);
    }
  }

  // The best epoch.
  const bestLoss = best === undefined ? undefined : losses[best];
  if (best !== undefined && bestLoss !== undefined) {
    const cx = xOf(best + 1);
    const cy = yOf(bestLoss);
    const label = `best ${formatLoss(bestLoss)} @ epoch ${best + 1}`;
    // The best loss is usually the lowest point, so the label goes below the marker, where the
    // curve is not, unless that leaves the plot; it sits left of the marker near the right edge.
    const anchorEnd = cx > left + plotW * 0.6;
    const below = cy + 22 <= top + plotH - 4;
    out.push(
      `<g class="best"><circle cx="${px(cx)}" cy="${px(cy)}" r="6" fill="none" stroke="#d9480f" ` +
        `stroke-width="2"/><text x="${px(anchorEnd ? cx - 9 : cx + 9)}" y="${
          px(below ? cy + 22 : cy - 12)
        }" font-size="12" fill="#d9480f" stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="${
          anchorEnd ? "end" : "start"
        }">${escapeXml(label)}</text></g>`,
    );
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** A loss for the best-epoch label: 4 significant digits. */
function formatLoss(loss: number): string {
  return loss.toPrecision(4);
}
