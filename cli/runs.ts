/**
 * `runs` and `show HASH`: reading the run records, so experiments can be listed and inspected
 * (`compare` is in compare.ts).
 *
 * @module
 */
import { warn } from "./terminal_text.ts";
import { quoteName } from "../formats/names.ts";
import type { CliArgs } from "./args.ts";
import { differingKeys, valueAt } from "../report/comparison.ts";
import { UsageError } from "../core/errors.ts";
import { formatDuration, formatTable, short } from "../report/text.ts";
import { summary } from "../report/summary.ts";
import type { RunRecord } from "../core/run_record.ts";
import type { Store } from "../core/storage.ts";

/**
 * Lists recorded runs, newest first: one row per run with the settings that differ between the
 * listed runs (and no others), the final loss, headline statistics of the generated piece and
 * the run's duration.
 */
export async function runsCommand(args: CliArgs, store: Store): Promise<number> {
  const all = await listRecords(store, args.all);
  const runs = args.last === undefined ? all : all.slice(0, args.last);
  if (args.json) {
    console.log(JSON.stringify(runs.map(summary), null, 2));
    return 0;
  }
  if (runs.length === 0) {
    console.log(`no runs recorded in ${store.root}`);
    return 0;
  }
  printRunsTable(runs);
  return 0;
}

/**
 * Prints one row per run: hash, date, status, config, the settings that differ between `runs`
 * (and no others), epochs, final training and validation loss, the generated piece's headline
 * statistics and duration.
 */
export function printRunsTable(runs: readonly RunRecord[]): void {
  const varying = differingKeys(runs);
  const rows = [[
    "config hash",
    "finished",
    "status",
    "config",
    ...varying,
    "epochs",
    "loss",
    "val loss",
    "distinct",
    "top share",
    "JS dist",
    "took",
  ]];
  for (const r of runs) {
    const s = summary(r);
    rows.push([
      s.configHash,
      s.finishedAt.slice(0, 19).replace("T", " "),
      s.status,
      s.configPath,
      ...varying.map((k) => short(valueAt(r.config, k))),
      str(s.epochs),
      fixed(s.loss.at(-1)),
      fixed(s.valLoss.at(-1)),
      str(s.generated.distinct_tokens),
      fixed(s.generated.top_token_share),
      fixed(s.generated.js_distance),
      formatDuration(r.seconds),
    ]);
  }
  console.log(formatTable(rows));
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

/** The recorded run whose config hash starts with `id`. */
export async function findRun(
  store: Store,
  id: string | undefined,
  command: string,
): Promise<RunRecord> {
  if (id === undefined) {
    throw new UsageError(`${command} needs a config hash (see \`deno task pipeline runs\`)`);
  }
  return (await findRuns(store, [id]))[0]!;
}

/** The recorded runs whose config hashes start with `ids`, in that order (runs/ read once). */
export async function findRuns(store: Store, ids: readonly string[]): Promise<RunRecord[]> {
  for (const id of ids) {
    if (!/^[0-9a-f]{1,16}$/.test(id)) {
      throw new UsageError(
        `${
          quoteName(id)
        } is not a config hash: give the hex hash (or its first characters) that \`deno task pipeline runs\` lists`,
      );
    }
  }
  const records = await listRecords(store);
  return ids.map((id) => {
    const matches = records.filter((r) => r.configHash.startsWith(id));
    if (matches.length === 0) {
      throw new UsageError(`no recorded run has a config hash starting ${id} in ${store.root}`);
    }
    if (matches.length > 1) {
      throw new UsageError(`config hash prefix ${id} is ambiguous; give more characters`);
    }
    return matches[0]!;
  });
}

/** The store's run records; a stray file in runs/ is skipped with a warning naming it. */
async function listRecords(store: Store, all = false): Promise<RunRecord[]> {
  await store.requireExisting();
  return await store.listRuns({
    all,
    onStray: (path, why) => warn(`skipped ${path}: it is not a run record (${why})`),
  });
}

function fixed(v: number | undefined): string {
  return v === undefined ? "-" : v.toFixed(4);
}

function str(v: number | undefined): string {
  return v === undefined ? "-" : String(v);
}
