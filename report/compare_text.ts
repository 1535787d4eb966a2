/**
 * A comparison (report/comparison.ts) as text for the terminal: aligned tables of the runs, their
 * training and their pieces' statistics.
 *
 * @module
 */
import type { Comparison, MetricRow, Spread } from "./comparison.ts";
import { formatTable, short } from "./text.ts";

/** The comparison as two aligned tables: runs and training, then the statistics. */
export function comparisonText(c: Comparison): string {
  const rows = [["", ...c.runs.map((r) => r.configHash)]];
  const metric = (m: MetricRow) => [
    m.name,
    ...m.values.map((v) => (typeof v === "string" ? clip(v, 40) : short(v ?? null))),
  ];
  for (const d of c.configDiff) rows.push([d.key, ...d.values.map(short)]);
  rows.push([""]);
  for (const m of c.metrics) if (m.headline) rows.push(metric(m));
  for (const s of c.epochs) {
    const epochs = Math.max(0, ...s.runs.map((v) => v?.length ?? 0));
    for (let e = 0; e < epochs; e++) {
      rows.push([`${s.label} epoch ${e + 1}`, ...s.runs.map((v) => fixed4(v?.[e]))]);
    }
  }
  rows.push([""]);
  for (const m of c.metrics) if (!m.headline) rows.push(metric(m));
  const text = formatTable(rows);
  if (c.statistics.length === 0) return text;
  const stats = [[
    "generated piece",
    ...c.runs.map((r) => r.configHash),
    ...c.data.map((_, i) => dataColumnLabel(c, i)),
  ]];
  let group = "";
  for (const s of c.statistics) {
    if (s.group !== group) {
      group = s.group;
      stats.push([group === "tokens" ? "token statistics:" : "music statistics (MusPy):"]);
    }
    stats.push([
      `  ${s.name}`,
      ...s.runs.map((v) => formatStat(v?.value)),
      ...s.data.map((d) => (d === undefined ? "" : formatSpread(d))),
    ]);
  }
  return `${text}\n\n${formatTable(stats)}`;
}

/** A statistic's value with 4 significant digits; "-" when there is none. */
export function formatStat(v: number | null | undefined): string {
  if (v === undefined) return "-";
  if (v === null || !Number.isFinite(v)) return "n/a";
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

/** "mean ± std" of a spread. */
export function formatSpread(d: Spread): string {
  return d.std === null ? formatStat(d.mean) : `${formatStat(d.mean)} ± ${formatStat(d.std)}`;
}

function fixed4(v: number | null | undefined): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(4) : "-";
}

/** What a "training data" column is called: plain when there is one, else by its runs. */
export function dataColumnLabel(comparison: Comparison, index: number): string {
  const d = comparison.data[index]!;
  const files = d.files === undefined ? "" : `, ${d.files} files`;
  return comparison.data.length === 1
    ? `training data (mean ± std${files})`
    : `training data of ${d.runs.map((h) => h.slice(0, 8)).join(", ")} (mean ± std${files})`;
}

/** `text`, cut to `max` characters with "...". */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
