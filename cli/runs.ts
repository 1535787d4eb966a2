/**
 * `runs`, `show HASH` and `compare HASH HASH`: reading the run records, so experiments can be
 * listed, inspected and put side by side.
 *
 * @module
 */
import type { CliArgs } from "./args.ts";
import { diffValues } from "../core/diff.ts";
import { UsageError } from "../core/errors.ts";
import { formatDuration } from "./progress.ts";
import type { RunRecord } from "../core/run_record.ts";
import type { Store } from "../core/store.ts";

/** Lists recorded runs, newest first. */
export async function runsCommand(args: CliArgs, store: Store): Promise<number> {
  const runs = await listRecords(store, args.all);
  if (args.json) {
    console.log(JSON.stringify(runs.map(summary), null, 2));
    return 0;
  }
  if (runs.length === 0) {
    console.log(`no runs recorded in ${store.root}`);
    return 0;
  }
  const rows = [[
    "config hash",
    "finished",
    "status",
    "config",
    "tokens",
    "vocab",
    "epochs",
    "best loss",
  ]];
  for (const r of runs) {
    const s = summary(r);
    rows.push([
      s.configHash,
      s.finishedAt.slice(0, 19).replace("T", " "),
      s.status,
      s.configPath,
      str(s.tokens),
      str(s.vocabSize),
      str(s.epochs),
      s.bestLoss === undefined ? "-" : s.bestLoss.toFixed(4),
    ]);
  }
  printTable(rows);
  return 0;
}

/** Shows one run. */
export async function showCommand(args: CliArgs, store: Store): Promise<number> {
  const record = await findRun(store, args.rest[0], "show");
  if (args.json) {
    console.log(JSON.stringify(record, null, 2));
    return 0;
  }
  console.log(
    `run ${record.configHash} · ${record.configPath} · ${record.status} · ${record.finishedAt}`,
  );
  console.log(`took ${formatDuration(record.seconds)}`);
  console.log("stages:");
  for (const [name, s] of Object.entries(record.stages)) {
    const how = s.cached
      ? `cached (executed in ${formatDuration(s.executedSeconds)})`
      : `ran in ${formatDuration(s.seconds)}`;
    console.log(`  ${name.padEnd(10)} ${s.key.slice(0, 12)}  ${how}`);
    for (const [out, digest] of Object.entries(s.outputs)) {
      console.log(`    ${out.padEnd(16)} ${digest.slice(0, 16)}`);
    }
  }
  console.log("metrics:");
  for (const [stage, metrics] of Object.entries(record.metrics)) {
    for (const [k, v] of Object.entries(metrics)) console.log(`  ${stage}.${k} = ${short(v)}`);
  }
  return 0;
}

/** Puts two runs side by side: config differences, metrics and loss per epoch. */
export async function compareCommand(args: CliArgs, store: Store): Promise<number> {
  if (args.rest.length !== 2) throw new UsageError("compare takes two config hashes (see `runs`)");
  const a = await findRun(store, args.rest[0], "compare");
  const b = await findRun(store, args.rest[1], "compare");
  const [sa, sb] = [summary(a), summary(b)];
  if (args.json) {
    console.log(JSON.stringify({ a: sa, b: sb, configDiff: configDiff(a, b) }, null, 2));
    return 0;
  }
  const rows = [["", a.configHash, b.configHash]];
  for (const d of configDiff(a, b)) rows.push([d.key, short(d.a), short(d.b)]);
  for (
    const key of [
      "tokens",
      "vocabSize",
      "windows",
      "epochs",
      "bestLoss",
      "backend",
      "lstmKernel",
    ] as const
  ) {
    rows.push([key, short(sa[key] ?? null), short(sb[key] ?? null)]);
  }
  const epochs = Math.max(sa.loss.length, sb.loss.length);
  for (let e = 0; e < epochs; e++) {
    rows.push([
      `loss epoch ${e + 1}`,
      sa.loss[e]?.toFixed(4) ?? "-",
      sb.loss[e]?.toFixed(4) ?? "-",
    ]);
  }
  printTable(rows);
  return 0;
}

/** The recorded run whose config hash starts with `id`. */
export async function findRun(
  store: Store,
  id: string | undefined,
  command: string,
): Promise<RunRecord> {
  if (id === undefined) {
    throw new UsageError(`${command} needs a config hash (see \`deno task pipeline runs\`)`);
  }
  const matches = (await listRecords(store)).filter((r) => r.configHash.startsWith(id));
  if (matches.length === 0) {
    throw new UsageError(`no recorded run has a config hash starting ${id} in ${store.root}`);
  }
  if (matches.length > 1) {
    throw new UsageError(`config hash prefix ${id} is ambiguous; give more characters`);
  }
  return matches[0]!;
}

/** The store's run records; a stray file in runs/ is skipped with a warning naming it. */
async function listRecords(store: Store, all = false): Promise<RunRecord[]> {
  await store.requireExisting();
  return await store.listRuns({
    all,
    onStray: (path) => console.error(`warning: skipped ${path}: it is not a run record`),
  });
}

/** The figures people compare runs by. */
export function summary(r: RunRecord) {
  const m = r.metrics;
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const loss = Array.isArray(m.train?.loss) ? (m.train.loss as number[]) : [];
  return {
    configHash: r.configHash,
    configPath: r.configPath,
    finishedAt: r.finishedAt,
    status: r.status,
    tokens: num(m.parse?.tokens),
    vocabSize: num(m.vocab?.vocabSize),
    windows: num(m.window?.windows),
    epochs: loss.length || undefined,
    bestLoss: num(m.train?.bestLoss),
    backend: m.train?.backend as string | undefined,
    lstmKernel: m.train?.lstmKernel as string | undefined,
    loss,
  };
}

/** The config keys whose values differ between two runs. */
function configDiff(a: RunRecord, b: RunRecord): { key: string; a: unknown; b: unknown }[] {
  return diffValues(a.config, b.config).map((d) => ({ key: d.path, a: d.before, b: d.now }));
}

function str(v: number | undefined): string {
  return v === undefined ? "-" : String(v);
}

function short(v: unknown): string {
  const s = typeof v === "number" && !Number.isInteger(v) ? v.toFixed(4) : JSON.stringify(v) ?? "-";
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}
