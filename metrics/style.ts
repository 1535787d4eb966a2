/**
 * Whether a piece sounds like the style it was asked for (issue 23's check that style
 * conditioning works): a nearest-centroid classifier on the statistics of a performance, fitted
 * on the training files' styles, assigns a style to each piece and to each real test file; the
 * pieces should be assigned the style they were asked for at least as often as the test files are
 * assigned their own.
 *
 * The statistics are what a listener would tell styles by: how often each drum is struck (a ride
 * for jazz, a crash-heavy rock chorus), on which steps of the bar, how hard and how evenly
 * (velocity mean and spread), how far from the grid and which way, and the swing; each is
 * standardized over the training files, so that none outweighs the others by its unit.
 *
 * @module
 */
import type { ExpressionStats } from "./expression.ts";

/** A performance's statistics as the classifier reads them. */
export function styleFeatures(stats: ExpressionStats, bars: number): number[] {
  const perBar = stats.velocityByDrum.map((d) => (d?.hits ?? 0) / Math.max(1, bars));
  // Where in the bar hits fall: the rhythm a style is known by (a clave, a shuffle, a backbeat).
  const rhythm = stats.template.count.map((n) => n / Math.max(1, bars));
  return [
    ...perBar,
    ...rhythm,
    stats.velocityMean,
    stats.velocitySpread,
    stats.meanAbsOffsetMs,
    stats.meanOffsetMs,
    stats.swing ?? 1,
  ];
}

/** A fitted classifier: per style its centroid, over standardized features. */
export interface StyleCentroids {
  styles: string[];
  centroids: number[][];
  mean: number[];
  std: number[];
}

/** Fits the centroids of labelled feature vectors (styles with no example are left out). */
export function fitCentroids(examples: readonly { style: string; features: number[] }[]) {
  const n = examples[0]?.features.length ?? 0;
  const mean = Array.from(
    { length: n },
    (_, j) => examples.reduce((a, e) => a + e.features[j]!, 0) / Math.max(1, examples.length),
  );
  const std = Array.from({ length: n }, (_, j) => {
    const v = examples.reduce((a, e) => a + (e.features[j]! - mean[j]!) ** 2, 0) /
      Math.max(1, examples.length);
    return Math.sqrt(v) || 1;
  });
  const styles = [...new Set(examples.map((e) => e.style))].sort();
  const centroids = styles.map((style) => {
    const mine = examples.filter((e) => e.style === style);
    return Array.from(
      { length: n },
      (_, j) => mine.reduce((a, e) => a + (e.features[j]! - mean[j]!) / std[j]!, 0) / mine.length,
    );
  });
  return { styles, centroids, mean, std } satisfies StyleCentroids;
}

/** The style whose centroid is nearest (Euclidean, standardized). */
export function nearestStyle(model: StyleCentroids, features: readonly number[]): string {
  let best = 0, bestDistance = Infinity;
  model.centroids.forEach((c, i) => {
    let d = 0;
    for (let j = 0; j < c.length; j++) {
      d += ((features[j]! - model.mean[j]!) / model.std[j]! - c[j]!) ** 2;
    }
    if (d < bestDistance) [best, bestDistance] = [i, d];
  });
  return model.styles[best]!;
}

/** The share of `examples` assigned their own style. */
export function styleAccuracy(
  model: StyleCentroids,
  examples: readonly { style: string; features: number[] }[],
): number {
  if (examples.length === 0) return NaN;
  return examples.filter((e) => nearestStyle(model, e.features) === e.style).length /
    examples.length;
}
