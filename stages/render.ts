/**
 * The render stage: the generated tokens as a Standard MIDI File, byte for byte what the
 * tutorial's `create_midi` writes under music21 6.7.1 (music/render_midi.ts), plus a piano roll
 * of the same notes to look at without a MIDI player. With `render.instrument: drums` the notes
 * go on General MIDI's drum channel, each chord token on the drums that most often made it in the
 * training files (music/drums/drums.ts), and the piano roll names each lane's drum. Drum-grid tokens
 * (`parse.encoding: drum-grid`) are written as drums one grid step apart at `render.bpm`, or,
 * with `render.tempo: primer`, each piece at the tempo of the file its primer came from, so a
 * groove continues at the speed it was played.
 *
 * @module
 */
import { defineStage, input } from "../core/stage.ts";
import { rawBytes, text } from "../formats/codec.ts";
import {
  piecePrimers,
  tokenEncoding,
  tokenList,
  tokenLists,
  voicingTable,
} from "../formats/tokens.ts";
import { renderTokens } from "../music/encoding.ts";
import { type Bundle, bundle, pieceName } from "../formats/bundle.ts";
import { pianoRollSvg } from "../plots/piano_roll.ts";
import { tempoOf, usableTempo } from "./support/tempo.ts";

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
    primers: input("generate", "primers.json", piecePrimers),
  },
  outputs: { "generated.mid": rawBytes, "piano_roll.svg": text, "pieces.tar": bundle },
  reads: ["render"],
  async run({ tokens, pieces, voicings, encoding, primers }, config, ctx) {
    const renderPiece = (piece: string[], title: string, index: number) => {
      const bpm = tempoOf(config.render, primers[index]);
      const { bytes, warnings, notes, ticksPerQuarter, drums } = renderTokens(
        piece,
        encoding,
        { ...config.render, bpm },
        voicings,
      );
      const svg = pianoRollSvg(
        notes.map((n) => ({
          pitch: n.pitch,
          start: n.tick / ticksPerQuarter,
          duration: n.durationTicks / ticksPerQuarter,
        })),
        {
          title: `${title}: ${piece.length} tokens${drums ? ", as drums" : ""}${
            bpm === config.render.bpm ? "" : `, ${bpm} bpm as its primer`
          }`,
          ...(drums ? { labels: "drums" as const } : {}),
        },
      );
      return { bytes, warnings, notes, svg };
    };
    if (config.render.tempo === "primer") {
      const odd = primers.filter((p) => p.bpm !== undefined && !usableTempo(p.bpm));
      if (odd.length > 0) {
        ctx.warn(
          `${odd[0]!.file} has tempo ${odd[0]!.bpm} in the split table, outside 4–1000 bpm: ` +
            `${odd.length === 1 ? "its piece plays" : `${odd.length} pieces play`} at render.bpm ` +
            `${config.render.bpm}`,
        );
      }
    }
    const first = renderPiece(tokens, "Generated", 0);
    for (const warning of first.warnings) ctx.warn(warning);
    ctx.metric("notes", first.notes.length);
    ctx.info(`${tokens.length} tokens, ${first.notes.length} notes, ${first.bytes.length} bytes`);
    const files: Bundle = new Map();
    for (const [i, piece] of pieces.entries()) {
      const { bytes, svg } = i === 0 && piece.join("\n") === tokens.join("\n")
        ? first
        : renderPiece(piece, `Piece ${i + 1}`, i);
      files.set(pieceName(i + 1, "mid"), bytes);
      files.set(pieceName(i + 1, "svg"), new TextEncoder().encode(svg));
    }
    if (pieces.length > 1) ctx.info(`${pieces.length} pieces in pieces.tar`);
    return { "generated.mid": first.bytes, "piano_roll.svg": first.svg, "pieces.tar": files };
  },
});
