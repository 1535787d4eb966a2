/**
 * The deep-LSTM MIDI pipeline: the tutorial's eight stages, the held-out data that scores
 * training, the two stages that measure the music and the audio to listen to, in one DAG run by
 * the caching runner in core/.
 *
 *   scan      → sample200, heldout
 *   sample200 → parse, heldout
 *   parse     → vocab, window, generate, render, datastats
 *   vocab     → window, heldout, train, generate
 *   window    → train
 *   heldout   → train
 *   train     → generate, losscurve
 *   generate  → render, stats
 *   render    → audio
 *   datastats → stats
 *
 * Usage: `deno task pipeline --config deep-lstm.yaml` (see `--help`).
 *
 * @module
 */
import { main } from "./cli/main.ts";
import type { Pipeline } from "./core/dag.ts";
import { scan } from "./stages/scan.ts";
import { sample200 } from "./stages/sample200.ts";
import { parse } from "./stages/parse.ts";
import { vocab } from "./stages/vocab.ts";
import { window } from "./stages/window.ts";
import { train } from "./stages/train.ts";
import { losscurve } from "./stages/losscurve.ts";
import { generate } from "./stages/generate.ts";
import { render } from "./stages/render.ts";
import { heldout } from "./stages/heldout.ts";
import { datastats } from "./stages/datastats.ts";
import { stats } from "./stages/stats.ts";
import { audioStage } from "./stages/audio.ts";
import { systemSynthesizer } from "./audio/synth.ts";

/** The DAG: each stage names its inputs; the runner orders them. */
export const PIPELINE: Pipeline = {
  stages: [
    scan,
    sample200,
    parse,
    vocab,
    window,
    train,
    generate,
    render,
    // Keyed by the synthesizer the runner gives stages (FLUIDSYNTH, SOUNDFONT; audio/synth.ts).
    audioStage(systemSynthesizer()),
    heldout,
    datastats,
    stats,
    losscurve,
  ],
  exports: [
    "render/generated.mid",
    "render/piano_roll.svg",
    "audio/generated.flac",
    "losscurve/loss.svg",
    "train/history.json",
    "train/validation.json",
    "train/model.json",
    "train/weights.bin",
    "generate/tokens.json",
    "parse/notes.json",
    "stats/stats.json",
  ],
  root: new URL(".", import.meta.url).pathname.replace(/\/$/, ""),
};

if (import.meta.main) Deno.exit(await main(Deno.args, PIPELINE));
