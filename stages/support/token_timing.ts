/**
 * Tokens per bar for the stages that cut tokens into bars (datastats, stats), with an encoding
 * whose tokens are not evenly spaced in time (drum-expressive) refused in the user's words.
 *
 * @module
 */
import { StageInputError } from "../../core/stage.ts";
import type { TokenEncoding } from "../../formats/tokens.ts";
import { quartersPerToken, UnevenTokensError } from "../../music/encoding.ts";
import { tokensPerBar } from "../../metrics/mod.ts";

/** Tokens in a bar of 4/4 for `encoding` at `render.step`. */
export function barTokens(encoding: TokenEncoding, render: { step: number }): number {
  try {
    return tokensPerBar(quartersPerToken(encoding, render));
  } catch (e) {
    if (e instanceof UnevenTokensError) throw new StageInputError(e.message, { cause: e });
    throw e;
  }
}
