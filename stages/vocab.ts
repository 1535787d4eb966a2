/**
 * vocab: the sorted unique tokens (Python's `sorted(set(notes))`); a token's class id is its
 * index, so the list is both maps, token → integer and integer → token.
 *
 * With `vocab.minCount` ≥ 2, tokens seen fewer times in the training tokens are left out and one
 * unknown class `<unk>` is appended as the last token: every token the vocabulary lacks (a rare
 * training token, or one only held-out files hold) maps to it (formats/tokens.ts, tokenEncoder).
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { tokenList, UNKNOWN_TOKEN, type Vocab, vocabulary } from "../formats/tokens.ts";

/** By code point, as Python sorts str. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Sorted unique tokens, by code point as Python sorts str; with `minCount` ≥ 2 only those seen at
 * least `minCount` times, then {@link UNKNOWN_TOKEN}.
 */
export function buildVocab(notes: readonly string[], minCount = 1): Vocab {
  if (minCount <= 1) return { tokens: [...new Set(notes)].sort(byCodePoint) };
  const counts = new Map<string, number>();
  for (const t of notes) counts.set(t, (counts.get(t) ?? 0) + 1);
  const kept = [...counts].filter(([t, n]) => n >= minCount && t !== UNKNOWN_TOKEN);
  return { tokens: [...kept.map(([t]) => t).sort(byCodePoint), UNKNOWN_TOKEN] };
}

export const vocab = defineStage({
  name: "vocab",
  module: import.meta.url,
  description: "maps tokens to integers (sorted unique tokens)",
  inputs: { notes: input("parse", "notes.json", tokenList) },
  outputs: { "vocab.json": vocabulary },
  reads: ["vocab"],
  async run({ notes }, config, ctx) {
    const { minCount } = config.vocab;
    const built = buildVocab(notes, minCount);
    ctx.metric("vocabSize", built.tokens.length);
    if (minCount > 1) {
      const known = new Set(built.tokens);
      const rare = new Set(notes.filter((t) => !known.has(t)));
      const steps = notes.reduce((n, t) => n + (known.has(t) ? 0 : 1), 0);
      ctx.metric("rareTokens", rare.size);
      ctx.metric("rareSteps", steps);
      ctx.info(
        `${built.tokens.length - 1} tokens seen at least ${minCount} times and <unk>; ` +
          `${rare.size} rarer tokens (${steps} of ${notes.length} steps) map to <unk>`,
      );
    }
    return { "vocab.json": built };
  },
});
