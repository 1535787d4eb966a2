/**
 * Checks the DAG the pipeline declares and orders it.
 *
 * @module
 */
import { type Stage, upstreamStages } from "./stage.ts";

/** The DAG and what to export, as pipeline.ts declares them. */
export interface Pipeline {
  stages: readonly Stage[];
  /** Final outputs, "stage/output", copied into `<store>/out/<config-hash>/`. */
  exports: readonly string[];
  /** Project root, for code digests. */
  root: string;
  /**
   * A code-digest cache file to share between stores (`$DLM_CODE_CACHE`): entries are keyed by
   * each module's text, so any store may use them. Without it each store keeps its own
   * (cache/code-digests.json), and a new store parses every module once.
   */
  codeCache?: string;
}

/**
 * Returns the stages in a topological order (declaration order where free), after checking that
 * names are unique, every input names a declared stage and there is no cycle.
 */
export function topologicalOrder(stages: readonly Stage[]): Stage[] {
  const byName = new Map<string, Stage>();
  for (const s of stages) {
    if (byName.has(s.name)) {
      throw new Error(`Cannot build the DAG: stage ${s.name} is declared twice`);
    }
    byName.set(s.name, s);
  }
  for (const s of stages) {
    for (const input of upstreamStages(s)) {
      if (!byName.has(input)) {
        throw new Error(
          `Cannot build the DAG: stage ${s.name} reads ${input}, which is not declared`,
        );
      }
    }
  }
  const order: Stage[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: Stage, path: string[]) => {
    if (state.get(s.name) === "done") return;
    if (state.get(s.name) === "visiting") {
      throw new Error(`Cannot build the DAG: cycle ${[...path, s.name].join(" → ")}`);
    }
    state.set(s.name, "visiting");
    for (const input of upstreamStages(s)) visit(byName.get(input)!, [...path, s.name]);
    state.set(s.name, "done");
    order.push(s);
  };
  for (const s of stages) visit(s, []);
  return order;
}

/** The stage named `target` and everything upstream of it, in order. */
export function upstreamOf(order: readonly Stage[], target: string): Stage[] {
  const byName = new Map(order.map((s) => [s.name, s]));
  const keep = new Set<string>();
  const visit = (name: string) => {
    if (keep.has(name)) return;
    keep.add(name);
    const stage = byName.get(name);
    for (const input of stage ? upstreamStages(stage) : []) visit(input);
  };
  visit(target);
  return order.filter((s) => keep.has(s.name));
}

/** The stages a run covers, in order: all of them, or `until` and what it needs. */
export function selectStages(stages: readonly Stage[], until?: string): Stage[] {
  const order = topologicalOrder(stages);
  if (until === undefined) return order;
  if (!order.some((s) => s.name === until)) throw new Error(`no stage is named ${until}`);
  return upstreamOf(order, until);
}
