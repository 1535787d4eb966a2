/**
 * `deno task pipeline humanize HASH PATTERN.mid [--style NAME] [--out DIR]`: a drum pattern of
 * the user's own, played by run HASH's humanizer (issue 23): the same hits on the same steps,
 * with the velocities and offsets from the grid the humanizer gives them (each distribution's
 * median, so the same file always comes back the same). Written as `PATTERN-humanized.mid` in
 * DIR (default: the pattern's own folder): one track on channel 10 at the pattern's tempo.
 *
 * The pattern is read as the humanizer reads Groove: any channel, each note on a pitch of the
 * nine drum classes (other pitches are left out and named), each hit on its nearest step, one
 * hit per drum per step; its own velocities and timing are what the humanizer replaces.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { CliArgs } from "./args.ts";
import type { Store } from "../core/storage.ts";
import { UsageError } from "../core/errors.ts";
import { describeFsError, isFsError } from "../core/fs_errors.ts";
import { humanizerModel } from "../formats/humanizer.ts";
import { FormatError } from "../formats/codec.ts";
import { MidiReadError } from "../music/tokenize.ts";
import { expressiveDrumsMidi } from "../music/drums/expressive_drums.ts";
import { performanceTokens, readPerformance } from "../music/drums/performance.ts";
import { playHits } from "../model/humanizer/humanize_step.js";
import { findRun } from "./runs.ts";

/** Plays the pattern `args.rest[1]` with run `args.rest[0]`'s humanizer. */
export async function humanizeCommand(args: CliArgs, store: Store): Promise<number> {
  const [id, pattern] = args.rest;
  if (pattern === undefined) {
    throw new UsageError(
      "humanize needs a run and a MIDI file: deno task pipeline humanize HASH pattern.mid",
    );
  }
  const record = await findRun(store, id, "humanize");
  const digest = record.stages.humanizer?.outputs["humanizer.json"];
  const noModel = new UsageError(
    `run ${record.configHash} has no humanizer: run a config with humanize.epochs above 0 ` +
      "(configs/groove-expressive.yaml) and give its hash",
  );
  if (digest === undefined) throw noModel;
  let model;
  try {
    model = humanizerModel.decode(await store.get(digest as Parameters<Store["get"]>[0]));
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    throw new UsageError(`run ${record.configHash}'s humanizer.json cannot be read: ${e.message}`);
  }
  if (model === null) throw noModel;
  const style = args.style === undefined ? -1 : model.layout.styles.indexOf(args.style);
  if (args.style !== undefined && style < 0) {
    throw new UsageError(
      `--style ${args.style}: this humanizer knows ${
        model.layout.styles.length === 0
          ? "no styles (it was trained with humanize.style: false)"
          : model.layout.styles.join(", ")
      }`,
    );
  }
  const bytes = await readInput(pattern);
  let read;
  try {
    read = readPerformance(bytes, model.layout.stepsPerQuarter);
  } catch (e) {
    if (!(e instanceof MidiReadError || e instanceof RangeError)) throw e;
    throw new UsageError(`${pattern} is not a MIDI file this can read: ${e.message}`);
  }
  if (read.unmapped.length > 0) {
    const counts = read.unmapped.map((u) => `pitch ${u.pitch}: ${u.count}`).join(", ");
    console.error(
      `warning: ${pattern}: notes on pitches outside the nine drum classes are left out (${counts})`,
    );
  }
  if (read.hits.length === 0) {
    throw new UsageError(`${pattern} has no drum hits to play (no note on the drum pitches)`);
  }
  const bpm = read.bpm !== undefined && read.bpm >= 4 && read.bpm <= 1000 ? read.bpm : 120;
  const played = playHits(model, read.steps, read.hits, style, bpm, { mode: "median" });
  const tokens = performanceTokens(
    { steps: read.steps, hits: played },
    model.layout.stepsPerQuarter,
  );
  const name = `${basename(pattern).replace(/\.midi?$/i, "")}-humanized`;
  const midi = expressiveDrumsMidi(tokens, {
    bpm,
    stepsPerQuarter: model.layout.stepsPerQuarter,
    name,
  });
  const out = join(args.out ?? dirname(pattern), `${name}.mid`);
  try {
    if (args.out !== undefined) await Deno.mkdir(args.out, { recursive: true });
    await Deno.writeFile(out, midi.bytes);
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UsageError(`cannot write ${out} (${describeFsError(e)}); give --out a folder`);
  }
  console.log(
    `${out}: ${played.length} hits over ${Math.ceil(read.steps / model.layout.stepsPerBar)} bars ` +
      `at ${Math.round(bpm)} bpm${args.style ? `, in the style ${args.style}` : ""}, ` +
      `played by run ${record.configHash}'s humanizer`,
  );
  return 0;
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UsageError(`cannot read ${path} (${describeFsError(e)})`);
  }
}
