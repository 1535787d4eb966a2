/**
 * generate for a checkpoint of the sequence network (train.network: sequence): every piece starts
 * from the first `generate.primeBars` bars of a test-split file drawn by `generate.seed` (or of
 * the `generate.prime` file), and continues for `generate.bars` bars (or `generate.length`
 * steps), sampled at `generate.temperature`; the pieces are drawn together, in one batch. A
 * piece starts and ends on a bar line, and never holds `<unk>`.
 *
 * Greedy decoding (temperature 0) is allowed, and is what it is: a loop generator (the same bar
 * over and over, once a bar repeats); sampling at temperature 1 gives pieces like the data.
 *
 * @module
 */
import { type StageContext, StageInputError } from "../../core/stage.ts";
import type { Config } from "../../formats/config_schema.ts";
import { splitSequences, type TokenSequences } from "../../formats/sequences.ts";
import {
  encodeTokens,
  type PiecePrimer,
  type TokenEncoding,
  type Vocab,
} from "../../formats/tokens.ts";
import { disposeModel } from "../../model/build_model.ts";
import { loadCheckpoint } from "../../model/checkpoint.ts";
import { resolveLstm } from "../../model/lstm_implementation.ts";
import { mixSeed, randomInt, seededRandom } from "../../model/random.ts";
import { sampleSequences } from "../../model/sequence/network.ts";

/** What a sequence-network piece is made from. */
export interface SequenceGenerateInputs {
  checkpoint: { "model.json": Uint8Array; "weights.bin": Uint8Array };
  vocab: Vocab;
  encoding: TokenEncoding;
  /** The test-split files (heldout's test-sequences.json), where primers come from. */
  test: TokenSequences;
  /** The `generate.prime` file's tokens, when one is given. */
  primeTokens?: readonly string[];
}

/** The pieces (tokens, generated part only), and where each one's primer came from. */
export async function generateSequences(
  inputs: SequenceGenerateInputs,
  settings: Config["generate"],
  ctx: StageContext,
): Promise<{ pieces: string[][]; primers: PiecePrimer[] }> {
  const stepsPerBar = 4 * inputs.encoding.stepsPerQuarter;
  const primeSteps = settings.primeBars * stepsPerBar;
  const steps = settings.bars > 0 ? settings.bars * stepsPerBar : settings.length;
  const { primers, from, tempos } = primersOf(inputs, settings, primeSteps);
  const model = await loadCheckpoint(inputs.checkpoint, { lstm: resolveLstm("auto") });
  try {
    const began = performance.now();
    const out = sampleSequences(model, primers, steps, {
      temperature: settings.temperature,
      seed: settings.seed,
      stepsPerBar,
    });
    const seconds = (performance.now() - began) / 1000;
    ctx.info(
      `${out.length} piece${out.length === 1 ? "" : "s"} of ${steps} steps after ` +
        `${settings.primeBars} bars of a primer, temperature ${settings.temperature}, in ${
          seconds.toFixed(1)
        } s`,
    );
    ctx.metric("tokensPerSecond", Math.round(out.length * steps / Math.max(seconds, 1e-3)));
    ctx.metric("primers", from);
    const tokensOf = (ids: Int32Array) => Array.from(ids, (id) => inputs.vocab.tokens[id]!);
    return {
      pieces: out.map(tokensOf),
      primers: from.map((file, i) => {
        const bpm = tempos[i];
        return { file, tokens: tokensOf(primers[i]!), ...(bpm == null ? {} : { bpm }) };
      }),
    };
  } finally {
    disposeModel(model);
  }
}

/** One primer a piece: the first bars of the prime file, or of seeded test files. */
function primersOf(
  inputs: SequenceGenerateInputs,
  settings: Config["generate"],
  primeSteps: number,
): { primers: Int32Array[]; from: string[]; tempos: (number | null | undefined)[] } {
  if (inputs.primeTokens !== undefined) {
    if (inputs.primeTokens.length < primeSteps) {
      throw new StageInputError(
        `generate.prime ${settings.prime} gives ${inputs.primeTokens.length} steps; ` +
          `generate.primeBars ${settings.primeBars} needs ${primeSteps}`,
      );
    }
    const { ids } = encodeTokens(inputs.primeTokens.slice(0, primeSteps), inputs.vocab);
    return {
      primers: Array.from({ length: settings.count }, () => ids),
      from: Array.from({ length: settings.count }, () => settings.prime),
      tempos: [],
    };
  }
  const files = splitSequences(inputs.test.ids, inputs.test.lengths);
  const long = files.map((_, i) => i).filter((i) => files[i]!.length >= primeSteps);
  if (long.length === 0) {
    throw new StageInputError(
      `no test-split file holds generate.primeBars ${settings.primeBars} bars to prime from: ` +
        "set dataset.split, or give generate.prime",
    );
  }
  if (settings.style !== "") {
    const styleOf = (i: number) => inputs.test.styles?.[i] ?? undefined;
    const styled = long.filter((i) => styleOf(i) === settings.style);
    if (styled.length === 0) {
      const known = [...new Set(long.map(styleOf))].filter((s) => s !== undefined).sort();
      throw new StageInputError(
        `generate.style ${settings.style}: no test-split file of that style holds ` +
          `generate.primeBars ${settings.primeBars} bars (styles there: ${
            known.join(", ") || "none"
          })`,
      );
    }
    long.splice(0, long.length, ...styled);
  }
  // The primers' own stream, apart from the draws of the tokens (model/sequence/network.ts).
  const rng = seededRandom(mixSeed(settings.seed, 1));
  const picked = Array.from({ length: settings.count }, () => long[randomInt(rng, long.length)]!);
  return {
    primers: picked.map((i) => files[i]!.slice(0, primeSteps)),
    from: picked.map((i) => inputs.test.paths[i]!),
    tempos: picked.map((i) => inputs.test.bpm?.[i]),
  };
}
