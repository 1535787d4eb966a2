/**
 * Measures of expression in a drum performance (issue 23): how far the hits sit from the grid,
 * the groove's template (the mean offset by step in the bar), the accents (the mean velocity by
 * step in the bar), the velocity of each drum class, and swing. These are what the drum grid
 * (music/drums/drum_grid.ts) throws away and a humanized piece must bring back, so the perform
 * stage (stages/perform.ts) reads the generated pieces against the test files with them.
 *
 * Why milliseconds: an offset is stored in 96ths of a quarter note, but what a listener hears is
 * time, and the same offset is 5.2 ms at 120 bpm and 10.4 ms at 60; so offsets are converted at
 * the piece's own tempo before they are averaged or pooled.
 *
 * Why templates are sums: pooling many pieces into one template must weight every hit alike (a
 * piece with 3 hits on a step must not count as much as one with 300), which averaging per-piece
 * means would not do; so a template keeps counts and sums, {@link mergeTemplates} adds them, and
 * {@link templateMeans} divides only at the end.
 *
 * Bars are 4/4, as in the drum grid: a bar is 4 × stepsPerQuarter steps, and a hit's step in the
 * bar is its step modulo that. Pure functions on values: no Deno APIs.
 *
 * @module
 */
import { meanAndSpread, type Spread } from "./summary.ts";
import { type ExpressiveHit, UNITS_PER_QUARTER } from "../music/drums/expressive_drums.ts";
import { DRUM_CLASS_NAMES } from "../music/drums/drums.ts";

/** A performance to measure: its hits, the grid they sit on and the tempo they are played at. */
export interface PerformedPiece {
  /** The hits, in any order; a hit's `offset` is in 96ths of a quarter from its step. */
  hits: readonly ExpressiveHit[];
  /** Grid steps per quarter note (4: sixteenths), a positive integer. */
  stepsPerQuarter: number;
  /** Tempo in quarter notes per minute, above 0: it turns offsets into milliseconds. */
  bpm: number;
}

/**
 * Running sums by step in the bar (4 × stepsPerQuarter entries, 4/4 bars), so that pieces can be
 * pooled hit-weighted: see {@link mergeTemplates} and {@link templateMeans}.
 */
export interface ExpressionTemplate {
  /** Hits on each step in the bar. */
  count: number[];
  /** Sum of those hits' signed offsets from the grid, in ms. */
  offsetMsSum: number[];
  /** Sum of those hits' velocities. */
  velocitySum: number[];
}

/** The velocities of one drum class's hits. */
export interface DrumVelocity {
  /** Number of hits, at least 1. */
  hits: number;
  /** Mean velocity. */
  mean: number;
  /** Population standard deviation of the velocity. */
  spread: number;
}

/** What {@link expressionStats} measures of one performance. */
export interface ExpressionStats {
  /** Number of hits. */
  hits: number;
  /** Mean |offset| from the grid, ms: how loose the timing is, ahead or behind (0 on the grid). */
  meanAbsOffsetMs: number;
  /** Mean signed offset, ms: below 0 ahead of the beat (rushing), above 0 behind it (laid back). */
  meanOffsetMs: number;
  /** Mean velocity over all hits. */
  velocityMean: number;
  /** Population standard deviation of the velocity over all hits: the dynamics' range. */
  velocitySpread: number;
  /**
   * One entry per drum class, in the order of DRUM_CLASS_NAMES (music/drums/drums.ts); null where
   * the class has no hit. Ghost notes and accents live per drum (a soft snare, a loud kick), so
   * the overall spread alone would hide them.
   */
  velocityByDrum: (DrumVelocity | null)[];
  /**
   * Where the off-beat eighth falls: f / (1 − f), f its hits' mean position in the beat as a
   * fraction of the beat (0.5 on the grid). 1 is straight, 2 a triplet swing (f = 2/3); null
   * without off-beat eighths, or when stepsPerQuarter is odd and no step is the off-beat eighth.
   */
  swing: number | null;
  /** Sums by step in the bar, for the groove's template and the accents. */
  template: ExpressionTemplate;
}

/**
 * Measures a performance: timing against the grid, velocity overall and per drum class, swing,
 * and the sums of its template. An empty performance gives 0 for every mean and spread and a null
 * swing, never NaN, so it can be averaged with others. A hit whose drum class is outside
 * DRUM_CLASS_NAMES counts everywhere but in `velocityByDrum`.
 *
 * @param piece the hits, the grid and the tempo
 * @returns the statistics
 * @throws {RangeError} when the tempo is not a finite number above 0, or steps per quarter is not
 *   a positive integer
 */
export function expressionStats(piece: PerformedPiece): ExpressionStats {
  const { hits, stepsPerQuarter, bpm } = piece;
  if (!Number.isFinite(bpm) || bpm <= 0) {
    throw new RangeError(
      `Cannot measure expression: the tempo must be a number of bpm above 0 (found ${bpm})`,
    );
  }
  if (!Number.isInteger(stepsPerQuarter) || stepsPerQuarter < 1) {
    throw new RangeError(
      "Cannot measure expression: steps per quarter must be a positive integer " +
        `(found ${stepsPerQuarter})`,
    );
  }
  const msPerUnit = 60_000 / (bpm * UNITS_PER_QUARTER);
  const stepsPerBar = 4 * stepsPerQuarter;
  const template: ExpressionTemplate = {
    count: new Array<number>(stepsPerBar).fill(0),
    offsetMsSum: new Array<number>(stepsPerBar).fill(0),
    velocitySum: new Array<number>(stepsPerBar).fill(0),
  };
  const drums = DRUM_CLASS_NAMES.map(() => ({ hits: 0, sum: 0, squares: 0 }));
  const offBeat = stepsPerQuarter % 2 === 0 ? stepsPerQuarter / 2 : -1;
  let absMsSum = 0, msSum = 0, velocitySum = 0, velocitySquares = 0;
  let offBeats = 0, offBeatUnits = 0;
  for (const h of hits) {
    const ms = h.offset * msPerUnit;
    absMsSum += Math.abs(ms);
    msSum += ms;
    velocitySum += h.velocity;
    velocitySquares += h.velocity * h.velocity;
    const drum = drums[h.drumClass];
    if (drum !== undefined) {
      drum.hits++;
      drum.sum += h.velocity;
      drum.squares += h.velocity * h.velocity;
    }
    const inBar = modulo(h.step, stepsPerBar);
    template.count[inBar]! += 1;
    template.offsetMsSum[inBar]! += ms;
    template.velocitySum[inBar]! += h.velocity;
    if (modulo(h.step, stepsPerQuarter) === offBeat) {
      offBeats++;
      offBeatUnits += h.offset;
    }
  }
  const n = hits.length;
  let swing: number | null = null;
  if (offBeats > 0) {
    const f = 0.5 + offBeatUnits / offBeats / UNITS_PER_QUARTER;
    // Offsets stay within half a step of the grid, so 0 < f < 1; the guard keeps out Infinity.
    if (f > 0 && f < 1) swing = f / (1 - f);
  }
  const velocity = spreadOf(n, velocitySum, velocitySquares);
  return {
    hits: n,
    meanAbsOffsetMs: n === 0 ? 0 : absMsSum / n,
    meanOffsetMs: n === 0 ? 0 : msSum / n,
    velocityMean: velocity.mean,
    velocitySpread: velocity.spread,
    velocityByDrum: drums.map((d) =>
      d.hits === 0 ? null : { hits: d.hits, ...spreadOf(d.hits, d.sum, d.squares) }
    ),
    swing,
    template,
  };
}

/**
 * The templates of several pieces as one: their counts and sums added, step by step in the bar,
 * so every hit weighs the same whichever piece it came from. Templates of different lengths
 * (different grids) are added over the longest, the shorter ones counting 0 past their end.
 *
 * @param templates the pieces' templates
 * @returns the pooled template; empty (length 0) for no templates
 */
export function mergeTemplates(templates: readonly ExpressionTemplate[]): ExpressionTemplate {
  const length = templates.reduce((max, t) => Math.max(max, t.count.length), 0);
  const add = (pick: (t: ExpressionTemplate) => readonly number[]) =>
    Array.from({ length }, (_, s) => templates.reduce((sum, t) => sum + (pick(t)[s] ?? 0), 0));
  return {
    count: add((t) => t.count),
    offsetMsSum: add((t) => t.offsetMsSum),
    velocitySum: add((t) => t.velocitySum),
  };
}

/**
 * The groove's template and the accents: the mean offset (ms) and the mean velocity on each step
 * in the bar. A step no hit falls on has no mean, so it is null rather than a 0 that
 * {@link correlation} would take for an on-grid, silent step.
 *
 * @param t a template, one piece's or pooled
 * @returns per step in the bar the mean offset in ms and the mean velocity, null where count is 0
 */
export function templateMeans(
  t: ExpressionTemplate,
): { offsetMs: (number | null)[]; velocity: (number | null)[] } {
  const means = (sums: readonly number[]) =>
    sums.map((sum, s) => {
      const count = t.count[s] ?? 0;
      return count > 0 ? sum / count : null;
    });
  return { offsetMs: means(t.offsetMsSum), velocity: means(t.velocitySum) };
}

/**
 * Pearson's correlation of two series over the indices where both hold a number: how closely a
 * generated template follows the data's shape (1: the same shape, −1: the mirror image), whatever
 * its scale. Null, not a number, where it means nothing: fewer than 3 such indices, or either
 * series constant over them (no shape to follow).
 *
 * @param a one series, null where it has no value
 * @param b the other, index for index
 * @returns the correlation in [−1, 1], or null
 */
export function correlation(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
): number | null {
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (typeof x === "number" && typeof y === "number") {
      xs.push(x);
      ys.push(y);
    }
  }
  if (xs.length < 3) return null;
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mx = mean(xs), my = mean(ys);
  let sxy = 0, sxx = 0, syy = 0;
  xs.forEach((x, i) => {
    const dx = x - mx, dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  });
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** `value` modulo `m` in 0 … m − 1, for negative values too. */
function modulo(value: number, m: number): number {
  return ((value % m) + m) % m;
}

/** Mean and population standard deviation from a count, a sum and a sum of squares (0, 0: none). */
function spreadOf(n: number, sum: number, squares: number): { mean: number; spread: number } {
  if (n === 0) return { mean: 0, spread: 0 };
  const mean = sum / n;
  return { mean, spread: Math.sqrt(Math.max(0, squares / n - mean * mean)) };
}

/** Pieces' expression read against real performances (stats' `expression.json`). */
export interface ExpressionReport {
  /** Per statistic: the pieces', the files', and whether the pieces' mean is within 1 std. */
  statistics: Record<string, { pieces: Spread; test: Spread; withinOneStd: boolean }>;
  /** Pearson correlation of the pieces' mean offset by step in the bar with the files'. */
  templateCorrelation: number | null;
  /** The same for mean velocity by step in the bar (accents). */
  accentCorrelation: number | null;
  /** The pooled templates by step in the bar: offset in ms, velocity. */
  templates: {
    pieces: { offsetMs: (number | null)[]; velocity: (number | null)[] };
    test: { offsetMs: (number | null)[]; velocity: (number | null)[] };
  };
  /**
   * The style check (metrics/style.ts): the share of pieces a nearest-centroid classifier fitted
   * on the training files assigns to the style they were asked for, and of test files to their
   * own; absent where the files have no styles.
   */
  style?: { pieces: number; test: number; styles: number; trainFiles: number };
  /** Reference files measured. */
  testFiles: number;
}

/** The statistics compared one number per piece, by the name the report gives them. */
const SCALARS: Record<string, (s: ExpressionStats) => number | null> = {
  "mean absolute offset (ms)": (s) => s.meanAbsOffsetMs,
  "mean offset (ms)": (s) => s.meanOffsetMs,
  "velocity mean": (s) => s.velocityMean,
  "velocity spread": (s) => s.velocitySpread,
  "swing": (s) => s.swing,
};

/** Pieces' statistics read against `test`'s (real performances of the same length and place). */
export function compareExpression(
  pieces: readonly ExpressionStats[],
  test: readonly ExpressionStats[],
): ExpressionReport {
  const statistics: ExpressionReport["statistics"] = {};
  for (const [name, of] of Object.entries(SCALARS)) {
    const values = (list: readonly ExpressionStats[]) => list.map((s) => of(s) ?? NaN);
    const p = meanAndSpread(values(pieces)), t = meanAndSpread(values(test));
    statistics[name] = { pieces: p, test: t, withinOneStd: Math.abs(p.mean - t.mean) <= t.std };
  }
  const piecesTemplate = templateMeans(mergeTemplates(pieces.map((s) => s.template)));
  const testTemplate = templateMeans(mergeTemplates(test.map((s) => s.template)));
  return {
    statistics,
    templateCorrelation: correlation(piecesTemplate.offsetMs, testTemplate.offsetMs),
    accentCorrelation: correlation(piecesTemplate.velocity, testTemplate.velocity),
    templates: { pieces: piecesTemplate, test: testTemplate },
    testFiles: test.length,
  };
}
