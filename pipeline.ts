/**
 * The deep-LSTM MIDI pipeline: eight stages in one DAG, run by the caching runner in core/.
 *
 *   scan      → sample200
 *   sample200 → parse
 *   parse     → vocab, window, generate
 *   vocab     → window, train, generate
 *   window    → train
 *   train     → generate
 *   generate  → render
 *
 * Usage: `deno task pipeline --config deep-lstm.yaml` (see `--help`).
 *
 * @module
 */
import { main, type Pipeline } from "./cli/main.ts";
import { scan } from "./stages/scan.ts";
import { sample200 } from "./stages/sample200.ts";
import { parse } from "./stages/parse.ts";
import { vocab } from "./stages/vocab.ts";
import { window } from "./stages/window.ts";
import { train } from "./stages/train.ts";
import { generate } from "./stages/generate.ts";
import { render } from "./stages/render.ts";

/** The DAG: each stage names its inputs; the runner orders them. */
export const PIPELINE: Pipeline = {
  stages: [scan, sample200, parse, vocab, window, train, generate, render],
  exports: [
    "render/generated.mid",
    "render/piano_roll.svg",
    "train/loss.svg",
    "train/history.json",
    "train/model.json",
    "train/weights.bin",
    "generate/tokens.json",
    "parse/notes.json",
  ],
  root: new URL(".", import.meta.url).pathname.replace(/\/$/, ""),
};

if (import.meta.main) Deno.exit(await main(Deno.args, PIPELINE));
