/**
 * scan: every .mid/.midi file under `dataset.dir`, recursively, with its size and sha256. The
 * digests go downstream, so an edited file changes the inputs of exactly the stages that read it.
 * A file whose stat is unchanged since an earlier scan is not read again (the context's
 * `datasetDigest`, core/runner.ts).
 *
 * @module
 */
import { defineStage, StageInputError } from "../core/stage.ts";
import { type FileEntry, fileList } from "../formats/files.ts";
import { sha256Hex } from "../core/hash.ts";

/** What counts as a MIDI file. */
const MIDI_FILE = /\.midi?$/i;

/**
 * Files hashed at once: the reads overlap in the runtime's thread pool while this thread
 * hashes (a cold scan of 100,000 files went from 46 to 29 µs a read), and a batch is small
 * enough that Ctrl-C, seen between batches, stops the stage at once.
 */
const BATCH = 32;

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
    for (let i = 0; i < midi.length; i += BATCH) {
      ctx.signal.throwIfAborted();
      const batch = midi.slice(i, i + BATCH);
      const digests = await Promise.all(
        batch.map(async (e) =>
          await ctx.datasetDigest?.(e.path) ?? sha256Hex(await ctx.readDataset(e.path))
        ),
      );
      batch.forEach(({ path, size }, j) => files.push({ path, size, sha256: digests[j]! }));
      bar.tick(batch.length);
    }
    bar.done();
    ctx.metric("files", files.length);
    return { "files.json": files };
  },
});
