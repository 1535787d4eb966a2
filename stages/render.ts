/**
 * The render stage: the generated tokens as a Standard MIDI File, byte for byte what the
 * tutorial's `create_midi` writes under music21 6.7.1 (music/render_midi.ts), plus a piano roll
 * of the same notes to look at without a MIDI player. With `render.instrument: drums` the notes
 * go on General MIDI's drum channel, each chord token on the drums that most often made it in the
 * training files (music/drums.ts), and the piano roll names each lane's drum. Drum-grid tokens
 * (`parse.encoding: drum-grid`) are written as drums one grid step apart at `render.bpm`
 * (stages/_encoding.ts).
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { rawBytes, text } from "../formats/codec.ts";
import { tokenEncoding, tokenList, tokenLists, voicingTable } from "../formats/tokens.ts";
import { renderTokens } from "../music/encoding.ts";
import { type Bundle, bundle, pieceName } from "../formats/bundle.ts";
import { pianoRollSvg } from "../plots/piano_roll.ts";

/**
 * Writes `generated.mid` and `piano_roll.svg` from the generate stage's `tokens.json`, and every
 * piece of `pieces.json` (generate.count) as `piece-NN.mid` and `piece-NN.svg` in `pieces.tar`.
 */
export const render = defineStage({
  name: "render",
  module: import.meta.url,
  description:
    "writes the generated tokens as a MIDI file (music21 6.7.1 create_midi, or drums) and a piano roll",
  inputs: {
    tokens: input("generate", "tokens.json", tokenList),
    pieces: input("generate", "pieces.json", tokenLists),
    voicings: input("parse", "voicings.json", voicingTable),
    encoding: input("parse", "encoding.json", tokenEncoding),
  },
  outputs: { "generated.mid": rawBytes, "piano_roll.svg": text, "pieces.tar": bundle },
  reads: ["render"],
  async run({ tokens, pieces, voicings, encoding }, config, ctx) {
    const renderPiece = (piece: string[], title: string) => {
      const { bytes, warnings, notes, ticksPerQuarter, drums } = renderTokens(
        piece,
        encoding,
        config.render,
        voicings,
      );
      const svg = pianoRollSvg(
        notes.map((n) => ({
          pitch: n.pitch,
          start: n.tick / ticksPerQuarter,
          duration: n.durationTicks / ticksPerQuarter,
        })),
        {
          title: `${title}: ${piece.length} tokens${drums ? ", as drums" : ""}`,
          ...(drums ? { labels: "drums" as const } : {}),
        },
      );
      return { bytes, warnings, notes, svg };
    };
    const first = renderPiece(tokens, "Generated");
    for (const warning of first.warnings) ctx.warn(warning);
    ctx.metric("notes", first.notes.length);
    ctx.info(`${tokens.length} tokens, ${first.notes.length} notes, ${first.bytes.length} bytes`);
    const files: Bundle = new Map();
    for (const [i, piece] of pieces.entries()) {
      const { bytes, svg } = i === 0 && piece.join("\n") === tokens.join("\n")
        ? first
        : renderPiece(piece, `Piece ${i + 1}`);
      files.set(pieceName(i + 1, "mid"), bytes);
      files.set(pieceName(i + 1, "svg"), new TextEncoder().encode(svg));
    }
    if (pieces.length > 1) ctx.info(`${pieces.length} pieces in pieces.tar`);
    return { "generated.mid": first.bytes, "piano_roll.svg": first.svg, "pieces.tar": files };
  },
});
