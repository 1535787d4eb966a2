/**
 * `gc`: frees what no kept run needs. A store only grows (every config tried, every code change
 * leaves its objects behind); this is how it shrinks without losing anything a kept run needs to
 * be shown, compared, rerun from the cache or reproduced.
 *
 * Kept runs are every run record in runs/, or with `keepLast` the run records (latest and
 * history) of the `keepLast` configs that ran most recently; the others' records go. What the kept
 * records need stays: the outputs and cache entries of their stage keys, the dataset listing
 * those keys were computed from, the work in progress of the stage an interrupted run stopped in,
 * and their exports under out/. Everything else in objects/, keys/, partial/ and out/ goes, and
 * so does a compare page (compare/) that shows a run no longer kept.
 *
 * gc takes the store for itself: while any run holds the store, it refuses.
 *
 * @module
 */
import { PipelineError } from "../core/errors.ts";
import type { Digest, StageKey } from "../core/hash.ts";
import type { RunRecord } from "../core/run_record.ts";
import type { OnStray, Store } from "../core/storage.ts";
import { isComparePage, isConfigHash, isStageKey } from "../formats/names.ts";

/** What gc removed, or would remove with `dryRun`. */
export interface GcReport {
  runs: string[];
  objects: number;
  objectBytes: number;
  keys: number;
  partial: number;
  exports: number;
  /** Compare pages that showed a run no longer kept. */
  pages: number;
}

/** Removes what no kept run record needs; with `dryRun`, only reports it. */
export async function collectGarbage(
  store: Store,
  opts: { keepLast?: number; dryRun?: boolean; onStray?: OnStray } = {},
): Promise<GcReport> {
  await store.requireExisting();
  const alone = await store.useAlone();
  if (alone === undefined) {
    throw new PipelineError(
      `a run is using the store ${store.root}; run gc again when it has finished`,
    );
  }
  try {
    const history = await store.listRuns({ all: true, onStray: opts.onStray });
    const latest = await store.listRuns({ onStray: opts.onStray });
    const keptConfigs = new Set<string>(
      latest.slice(0, opts.keepLast ?? latest.length).map((r) => r.configHash),
    );
    // A config with history but no latest record (only --until or failed runs) is kept unless
    // keepLast is given.
    if (opts.keepLast === undefined) { for (const r of history) keptConfigs.add(r.configHash); }
    const kept = [...history, ...latest].filter((r) => keptConfigs.has(r.configHash));
    const { objects, keys, partial } = await needs(store, kept);

    const report: GcReport = {
      runs: [],
      objects: 0,
      objectBytes: 0,
      keys: 0,
      partial: 0,
      exports: 0,
      pages: 0,
    };
    const drop = (what: Parameters<Store["remove"]>[0]) =>
      opts.dryRun ? Promise.resolve() : store.remove(what);
    for (const hash of new Set([...history, ...latest].map((r) => r.configHash))) {
      if (keptConfigs.has(hash)) continue;
      report.runs.push(hash);
      await drop({ runs: hash });
    }
    for await (const { digest, size } of store.objects()) {
      if (objects.has(digest)) continue;
      report.objects++;
      report.objectBytes += size;
      await drop({ object: digest });
    }
    for await (const key of store.keys()) {
      if (keys.has(key)) continue;
      report.keys++;
      await drop({ key });
    }
    // Only folders named as the store names them: anything else there is not the store's.
    for await (const key of store.folders("partial")) {
      if (!isStageKey(key) || partial.has(key)) continue;
      report.partial++;
      await drop({ partial: key });
    }
    for await (const hash of store.folders("out")) {
      if (!isConfigHash(hash) || keptConfigs.has(hash)) continue;
      report.exports++;
      await drop({ out: hash });
    }
    // A compare page is named by the config hashes it shows (report/comparison.ts).
    for await (const name of store.folders("compare")) {
      if (!isComparePage(name)) continue;
      const shown = name.match(/[0-9a-f]{16}/g) ?? [];
      if (shown.every((hash) => keptConfigs.has(hash))) continue;
      report.pages++;
      await drop({ compare: name });
    }
    return report;
  } finally {
    alone.release();
  }
}

/** The objects, keys and partial work that the kept records need. */
async function needs(store: Store, kept: readonly RunRecord[]) {
  const objects = new Set<Digest>();
  const keys = new Set<StageKey>();
  const partial = new Set<string>();
  for (const record of kept) {
    for (const stage of Object.values(record.stages)) {
      keys.add(stage.key);
      for (const digest of Object.values(stage.outputs)) objects.add(digest);
    }
    if (record.interrupted !== undefined) {
      partial.add(record.interrupted.key);
      keys.add(record.interrupted.key);
    }
  }
  for (const key of keys) {
    const entry = await store.readKey(key);
    if (entry === undefined) continue;
    for (const digest of Object.values(entry.outputs)) objects.add(digest);
    if (entry.components.dataset !== undefined) objects.add(entry.components.dataset);
    partial.add(key);
  }
  return { objects, keys, partial };
}
