/**
 * The render stage: the generated tokens as a Standard MIDI File, byte for byte what the
 * tutorial's `create_midi` writes under music21 6.7.1 (music/render_midi.ts), plus a piano roll
 * of the same notes to look at without a MIDI player. With `render.instrument: drums` the notes
 * go on General MIDI's drum channel, each chord token on the drums that most often made it in the
 * training files (music/drums.ts), and the piano roll names each lane's drum.
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { rawBytes, text } from "../formats/codec.ts";
import { tokenList, voicingTable } from "../formats/tokens.ts";
import { drumPitches } from "../music/drums.ts";
import { renderMidi, TICKS_PER_QUARTER } from "../music/render_midi.ts";
import { pianoRollSvg } from "../plots/piano_roll.ts";

/** Writes `generated.mid` and `piano_roll.svg` from the generate stage's `tokens.json`. */
export const render = defineStage({
  name: "render",
  module: import.meta.url,
  description:
    "writes the generated tokens as a MIDI file (music21 6.7.1 create_midi, or drums) and a piano roll",
  inputs: {
    tokens: input("generate", "tokens.json", tokenList),
    voicings: input("parse", "voicings.json", voicingTable),
  },
  outputs: { "generated.mid": rawBytes, "piano_roll.svg": text },
  reads: ["render"],
  async run({ tokens, voicings }, config, ctx) {
    const drums = config.render.instrument === "drums";
    const { bytes, warnings, notes } = renderMidi(tokens, {
      step: config.render.step,
      ...(drums ? { channel: 9 as const, pitches: drumPitches(voicings) } : {}),
    });
    for (const warning of warnings) ctx.warn(warning);
    ctx.metric("notes", notes.length);
    ctx.info(`${tokens.length} tokens, ${notes.length} notes, ${bytes.length} bytes`);
    const svg = pianoRollSvg(
      notes.map((n) => ({
        pitch: n.pitch,
        start: n.tick / TICKS_PER_QUARTER,
        duration: n.durationTicks / TICKS_PER_QUARTER,
      })),
      {
        title: `Generated: ${tokens.length} tokens${drums ? ", as drums" : ""}`,
        ...(drums ? { labels: "drums" as const } : {}),
      },
    );
    return { "generated.mid": bytes, "piano_roll.svg": svg };
  },
});
