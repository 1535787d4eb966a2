/**
 * The figures people compare runs by, read out of a run record: what `runs` lists and what
 * `compare --json` gives for each run.
 *
 * @module
 */
import type { RunRecord } from "../core/run_record.ts";

/** The figures people compare runs by. */
export function summary(r: RunRecord) {
  const m = r.metrics;
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const loss = Array.isArray(m.train?.loss) ? (m.train.loss as number[]) : [];
  const valLoss = Array.isArray(m.train?.valLoss) ? (m.train.valLoss as number[]) : [];
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
    valLoss,
    generated: generatedStatistics(r),
  };
}

/** The first generated piece's token statistics (value of each), from the stats stage. */
function generatedStatistics(r: RunRecord): Record<string, number | undefined> {
  const pieces = r.metrics.stats?.pieces;
  const first = Array.isArray(pieces) ? pieces[0] as Record<string, unknown> : undefined;
  const tokens = (first?.tokens ?? {}) as Record<string, { value?: number | null }>;
  return Object.fromEntries(
    Object.entries(tokens).map(([k, v]) => [k, typeof v?.value === "number" ? v.value : undefined]),
  );
}
