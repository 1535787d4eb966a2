/**
 * Two or more runs side by side, as data: the config keys that differ, every metric, the loss
 * (and validation figures, where a run has them) per epoch and the generated piece's statistics
 * beside the training data's; and where its page lives. Its text is report/compare_text.ts, its
 * page report/compare_page.ts, its command cli/compare.ts.
 *
 * @module
 */
import { diffValues } from "../core/diff.ts";
import type { RunRecord } from "../core/run_record.ts";
import { formatDuration } from "./text.ts";
import { summary } from "./summary.ts";

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

/** The JSON form: the runs' summaries and the comparison; for two runs also `a` and `b`. */
export function comparisonJson(
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
