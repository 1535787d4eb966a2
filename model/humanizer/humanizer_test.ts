import assert from "node:assert/strict";
import { selectBackend } from "../backend.ts";
import type { ExpressiveHit } from "../../music/drums/expressive_drums.ts";
import { type HumanizerFile, trainHumanizer, VELOCITY_CLASSES } from "./humanizer.ts";
import {
  chooseClass,
  classOfVelocity,
  featureCount,
  forward,
  type HumanizerLayout,
  outputCount,
  playHits,
  stepFeatures,
  velocityOfClass,
} from "./humanize_step.js";
import { ErrorSums, fitBaselines, playQuantized, playTemplate } from "./scoring.ts";

await selectBackend("wasm");

const LAYOUT: HumanizerLayout = {
  drums: 9,
  context: 2,
  stepsPerBar: 16,
  stepsPerQuarter: 4,
  styles: ["funk", "jazz"],
  hidden: 16,
  velocityClasses: VELOCITY_CLASSES,
  offsetMin: -12,
  offsetClasses: 24,
};

/**
 * A drummer with a habit: the backbeat snare (steps 4, 12) 6 units late at 100, every hi-hat
 * early by 2 at 40, the kick on the grid at 110; in jazz the hi-hats are late by 4 instead.
 */
function bars(n: number, style: number): HumanizerFile {
  const hits: ExpressiveHit[] = [];
  for (let step = 0; step < n * 16; step++) {
    const s = step % 16;
    if (s === 0 || s === 10) hits.push({ step, drumClass: 0, offset: 0, velocity: 110 });
    if (s === 4 || s === 12) hits.push({ step, drumClass: 1, offset: 6, velocity: 100 });
    if (s % 2 === 0) {
      hits.push({ step, drumClass: 2, offset: style === 1 ? 4 : -2, velocity: 40 });
    }
  }
  hits.sort((a, b) => a.step - b.step || a.drumClass - b.drumClass);
  return { performance: { steps: n * 16, hits }, style, bpm: 100 };
}

Deno.test("humanizer: learns a drummer's offsets and velocities per drum, step and style", async () => {
  const train = [bars(8, 0), bars(8, 1)];
  const trained = await trainHumanizer(LAYOUT, train, train, {
    epochs: 40,
    batchSize: 128,
    learningRate: 0.03,
    dropout: 0,
    seed: 3,
    gemm: null,
  });
  assert.ok(trained.history.at(-1)!.loss < trained.history[0]!.loss / 4);
  for (const file of train) {
    const played = playHits(
      trained.model,
      file.performance.steps,
      file.performance.hits,
      file.style,
      file.bpm,
      { mode: "median" },
    );
    const errors = new ErrorSums();
    errors.add(file.performance, played, file.bpm);
    // Within a unit (6 ms at 100 bpm) and a velocity bucket of every hit.
    assert.ok(errors.errors().timingMs < 1, `timing ${errors.errors().timingMs} ms`);
    assert.ok(errors.errors().velocity < 3, `velocity ${errors.errors().velocity}`);
  }
});

Deno.test("humanizer: training's loss is the loss of the forward pass the pipeline plays with", async () => {
  const file = bars(4, 1);
  const trained = await trainHumanizer(LAYOUT, [file], [file], {
    epochs: 1,
    batchSize: 8,
    learningRate: 0.01,
    dropout: 0.4,
    seed: 1,
    gemm: null,
  });
  // The kept weights are epoch 1's: its validation loss, recomputed here step by step.
  const masks = new Uint16Array(file.performance.steps);
  for (const h of file.performance.hits) masks[h.step]! |= 1 << h.drumClass;
  const x = new Float32Array(featureCount(LAYOUT));
  const h1 = new Float64Array(LAYOUT.hidden), h2 = new Float64Array(LAYOUT.hidden);
  const out = new Float64Array(outputCount(LAYOUT));
  const per = LAYOUT.velocityClasses + LAYOUT.offsetClasses;
  const logSoftmaxAt = (from: number, n: number, k: number) => {
    let max = -Infinity;
    for (let i = 0; i < n; i++) max = Math.max(max, out[from + i]!);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(out[from + i]! - max);
    return out[from + k]! - max - Math.log(sum);
  };
  let nll = 0;
  for (const h of file.performance.hits) {
    stepFeatures(LAYOUT, masks, h.step, file.style, file.bpm, x);
    forward(trained.model, x, h1, h2, out);
    const at = h.drumClass * per;
    nll -= logSoftmaxAt(at, LAYOUT.velocityClasses, classOfVelocity(h.velocity));
    nll -= logSoftmaxAt(at + LAYOUT.velocityClasses, LAYOUT.offsetClasses, h.offset + 12);
  }
  const loss = nll / file.performance.hits.length;
  assert.ok(Math.abs(loss - trained.history[0]!.validationLoss) < 1e-4, `${loss}`);
});

Deno.test("humanizer: the same seed trains the same weights", async () => {
  const file = bars(2, 0);
  const settings = {
    epochs: 2,
    batchSize: 8,
    learningRate: 0.01,
    dropout: 0.3,
    seed: 5,
    gemm: null,
  };
  const a = await trainHumanizer(LAYOUT, [file], [file], settings);
  const b = await trainHumanizer(LAYOUT, [file], [file], settings);
  assert.deepEqual(a.model.weights, b.model.weights);
});

Deno.test("chooseClass: the median, or a draw that follows the probabilities", () => {
  const logits = Float64Array.from([0, Math.log(3), 0, 0]); // p = [1/6, 1/2, 1/6, 1/6]
  assert.equal(chooseClass(logits, 0, 4, { mode: "median" }), 1);
  let state = 0;
  const rng = () => (state = (state + 0.6180339887) % 1);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 6000; i++) {
    counts[chooseClass(logits, 0, 4, { mode: "sample", temperature: 1, rng })]!++;
  }
  assert.ok(Math.abs(counts[1]! / 6000 - 0.5) < 0.02, `${counts}`);
  assert.equal(velocityOfClass(classOfVelocity(88)), 88);
  assert.equal(velocityOfClass(25), 127);
});

Deno.test("baselines: the training hits' median velocity; the template's mean per drum and step", () => {
  const file = bars(2, 0);
  const baselines = fitBaselines([file.performance], 9, 16);
  assert.equal(baselines.velocity, 40); // hi-hats are most of the hits
  assert.deepEqual(baselines.template[1]![4], { offset: 6, velocity: 100 });
  assert.equal(baselines.template[1]![5], null);
  const template = new ErrorSums(), flat = new ErrorSums();
  template.add(file.performance, playTemplate(file.performance, baselines), 100);
  flat.add(file.performance, playQuantized(file.performance, baselines), 100);
  assert.equal(template.errors().timingMs, 0);
  assert.ok(flat.errors().timingMs > 0 && flat.errors().velocity > 0);
});
