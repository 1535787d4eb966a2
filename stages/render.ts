/**
 * The render stage: the generated tokens as a Standard MIDI File, byte for byte what the
 * tutorial's `create_midi` writes under music21 6.7.1 (music/render_midi.ts), plus a piano roll
 * of the same notes to look at without a MIDI player.
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { rawBytes, text } from "../formats/codec.ts";
import { tokenList } from "../formats/tokens.ts";
import { renderMidi, TICKS_PER_QUARTER } from "../music/render_midi.ts";
import { pianoRollSvg } from "../plots/piano_roll.ts";

/** Writes `generated.mid` and `piano_roll.svg` from the generate stage's `tokens.json`. */
export const render = defineStage({
  name: "render",
  module: import.meta.url,
  description:
    "writes the generated tokens as a MIDI file (music21 6.7.1 create_midi) and a piano roll",
  inputs: { tokens: input("generate", "tokens.json", tokenList) },
  outputs: { "generated.mid": rawBytes, "piano_roll.svg": text },
  reads: ["render"],
  async run({ tokens }, config, ctx) {
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
    return { "generated.mid": bytes, "piano_roll.svg": svg };
  },
});
