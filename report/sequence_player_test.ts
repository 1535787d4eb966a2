import assert from "node:assert/strict";
import { selectBackend } from "../model/backend.ts";
import { saveCheckpoint } from "../model/checkpoint.ts";
import { seededRandom } from "../model/random.ts";
import { chooseNext } from "../model/sampling.ts";
import { TFJS_LSTM } from "../model/lstm_implementation.ts";
import {
  buildSequenceModel,
  DEFAULT_SEQUENCE_MODEL,
  sequenceLayout,
  SequenceStepper,
} from "../model/sequence/network.ts";
import * as lstmStep from "../model/sequence/lstm_step.js";
import { buildTransformerModel } from "../model/sequence/transformer.ts";
import { TransformerStepper } from "../model/sequence/transformer_layers.ts";
import * as transformerStep from "../model/sequence/transformer_step.js";
import { continueSequences } from "../model/continuation.js";
import { primerIds, stepCheckpoint, transformerCheckpoint } from "./sequence_player.ts";

await selectBackend("wasm");

const TINY = {
  ...DEFAULT_SEQUENCE_MODEL,
  embedding: 4,
  positionEmbedding: 3,
  units: 8,
  seed: 5,
};

Deno.test("stepCheckpoint() reads the layout and weights a checkpoint's bytes hold: the same steps as the model's", async () => {
  for (
    const settings of [TINY, { ...TINY, barPosition: false, lookbackBars: 1 }, {
      ...TINY,
      lookbackBars: 0,
    }]
  ) {
    const model = buildSequenceModel(settings, { vocabSize: 6, stepsPerBar: 4, lstm: TFJS_LSTM });
    try {
      const files = await saveCheckpoint(model);
      const read = stepCheckpoint(files["model.json"], files["weights.bin"], 4);
      assert.ok(!("reason" in read), JSON.stringify(read));
      assert.deepEqual(read.layout, {
        ...sequenceLayout(model, 4),
        recurrentActivation: "sigmoid",
      });
      // Stepped from the bytes, as the page steps them: the probabilities generate's stepper gives.
      const fromBytes = lstmStep.makeStepper(read.weights, read.layout);
      const fromModel = new SequenceStepper(model, 4);
      const seq = Int32Array.from([0, 3, 1, 5, 2, 2, 4, 0, 1, 3, 0, 2]);
      const [a, b] = [lstmStep.initialState(fromBytes), fromModel.initialState()];
      for (let t = 0; t < seq.length; t++) {
        assert.deepEqual(
          lstmStep.step(fromBytes, a, seq, t, true),
          fromModel.step(b, seq, t, true),
          `step ${t}`,
        );
      }
    } finally {
      model.dispose();
    }
  }
});

Deno.test("stepCheckpoint() says why a checkpoint cannot be stepped", async () => {
  const model = buildSequenceModel(TINY, { vocabSize: 6, stepsPerBar: 4, lstm: TFJS_LSTM });
  try {
    const files = await saveCheckpoint(model);
    assert.deepEqual(stepCheckpoint(files["model.json"], files["weights.bin"], 16), {
      reason: "No model to play with: the checkpoint is not one of the sequence network (its " +
        "bar positions count 4, but a bar has 16 steps).",
    });
    assert.match(
      (stepCheckpoint(files["model.json"], files["weights.bin"].subarray(0, 7 * 4 * 4 + 8), 4) as {
        reason: string;
      }).reason,
      /weights\.bin ends before weight position_embedding\/embeddings/,
    );
    // The tutorial's checkpoint: no embedding, no logits layer.
    const tutorial = new TextEncoder().encode(JSON.stringify({
      modelTopology: {},
      weightsManifest: [{ weights: [{ name: "lstm/kernel", shape: [1, 4], dtype: "float32" }] }],
    }));
    assert.match(
      (stepCheckpoint(tutorial, new Uint8Array(16), 4) as { reason: string }).reason,
      /it has no layer token_embedding, logits/,
    );
  } finally {
    model.dispose();
  }
});

/** A transformer as small as it goes: windows of 5 steps, so the test's file slides them. */
const TINY_TRANSFORMER = {
  ...DEFAULT_SEQUENCE_MODEL,
  embedding: 4,
  positionEmbedding: 3,
  blocks: 2,
  heads: 2,
  width: 8,
  window: 5,
  seed: 5,
};

Deno.test("transformerCheckpoint() reads the shape and weights a checkpoint's bytes hold: the same steps and pieces as the model's", async () => {
  for (
    const settings of [
      TINY_TRANSFORMER,
      { ...TINY_TRANSFORMER, barPosition: false, lookbackBars: 1, blocks: 1, heads: 1 },
      { ...TINY_TRANSFORMER, lookbackBars: 0, blocks: 3, heads: 4, window: 3 },
    ]
  ) {
    const model = buildTransformerModel(settings, { vocabSize: 6, stepsPerBar: 4 });
    try {
      const files = await saveCheckpoint(model);
      const read = transformerCheckpoint(files["model.json"], files["weights.bin"], 4);
      assert.ok(!("reason" in read), JSON.stringify(read));
      const { blocks, heads, width, window } = settings;
      assert.deepEqual(read.layout, {
        ...sequenceLayout(model, 4),
        blocks,
        heads,
        width,
        window,
        epsilon: 1e-5,
      });
      // Stepped from the bytes, as the page steps them: the probabilities generate's stepper gives.
      const fromBytes = transformerStep.makeStepper(read.weights, read.layout);
      const fromModel = new TransformerStepper(model, sequenceLayout(model, 4));
      const seq = Int32Array.from([0, 3, 1, 5, 2, 2, 4, 0, 1, 3, 0, 2]);
      const [a, b] = [transformerStep.initialState(fromBytes), fromModel.initialState()];
      for (let t = 0; t < seq.length; t++) {
        assert.deepEqual(
          transformerStep.step(fromBytes, a, seq, t, true),
          fromModel.step(b, seq, t, true),
          `step ${t}`,
        );
      }
      // And the pieces the page draws: continuation.js on the bytes' stepper, one seeded stream.
      const primers = [seq.slice(0, 7), new Int32Array(0)];
      const draw = () => {
        const rng = seededRandom(3);
        return (p: Float64Array) => chooseNext(p, { temperature: 1, topK: 0, topP: 1 }, rng);
      };
      assert.deepEqual(
        continueSequences(transformerStep, fromBytes, primers, 9, draw()),
        fromModel.continueSequences(primers, 9, draw()),
      );
    } finally {
      model.dispose();
    }
  }
});

Deno.test("transformerCheckpoint() says why a checkpoint cannot be stepped", async () => {
  const model = buildTransformerModel(TINY_TRANSFORMER, { vocabSize: 6, stepsPerBar: 4 });
  const lstm = buildSequenceModel(TINY, { vocabSize: 6, stepsPerBar: 4, lstm: TFJS_LSTM });
  try {
    const files = await saveCheckpoint(model);
    const reason = (json: Uint8Array, bin: Uint8Array, stepsPerBar = 4) =>
      (transformerCheckpoint(json, bin, stepsPerBar) as { reason: string }).reason;
    const prefix = "No model to play with: the checkpoint is not one of the transformer";
    assert.equal(
      reason(files["model.json"], files["weights.bin"], 16),
      `${prefix} (its bar positions count 4, but a bar has 16 steps).`,
    );
    assert.match(
      // The embeddings' 7 × 4 and 4 × 3 floats, and a few bytes more.
      reason(files["model.json"], files["weights.bin"].subarray(0, 4 * (28 + 12) + 8)),
      /weights\.bin ends before weight input_projection\/kernel/,
    );
    // A weight the manifest lacks: transformer_step.js's own check names its layer.
    const json = JSON.parse(new TextDecoder().decode(files["model.json"]));
    const weights = json.weightsManifest[0].weights;
    json.weightsManifest[0].weights = weights.filter(
      (w: { name: string }) => !w.name.startsWith("block2_mlp_output/"),
    );
    assert.match(
      reason(new TextEncoder().encode(JSON.stringify(json)), files["weights.bin"]),
      /Cannot step the transformer: layer block2_mlp_output has weights of sizes \[\], not \[256,8\]/,
    );
    // The blocks' heads must agree: the step module takes one count.
    json.weightsManifest[0].weights = weights;
    const attention = json.modelTopology.config.layers.find(
      (l: { name: string }) => l.name === "block2_attention",
    );
    attention.config.heads = 4;
    assert.match(
      reason(new TextEncoder().encode(JSON.stringify(json)), files["weights.bin"]),
      /do not share one count of heads and one window/,
    );
    // The sequence network's checkpoint is no transformer, and the other way round.
    const lstmFiles = await saveCheckpoint(lstm);
    assert.equal(
      reason(lstmFiles["model.json"], lstmFiles["weights.bin"]),
      `${prefix} (it has no attention layer).`,
    );
    assert.match(
      (stepCheckpoint(files["model.json"], files["weights.bin"], 4) as { reason: string }).reason,
      /not one of the sequence network \(it has no layer lstm\)/,
    );
  } finally {
    model.dispose();
    lstm.dispose();
  }
});

Deno.test("primerIds() numbers each primer's tokens with the vocabulary, or names the token it lacks", () => {
  const vocab = ["-", "kick", "snare", "<unk>"];
  assert.deepEqual(
    primerIds([
      { file: "a.mid", tokens: ["kick", "-", "<unk>"], bpm: 100 },
      { file: "b.mid", tokens: ["snare"] },
    ], vocab),
    [[1, 0, 3], [2]],
  );
  assert.deepEqual(primerIds([{ file: "c.mid", tokens: ["-", "ride"] }], vocab), {
    reason: 'No model to play with: the primer from c.mid holds "ride", which vocab.json lacks.',
  });
});
