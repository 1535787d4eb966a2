/**
 * `compare HASH HASH [...]`: two or more runs side by side. Prints the config keys that differ,
 * every metric, the loss (and validation figures, where a run has them) per epoch and the
 * generated piece's statistics beside the training data's; writes the loss curves of all the
 * runs overlaid (`curves.svg`) and an HTML page with the chart and the same tables
 * (`<store>/compare/<hash>-<hash>…/index.html`), which opens from file:// with no network.
 *
 * @module
 */
import type { CliArgs } from "./args.ts";
import { diffValues } from "../core/diff.ts";
import { UsageError } from "../core/errors.ts";
import { describeFsError, fsErrorAdvice, isFsError } from "../core/fs_errors.ts";
import { hashJson } from "../core/hash.ts";
import type { RunRecord } from "../core/run_record.ts";
import type { Store } from "../core/store.ts";
import { lossCurvesSvg } from "../plots/curves.ts";
import { comparePageHtml } from "./compare_page.ts";
import { formatDuration } from "./progress.ts";
import { findRuns, printTable, short, summary } from "./runs.ts";

/** A run's column: who it is. */
export interface RunColumn {
  configHash: string;
  configPath: string;
  status: string;
  finishedAt: string;
  seconds: number;
  /** The settings that set this run apart from the others, `key=value, …` ("" when none). */
  note: string;
}

/** A config key whose value is not the same in every run; `values[i]` is run i's. */
export interface ConfigRow {
  key: string;
  values: unknown[];
}

/** A metric, one value per run (undefined where a run has none). */
export interface MetricRow {
  name: string;
  values: unknown[];
  /** A figure people compare runs by, shown first (the others are every other metric). */
  headline: boolean;
}

/** A per-epoch series of train (loss, validation loss, …): one array per run, or undefined. */
export interface EpochSeries {
  /** The metric's name in the run record (`loss`, `valLoss`, …). */
  metric: string;
  /** What the tables call it (`loss`, `val loss`, …). */
  label: string;
  runs: (readonly (number | null)[] | undefined)[];
}

/** Where a statistic lies over the training files. */
export interface Spread {
  mean: number | null;
  std: number | null;
  min?: number | null;
  max?: number | null;
  n?: number;
}

/** A generated piece's value of a statistic and its distance from the data, in std. */
export interface PieceValue {
  value: number | null;
  z: number | null;
}

/** Runs whose training data was the same, and so share one "training data" column. */
export interface DataColumn {
  runs: string[];
  /** Training files measured. */
  files?: number;
}

/** One statistic of the generated piece: per run, and per training-data column. */
export interface StatisticRow {
  group: "tokens" | "music";
  name: string;
  runs: (PieceValue | undefined)[];
  data: (Spread | undefined)[];
}

/** Everything compare shows, as one value: the text, JSON and HTML are drawn from it. */
export interface Comparison {
  runs: RunColumn[];
  configDiff: ConfigRow[];
  metrics: MetricRow[];
  epochs: EpochSeries[];
  data: DataColumn[];
  statistics: StatisticRow[];
}

/** Per-epoch series of train, in the order shown, with their labels. */
const EPOCH_SERIES: Record<string, string> = {
  loss: "loss",
  valLoss: "val loss",
  valAccuracy: "val accuracy",
  valTop5: "val top-5",
  valPerplexity: "val perplexity",
};

/** The metrics shown first, under short names: [row name, stage, metric]. */
const HEADLINE: readonly [string, string, string][] = [
  ["tokens", "parse", "tokens"],
  ["vocabSize", "vocab", "vocabSize"],
  ["windows", "window", "windows"],
  ["epochs", "train", "loss"],
  ["bestLoss", "train", "bestLoss"],
  ["bestEpoch", "train", "bestEpoch"],
  ["backend", "train", "backend"],
  ["lstmKernel", "train", "lstmKernel"],
];

/** Metrics drawn elsewhere (the statistics tables), not as rows of their own. */
const ELSEWHERE = new Set(["datastats.tokens", "datastats.music", "stats.pieces"]);

/** Puts two or more runs side by side; writes the loss curves and the compare page. */
export async function compareCommand(args: CliArgs, store: Store): Promise<number> {
  if (args.rest.length < 2) {
    throw new UsageError("compare takes two or more config hashes (see `runs`)");
  }
  // The same run may be given twice (it is then its own baseline).
  const records = await findRuns(store, args.rest);
  const comparison = buildComparison(records);
  if (args.json) {
    const page = await tryWriteComparePage(store, comparison);
    console.log(JSON.stringify(comparisonJson(records, comparison, page), null, 2));
    return 0;
  }
  printComparison(comparison);
  const page = await tryWriteComparePage(store, comparison);
  if (page !== undefined) {
    console.log();
    printTable([["compare page", page.html], ["loss curves", page.svg]]);
  }
  return 0;
}

/** Reads what compare shows out of the run records, in the order given. */
export function buildComparison(records: readonly RunRecord[]): Comparison {
  const configDiff = differingKeys(records).map((key) => ({
    key,
    values: records.map((r) => valueAt(r.config, key)),
  }));
  const runs = records.map((r, i): RunColumn => ({
    configHash: r.configHash,
    configPath: r.configPath,
    status: r.status,
    finishedAt: r.finishedAt,
    seconds: r.seconds,
    note: configDiff.map((d) => `${d.key}=${compact(d.values[i])}`).join(", "),
  }));
  return {
    runs,
    configDiff,
    metrics: metricRows(records),
    epochs: epochSeries(records),
    ...statistics(records),
  };
}

/** The config keys whose values are not the same in every one of `runs`, sorted. */
export function differingKeys(runs: readonly RunRecord[]): string[] {
  const keys = new Set<string>();
  for (const r of runs.slice(1)) {
    for (const d of diffValues(runs[0]!.config, r.config)) keys.add(d.path);
  }
  return [...keys].sort();
}

/** The value at a dotted path of a JSON-like value. */
export function valueAt(value: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (v, k) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}

/** The headline metrics, then every other metric of every stage as `stage.name`. */
function metricRows(records: readonly RunRecord[]): MetricRow[] {
  const rows: MetricRow[] = HEADLINE.map(([name, stage, metric]) => ({
    name,
    headline: true,
    values: records.map((r) => {
      const v = r.metrics[stage]?.[metric];
      return name === "epochs" ? (Array.isArray(v) && v.length > 0 ? v.length : undefined) : v;
    }),
  }));
  const shown = new Set(HEADLINE.map(([, stage, metric]) => `${stage}.${metric}`));
  const names: string[] = [];
  for (const r of records) {
    for (const [stage, metrics] of Object.entries(r.metrics)) {
      for (const [metric, value] of Object.entries(metrics)) {
        const name = `${stage}.${metric}`;
        if (shown.has(name) || ELSEWHERE.has(name) || isEpochSeries(stage, metric, value)) continue;
        if (!names.includes(name)) names.push(name);
      }
    }
  }
  for (const name of names) {
    rows.push({ name, headline: false, values: records.map((r) => valueAt(r.metrics, name)) });
  }
  rows.push({
    name: "took",
    headline: true,
    values: records.map((r) => formatDuration(r.seconds)),
  });
  return rows;
}

/** A list per epoch; a val… metric that is one number (valContextFreeLoss) is a row instead. */
function isEpochSeries(stage: string, metric: string, value: unknown): boolean {
  return stage === "train" && Array.isArray(value) &&
    (metric in EPOCH_SERIES || /^val[A-Z]/.test(metric));
}

/** Train's per-epoch series that any of the runs has, loss first. */
function epochSeries(records: readonly RunRecord[]): EpochSeries[] {
  const names = new Set<string>();
  for (const r of records) {
    for (const [metric, v] of Object.entries(r.metrics.train ?? {})) {
      if (isEpochSeries("train", metric, v)) names.add(metric);
    }
  }
  const known = Object.keys(EPOCH_SERIES);
  const order = [
    ...known.filter((n) => names.has(n)),
    ...[...names].filter((n) => !known.includes(n)).sort(),
  ];
  return order.map((metric) => ({
    metric,
    label: EPOCH_SERIES[metric] ?? metric.replace(/([A-Z])/g, " $1").toLowerCase(),
    runs: records.map((r) => {
      const v = r.metrics.train?.[metric];
      return Array.isArray(v) ? v.map((x) => (typeof x === "number" ? x : null)) : undefined;
    }),
  }));
}

/** The generated piece's statistics, and the training data's in one column per distinct data. */
function statistics(
  records: readonly RunRecord[],
): { data: DataColumn[]; statistics: StatisticRow[] } {
  const pieces = records.map((r) => {
    const p = r.metrics.stats?.pieces;
    return (Array.isArray(p) ? p[0] : undefined) as
      | Record<string, Record<string, Record<string, unknown>>>
      | undefined;
  });
  const dataOf = (r: RunRecord, i: number): Record<string, unknown> | undefined => {
    const d = r.metrics.datastats;
    if (isObject(d) && (isObject(d.tokens) || isObject(d.music))) return d;
    // Without datastats metrics, the piece's statistics carry the data's mean and std.
    const p = pieces[i];
    if (p === undefined) return undefined;
    const fromPiece = (group: string) =>
      Object.fromEntries(
        Object.entries(p[group] ?? {}).map(([k, v]) => [k, { mean: v.dataMean, std: v.dataStd }]),
      );
    return { tokens: fromPiece("tokens"), music: fromPiece("music") };
  };
  const data: (DataColumn & { stats: Record<string, unknown> })[] = [];
  records.forEach((r, i) => {
    const stats = dataOf(r, i);
    if (stats === undefined) return;
    const key = JSON.stringify(stats);
    const same = data.find((d) => JSON.stringify(d.stats) === key);
    if (same) same.runs.push(r.configHash);
    else {
      data.push({
        runs: [r.configHash],
        ...(typeof stats.files === "number" ? { files: stats.files } : {}),
        stats,
      });
    }
  });
  const rows: StatisticRow[] = [];
  for (const group of ["tokens", "music"] as const) {
    const names: string[] = [];
    const add = (o: unknown) => {
      if (isObject(o)) { for (const k of Object.keys(o)) if (!names.includes(k)) names.push(k); }
    };
    for (const p of pieces) add(p?.[group]);
    for (const d of data) add(d.stats[group]);
    for (const name of names) {
      rows.push({
        group,
        name,
        runs: pieces.map((p) => {
          const v = p?.[group]?.[name];
          if (!isObject(v)) return undefined;
          return { value: numberOrNull(v.value), z: numberOrNull(v.z) };
        }),
        data: data.map((d) => {
          const s = valueAt(d.stats, `${group}.${name}`);
          if (!isObject(s)) return undefined;
          const spread: Spread = { mean: numberOrNull(s.mean), std: numberOrNull(s.std) };
          if ("min" in s) spread.min = numberOrNull(s.min);
          if ("max" in s) spread.max = numberOrNull(s.max);
          if (typeof s.n === "number") spread.n = s.n;
          return spread.mean === null ? undefined : spread;
        }),
      });
    }
  }
  return { data: data.map(({ stats: _, ...column }) => column), statistics: rows };
}

/** What a "training data" column is called: plain when there is one, else by its runs. */
export function dataColumnLabel(comparison: Comparison, index: number): string {
  const d = comparison.data[index]!;
  const files = d.files === undefined ? "" : `, ${d.files} files`;
  return comparison.data.length === 1
    ? `training data (mean ± std${files})`
    : `training data of ${d.runs.map((h) => h.slice(0, 8)).join(", ")} (mean ± std${files})`;
}

/** Prints the comparison as two aligned tables: runs and training, then the statistics. */
export function printComparison(c: Comparison): void {
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
  printTable(rows);
  if (c.statistics.length === 0) return;
  console.log();
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
  printTable(stats);
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

/** Where the compare page of these runs lives, under the store. */
export function comparePageDir(store: Store, hashes: readonly string[]): string {
  let name = hashes.join("-");
  // A folder name must stay under the file system's 255 bytes.
  if (name.length > 200) {
    name = `${hashes.slice(0, 4).join("-")}-and-${hashes.length - 4}-more-${
      hashJson(hashes).slice(0, 8)
    }`;
  }
  return store.pathOf("compare", name);
}

/**
 * {@link writeComparePage}, or a warning saying why the page could not be written (a read-only
 * store): the comparison itself has been printed either way.
 */
export async function tryWriteComparePage(
  store: Store,
  comparison: Comparison,
): Promise<{ html: string; svg: string } | undefined> {
  try {
    return await writeComparePage(store, comparison);
  } catch (e) {
    const reason = isFsError(e)
      ? `${describeFsError(e)}; ${fsErrorAdvice(e)}`
      : (e as Error).message;
    console.error(`warning: could not write the compare page under ${store.root}: ${reason}`);
    return undefined;
  }
}

/** Writes `curves.svg` and `index.html` for the comparison; returns their paths. */
export async function writeComparePage(
  store: Store,
  comparison: Comparison,
): Promise<{ html: string; svg: string }> {
  // Opening the store for writing also marks a store made before the marker, so the folder
  // added here never makes it look like something else.
  await store.init();
  const dir = comparePageDir(store, comparison.runs.map((r) => r.configHash));
  const svg = curvesSvg(comparison);
  const html = comparePageHtml(comparison, svg, {
    store: store.root,
    generatedAt: new Date().toISOString(),
  });
  const encoder = new TextEncoder();
  const paths = { html: `${dir}/index.html`, svg: `${dir}/curves.svg` };
  await store.writeAtomic(paths.svg, encoder.encode(svg));
  await store.writeAtomic(paths.html, encoder.encode(html));
  return paths;
}

/** The training (and validation) loss of every run, overlaid. */
export function curvesSvg(c: Comparison): string {
  const train = c.epochs.find((s) => s.metric === "loss");
  const validation = c.epochs.find((s) => s.metric === "valLoss");
  const nums = (v: readonly (number | null)[] | undefined) => v?.map((x) => x ?? NaN);
  return lossCurvesSvg(
    c.runs.map((r, i) => ({
      label: r.configHash,
      note: r.note,
      train: nums(train?.runs[i]) ?? [],
      validation: nums(validation?.runs[i]),
    })),
    { title: `Loss per epoch, ${c.runs.length} runs`, width: 960 },
  );
}

/** The JSON form: the runs' summaries and the comparison; for two runs also `a` and `b`. */
function comparisonJson(
  records: readonly RunRecord[],
  c: Comparison,
  page: { html: string; svg: string } | undefined,
) {
  const summaries = records.map(summary);
  const two = records.length === 2;
  return {
    ...(two ? { a: summaries[0], b: summaries[1] } : {}),
    runs: summaries,
    configDiff: c.configDiff.map((d) => ({
      key: d.key,
      values: d.values,
      ...(two ? { a: d.values[0], b: d.values[1] } : {}),
    })),
    metrics: c.metrics,
    epochs: c.epochs,
    trainingData: c.data,
    statistics: c.statistics,
    page: page?.html ?? null,
    curves: page?.svg ?? null,
  };
}

/** `text`, cut to `max` characters with "...". */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** A config value as it reads after `=`: strings bare, others as JSON. */
function compact(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v) ?? "-";
}

function numberOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
