/**
 * The pipeline's DAG: the tutorial's eight stages, the held-out data that scores training, the
 * two stages that measure the music and the audio to listen to, the humanizer that plays drum
 * pieces as a drummer would, and what a run exports.
 *
 *   scan      → sample200, heldout, humanizer
 *   sample200 → parse, heldout
 *   parse     → vocab, window, generate, render, datastats
 *   vocab     → window, heldout, train, generate
 *   window    → train
 *   heldout   → train, generate, stats
 *   train     → generate, losscurve
 *   generate  → render, stats
 *   render    → audio (and perform's first piece)
 *   datastats → stats
 *   humanizer → perform (generate's pieces played with velocities and offsets)
 *
 * pipeline.ts loads it only for the commands that run stages: importing it loads TensorFlow.js
 * and every stage, half a second and more that `runs`, `show`, `compare` and `gc` do without.
 *
 * @module
 */
import type { Pipeline } from "../core/dag.ts";
import { scan } from "./scan.ts";
import { sample200 } from "./sample200.ts";
import { parse } from "./parse.ts";
import { vocab } from "./vocab.ts";
import { window } from "./window.ts";
import { train } from "./train.ts";
import { losscurve } from "./losscurve.ts";
import { generate } from "./generate.ts";
import { render } from "./render.ts";
import { heldout } from "./heldout.ts";
import { datastats } from "./datastats.ts";
import { stats } from "./stats.ts";
import { audioStage } from "./audio.ts";
import { humanizer } from "./humanizer.ts";
import { perform } from "./perform.ts";
import { systemSynthesizer } from "../audio/synth.ts";

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
    humanizer,
    perform,
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
    // With a humanizer (empty, so not exported, without one).
    "perform/performed.mid",
    "perform/performed.svg",
    "perform/loops.tar",
    "audio/performed.flac",
  ],
  root: new URL("..", import.meta.url).pathname.replace(/\/$/, ""),
};
