/**
 * Text for people, shared by the terminal and the pages: durations, byte counts, table cells and
 * aligned tables.
 *
 * @module
 */

/** Seconds as "850ms", "12.3s", "4m05s" or "2h03m". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** A byte count for people: KiB below a MiB, else MiB. */
export function formatBytes(bytes: number): string {
  return bytes < 2 ** 20
    ? `${(bytes / 1024).toFixed(1)} KiB`
    : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A value in a table cell: fractions to 4 decimals, anything else as JSON, clipped. */
export function short(v: unknown): string {
  const s = typeof v === "number" && !Number.isInteger(v) ? v.toFixed(4) : JSON.stringify(v) ?? "-";
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Rows as left-aligned columns, one line each; a row may have fewer cells than the first. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
