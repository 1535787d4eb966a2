/**
 * sample200: a seeded random sample of `sample.count` files (the tutorial's 200), drawn as
 * stages/support/sample.ts draws: stable when files outside the sample change. With the dataset's own
 * split (`dataset.split`), it draws only among the train files, all of them when `sample.count` is
 * at least their number.
 *
 * @module
 */
import { defineStage, input, StageInputError } from "../core/stage.ts";
import { fileList } from "../formats/files.ts";
import { filesOfSplit, hasSplit, sampleFiles } from "./support/sample.ts";

export const sample200 = defineStage({
  name: "sample200",
  module: import.meta.url,
  description: "draws a seeded random sample of sample.count files",
  inputs: { files: input("scan", "files.json", fileList) },
  outputs: { "files.json": fileList },
  reads: ["sample"],
  async run({ files }, config, ctx) {
    const { count, seed } = config.sample;
    if (hasSplit(files)) {
      const train = filesOfSplit(files, "train");
      if (train.length === 0) {
        throw new StageInputError(
          `dataset.split puts none of the ${files.length} MIDI files in the train split; mark some train in its split column`,
        );
      }
      const drawn = sampleFiles(train, count, seed);
      ctx.info(
        `${drawn.length} of the ${train.length} train files of dataset.split` +
          (count >= train.length ? " (all of them)" : ` drawn by sample.seed ${seed}`),
      );
      ctx.metric("trainFiles", train.length);
      return { "files.json": drawn };
    }
    if (count > files.length) {
      throw new StageInputError(
        `sample.count is ${count} but the dataset has only ${files.length} MIDI files; lower sample.count to at most ${files.length}`,
      );
    }
    return { "files.json": sampleFiles(files, count, seed) };
  },
});
