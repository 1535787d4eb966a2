/**
 * The render stage: the generated tokens as a Standard MIDI File, byte for byte what the
 * tutorial's `create_midi` writes under music21 6.7.1 (music/render_midi.ts), plus a piano roll
 * of the same notes to look at without a MIDI player.
 *
 * @module
 */
import { defineStage, StageInputError } from "../core/stage.ts";
import { renderMidi, TICKS_PER_QUARTER } from "../music/render_midi.ts";
import { pianoRollSvg } from "../plots/piano_roll.ts";

/** Writes `generated.mid` and `piano_roll.svg` from the generate stage's `tokens.json`. */
export const render = defineStage({
  name: "render",
  module: import.meta.url,
  description:
    "writes the generated tokens as a MIDI file (music21 6.7.1 create_midi) and a piano roll",
  inputs: ["generate"],
  reads: ["render"],
  // Pure and synchronous work, but async so that bad input rejects rather than throws.
  // deno-lint-ignore require-await
  async run(inputs, config, ctx) {
    const tokens = readTokens(inputs.generate?.["tokens.json"]);
    const { bytes, warnings, notes } = renderMidi(tokens, { step: config.render.step });
    for (const warning of warnings) ctx.warn(warning);
    ctx.metric("notes", notes.length);
    ctx.info(`${tokens.length} tokens, ${notes.length} notes, ${bytes.length} bytes`);
    const svg = pianoRollSvg(
      notes.map((n) => ({
        pitch: n.pitch,
        start: n.tick / TICKS_PER_QUARTER,
        duration: n.durationTicks / TICKS_PER_QUARTER,
      })),
      { title: `Generated: ${tokens.length} tokens` },
    );
    return { "generated.mid": bytes, "piano_roll.svg": new TextEncoder().encode(svg) };
  },
});

/** Decodes `tokens.json`: a UTF-8 JSON array of strings. */
function readTokens(bytes: Uint8Array | undefined): string[] {
  if (bytes === undefined) {
    throw new StageInputError("Cannot render: the generate stage gave no tokens.json");
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new StageInputError(
      `Cannot render: tokens.json is not UTF-8 JSON (${
        error instanceof Error ? error.message : error
      })`,
    );
  }
  if (!Array.isArray(value)) {
    throw new StageInputError("Cannot render: tokens.json must be a JSON array of token strings");
  }
  const bad = value.findIndex((t) => typeof t !== "string");
  if (bad !== -1) {
    throw new StageInputError(
      `Cannot render: tokens.json item ${bad} is not a string (found ${
        JSON.stringify(value[bad])
      })`,
    );
  }
  return value as string[];
}
