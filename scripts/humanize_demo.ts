/**
 * README's humanize example: four bars of a Groove test file as a programmed pattern (its drum
 * grid, every hit at velocity 100, on the sixteenths), played by a run's humanizer through the
 * user's own command (`deno task pipeline humanize`), and the drummer's own performance of the
 * same bars; each drawn as a piano roll shaded by velocity and rendered to audio by fluidsynth.
 *
 *   deno run -A scripts/humanize_demo.ts --run HASH --store DIR [--file PATH] [--bars 4]
 *
 * Writes docs/humanize-{pattern,humanized,drummer}.{svg,oga}. Groove MIDI Dataset (CC BY 4.0).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { drumGridMidi, encodeDrumGrid } from "../music/drums/drum_grid.ts";
import {
  performanceSlice,
  performanceTokens,
  readPerformance,
} from "../music/drums/performance.ts";
import { expressiveDrumsMidi } from "../music/drums/expressive_drums.ts";
import { pianoRollSvg } from "../plots/piano_roll.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    run: { type: "string" },
    store: { type: "string", default: "artifacts" },
    file: { type: "string", default: "drummer1/eval_session/1_funk-groove1_138_beat_4-4.mid" },
    style: { type: "string", default: "funk" },
    bpm: { type: "string", default: "138" },
    bars: { type: "string", default: "4" },
  },
}).values;
if (!args.run) throw new Error("give --run HASH (a run of configs/groove-expressive.yaml)");
const bpm = Number(args.bpm), steps = Number(args.bars) * 16;
const tmp = await Deno.makeTempDir({ prefix: "humanize-demo-" });
const source = await Deno.readFile(`data/groove/${args.file}`);

// The pattern a user would program: the grid of the first bars, one velocity.
const grid = encodeDrumGrid(source).tokens.slice(0, steps);
await Deno.writeFile(`${tmp}/pattern.mid`, drumGridMidi(grid, { bpm }).bytes);
const cli = await new Deno.Command(Deno.execPath(), {
  args: [
    "task",
    "-q",
    "pipeline",
    "humanize",
    args.run,
    `${tmp}/pattern.mid`,
    "--style",
    args.style!,
    "--store",
    args.store!,
  ],
}).output();
if (!cli.success) throw new Error(new TextDecoder().decode(cli.stderr));
console.log(new TextDecoder().decode(cli.stdout).trim());

// The drummer's own performance of those bars, as the humanizer reads performances.
const drummer = performanceSlice(readPerformance(source, 4), 0, steps);
await Deno.writeFile(
  `${tmp}/drummer.mid`,
  expressiveDrumsMidi(performanceTokens(drummer, 4), { bpm }).bytes,
);

for (
  const [name, title] of [
    ["pattern", `The pattern: ${args.bars} bars of ${args.file}'s grid at velocity 100`],
    ["pattern-humanized", `Humanized by the run's humanizer (style ${args.style}, ${bpm} bpm)`],
    ["drummer", "The drummer's own performance of the same bars"],
  ]
) {
  const bytes = await Deno.readFile(`${tmp}/${name}.mid`);
  const p = readPerformance(bytes, 4);
  const notes = expressiveDrumsMidi(performanceTokens(p, 4), { bpm }).notes.map((n) => ({
    pitch: n.pitch,
    start: n.tick / 480,
    duration: n.durationTicks / 480,
    velocity: n.velocity,
  }));
  const out = name === "pattern-humanized" ? "humanized" : name;
  await Deno.writeTextFile(
    `docs/humanize-${out}.svg`,
    pianoRollSvg(notes, { title, labels: "drums" }),
  );
  const synth = await new Deno.Command("fluidsynth", {
    args: [
      "-n",
      "-i",
      "-q",
      "-F",
      `docs/humanize-${out}.oga`,
      "-T",
      "oga",
      "-r",
      "44100",
      "/usr/share/sounds/sf2/FluidR3_GM.sf2",
      `${tmp}/${name}.mid`,
    ],
  }).output();
  if (!synth.success) throw new Error(new TextDecoder().decode(synth.stderr));
  console.log(`docs/humanize-${out}.svg, .oga`);
}
await Deno.remove(tmp, { recursive: true });
