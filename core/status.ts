/**
 * Says, without running anything, whether each stage is cached or stale and why: which config
 * key, input, code, environment fact, dataset file or declared file changed since the last run (DVC's
 * "changed deps", by category). A stage downstream of a stale one may still turn out cached
 * (early cutoff), so it is reported as waiting on it.
 *
 * @module
 */
import type { LoadedConfig } from "./config.ts";
import { selectStages } from "./dag.ts";
import type { StatEntry } from "./dataset.ts";
import { diffValues } from "./diff.ts";
import type { Digest, StageKey } from "./hash.ts";
import { type Stage, upstreamStages } from "./stage.ts";
import { CODE_CACHE, type KeyComponents, KeyPlanner } from "./stage_key.ts";
import type { Store } from "./storage.ts";

/** One stage's state and the reasons for it. */
export interface StageStatus {
  stage: string;
  state: "cached" | "stale" | "waiting";
  key?: StageKey;
  reasons: string[];
}

/** The status of every stage for a config. */
export async function pipelineStatus(opts: {
  stages: readonly Stage[];
  loaded: LoadedConfig;
  store: Store;
  root: string;
  codeCache?: string;
}): Promise<StageStatus[]> {
  const { store, loaded } = opts;
  const planner = new KeyPlanner(opts.root, loaded, opts.codeCache ?? store.pathOf(...CODE_CACHE));
  const previous = (await store.getRun(loaded.hash)) ?? (await store.listRuns())[0];
  const outputs: Record<string, Record<string, Digest>> = {};
  const result: StageStatus[] = [];
  for (const stage of selectStages(opts.stages)) {
    const blocked = upstreamStages(stage).filter((i) => outputs[i] === undefined);
    if (blocked.length > 0) {
      result.push({
        stage: stage.name,
        state: "waiting",
        reasons: [`waits on ${blocked.join(", ")}; runs if that gives outputs it has not seen`],
      });
      continue;
    }
    const { key, components } = await planner.plan(stage, outputs);
    const entry = await store.getKey(key);
    if (entry !== undefined) {
      outputs[stage.name] = entry.outputs;
      result.push({ stage: stage.name, state: "cached", key, reasons: [] });
      continue;
    }
    const prevKey = previous?.stages[stage.name]?.key;
    const prev = prevKey === undefined ? undefined : await store.readKey(prevKey);
    let reasons: string[];
    if (prev === undefined) reasons = ["never run"];
    else if (prevKey === key) reasons = ["outputs missing from the store"];
    else {reasons = await explain(
        prev.components,
        components,
        store,
        (await planner.dataset()).listing,
      );}
    if (await store.hasResumeState(key)) {
      reasons.push("an interrupted run left work in progress: the next run resumes it");
    }
    result.push({ stage: stage.name, state: "stale", key, reasons });
  }
  return result;
}

/** Lists what differs between two sets of key components. */
export async function explain(
  before: KeyComponents,
  now: KeyComponents,
  store: Store,
  listing: StatEntry[],
): Promise<string[]> {
  const reasons: string[] = [];
  if (before.code !== now.code) {
    reasons.push(`code changed (stages/${now.stage}.ts or a module it imports)`);
  }
  for (const key of diffValues(before.config, now.config)) {
    reasons.push(`config ${key.path}: ${fmt(key.before)} → ${fmt(key.now)}`);
  }
  for (const [up, named] of Object.entries(now.inputs)) {
    for (const [name, digest] of Object.entries(named)) {
      if (before.inputs[up]?.[name] !== digest) reasons.push(`input ${up}/${name} changed`);
    }
  }
  for (const key of diffValues(before.environment, now.environment)) {
    reasons.push(`environment ${key.path}: ${fmt(key.before)} → ${fmt(key.now)}`);
  }
  for (const [path, digest] of Object.entries(now.files ?? {})) {
    // A file the stage did not read before came with a config change, which is named above.
    const old = before.files?.[path];
    if (old !== undefined && old !== digest) reasons.push(`file ${path} changed`);
  }
  if (before.dataset !== now.dataset && now.dataset !== undefined) {
    reasons.push(await datasetChange(before.dataset, listing, store));
  }
  return reasons.length > 0 ? reasons : ["key changed"];
}

async function datasetChange(
  before: Digest | undefined,
  b: StatEntry[],
  store: Store,
): Promise<string> {
  const a = before !== undefined && (await store.has(before))
    ? JSON.parse(new TextDecoder().decode(await store.get(before))) as StatEntry[]
    : undefined;
  if (a === undefined) return "dataset files changed (size or modification time)";
  const old = new Map(a.map((e) => [e.path, e]));
  const added: string[] = [];
  const edited: string[] = [];
  for (const e of b) {
    const o = old.get(e.path);
    if (o === undefined) added.push(e.path);
    else if (o.size !== e.size || o.mtimeMs !== e.mtimeMs) edited.push(e.path);
    old.delete(e.path);
  }
  const removed = [...old.keys()];
  const part = (n: string[], what: string) =>
    n.length > 0
      ? [`${n.length} ${what} (${n.slice(0, 3).join(", ")}${n.length > 3 ? ", …" : ""})`]
      : [];
  const parts = [
    ...part(edited, "touched or edited"),
    ...part(added, "added"),
    ...part(removed, "removed"),
  ];
  return `dataset files changed: ${parts.join("; ") || "listing differs"}`;
}

function fmt(v: unknown): string {
  return v === undefined ? "(unset)" : JSON.stringify(v);
}
