/**
 * Small helpers shared by the plots: XML escaping, number formatting and "nice" axis ticks.
 * Private to plots/ (the leading underscore); not re-exported.
 *
 * @module
 */

/** Escapes text for use in SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}

/** Rounds a coordinate to 2 decimals so the SVG stays short and stable. */
export function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * Evenly spaced round tick values (steps of 1, 2 or 5 × 10ⁿ) covering `[min, max]`, about
 * `count` of them. The first tick is ≤ min and the last ≥ max.
 *
 * @param min lower end of the data
 * @param max upper end of the data (may equal min)
 * @param count the number of intervals wanted, roughly
 * @param minStep the smallest step allowed (1 for epochs)
 */
export function niceTicks(min: number, max: number, count = 5, minStep = 0): number[] {
  let lo = min;
  let hi = max;
  if (hi - lo < 1e-12) {
    const pad = Math.max(Math.abs(lo) * 0.1, minStep > 0 ? minStep : 0.1);
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  const step = Math.max(nice * magnitude, minStep);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Formats a tick label: integers as is, other values with up to 4 significant digits. */
export function formatTick(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** The opening of a drawing: the svg element, its title, a white page and the heading text. */
export function svgHeader(
  width: number,
  height: number,
  title: string,
  left: number,
  titleY: number,
): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" ` +
    `viewBox="0 0 ${px(width)} ${px(height)}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="${titleY}" font-size="16" font-weight="bold" fill="#222">${
      escapeXml(title)
    }</text>`,
  ];
}
