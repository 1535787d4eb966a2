/**
 * scan: every .mid/.midi file under `dataset.dir`, recursively, with its size and sha256. The
 * digests go downstream, so an edited file changes the inputs of exactly the stages that read it.
 *
 * @module
 */
import { sha256Hex } from "../core/hash.ts";
import { defineStage, StageInputError } from "../core/stage.ts";
import { type FileEntry, fileList } from "../formats/files.ts";

/** What counts as a MIDI file. */
const MIDI_FILE = /\.midi?$/i;

export const scan = defineStage({
  name: "scan",
  module: import.meta.url,
  description: "lists the dataset's MIDI files with their sha256",
  inputs: {},
  outputs: { "files.json": fileList },
  reads: ["dataset"],
  readsDataset: true,
  async run(_inputs, config, ctx) {
    const midi = (await ctx.listDataset()).filter((e) => MIDI_FILE.test(e.path));
    if (midi.length === 0) {
      throw new StageInputError(
        `dataset.dir ${config.dataset.dir} holds no .mid or .midi files; put the Groove MIDI files there (see README, "The dataset")`,
      );
    }
    const bar = ctx.progress("hashing", midi.length);
    const files: FileEntry[] = [];
    for (const { path, size } of midi) {
      files.push({ path, size, sha256: sha256Hex(await ctx.readDataset(path)) });
      bar.tick();
    }
    bar.done();
    ctx.metric("files", files.length);
    return { "files.json": files };
  },
});
