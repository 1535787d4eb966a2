/**
 * How close a humanized pattern comes to the real performance, and the two baselines issue 23
 * sets against the humanizer: leaving the pattern quantized at one velocity, and playing every
 * hit as the training files play that drum on that step of the bar on average (the template).
 *
 * A test file is quantized (its hits on the grid at one velocity), played, and each hit compared
 * with the same drum's hit on the same step of the real performance: the timing error in
 * milliseconds at the file's tempo, the velocity error in MIDI units, both mean absolute errors
 * over every hit.
 *
 * @module
 */
import type { Performance } from "../../music/drums/performance.ts";
import { UNITS_PER_QUARTER } from "../../music/drums/expressive_drums.ts";
import type { HumanizerFile } from "./humanizer.ts";
import { type HumanizerModel, playHits } from "./humanize_step.js";

/** A played hit: a step, a drum, and how it is played. */
export interface PlayedHit {
  step: number;
  drumClass: number;
  velocity: number;
  offset: number;
}

/** Mean absolute errors over the hits compared. */
export interface HumanizeErrors {
  timingMs: number;
  velocity: number;
  hits: number;
}

/** Sums of absolute errors, to pool files hit-weighted. */
export class ErrorSums {
  timingMs = 0;
  velocity = 0;
  hits = 0;

  /**
   * Adds the errors of `played` against `real`, hit by hit (both in the same order: one per
   * drum per step, by step then drum).
   */
  add(real: Performance, played: readonly PlayedHit[], bpm: number): void {
    const msPerUnit = 60_000 / (bpm * UNITS_PER_QUARTER);
    real.hits.forEach((h, i) => {
      const p = played[i]!;
      if (p.step !== h.step || p.drumClass !== h.drumClass) {
        throw new RangeError(`hit ${i} is not the same hit (step ${p.step}, drum ${p.drumClass})`);
      }
      this.timingMs += Math.abs(p.offset - h.offset) * msPerUnit;
      this.velocity += Math.abs(p.velocity - h.velocity);
      this.hits++;
    });
  }

  /** The means. */
  errors(): HumanizeErrors {
    const n = Math.max(1, this.hits);
    return { timingMs: this.timingMs / n, velocity: this.velocity / n, hits: this.hits };
  }
}

/** The baselines, fitted on the training performances. */
export interface HumanizeBaselines {
  /** The velocity a quantized pattern is left at: the training hits' median. */
  velocity: number;
  /** Per drum, per step in the bar: mean offset (units) and mean velocity; null where unseen. */
  template: ({ offset: number; velocity: number } | null)[][];
}

/**
 * Fits the baselines on `performances`.
 *
 * @param drums drum classes
 * @param stepsPerBar steps per bar
 */
export function fitBaselines(
  performances: readonly Performance[],
  drums: number,
  stepsPerBar: number,
): HumanizeBaselines {
  const counts = new Float64Array(128);
  const sums = Array.from(
    { length: drums * stepsPerBar },
    () => ({ n: 0, offset: 0, velocity: 0 }),
  );
  let total = 0;
  for (const p of performances) {
    for (const h of p.hits) {
      counts[h.velocity]!++;
      total++;
      const s = sums[h.drumClass * stepsPerBar + (h.step % stepsPerBar)]!;
      s.n++;
      s.offset += h.offset;
      s.velocity += h.velocity;
    }
  }
  let median = 1;
  for (let v = 1, acc = 0; v < 128; v++) {
    acc += counts[v]!;
    if (acc >= total / 2) {
      median = v;
      break;
    }
  }
  const template = Array.from(
    { length: drums },
    (_, d) =>
      Array.from({ length: stepsPerBar }, (_, s) => {
        const at = sums[d * stepsPerBar + s]!;
        return at.n === 0 ? null : { offset: at.offset / at.n, velocity: at.velocity / at.n };
      }),
  );
  return { velocity: median, template };
}

/** `real`'s hits left on the grid at the baseline's one velocity. */
export function playQuantized(real: Performance, baselines: HumanizeBaselines): PlayedHit[] {
  return real.hits.map((h) => ({ ...h, offset: 0, velocity: baselines.velocity }));
}

/** `real`'s hits played by the template: each drum's mean offset and velocity on its step. */
export function playTemplate(real: Performance, baselines: HumanizeBaselines): PlayedHit[] {
  const steps = baselines.template[0]?.length ?? 1;
  return real.hits.map((h) => {
    const t = baselines.template[h.drumClass]?.[h.step % steps];
    return { ...h, offset: t?.offset ?? 0, velocity: t?.velocity ?? baselines.velocity };
  });
}

/** The errors of the humanizer and of both baselines on the same hits. */
export interface HumanizeScores {
  humanizer: HumanizeErrors;
  quantized: HumanizeErrors;
  template: HumanizeErrors;
}

/**
 * Scores humanizing on `files`: each file's grid played by `model` (each distribution's median)
 * and by the two baselines, against the real performance.
 */
export function scoreHumanizer(
  model: HumanizerModel,
  files: readonly HumanizerFile[],
  baselines: HumanizeBaselines,
): HumanizeScores {
  const sums = {
    humanizer: new ErrorSums(),
    quantized: new ErrorSums(),
    template: new ErrorSums(),
  };
  for (const { performance: real, style, bpm } of files) {
    const played = playHits(model, real.steps, real.hits, style, bpm, { mode: "median" });
    sums.humanizer.add(real, played, bpm);
    sums.quantized.add(real, playQuantized(real, baselines), bpm);
    sums.template.add(real, playTemplate(real, baselines), bpm);
  }
  return {
    humanizer: sums.humanizer.errors(),
    quantized: sums.quantized.errors(),
    template: sums.template.errors(),
  };
}
