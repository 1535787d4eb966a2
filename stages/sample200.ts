/**
 * sample200: a seeded random sample of `sample.count` files (the tutorial's 200), drawn as
 * stages/_sample.ts draws: stable when files outside the sample change.
 *
 * @module
 */
import { defineStage, input, StageInputError } from "../core/stage.ts";
import { fileList } from "../formats/files.ts";
import { sampleFiles } from "./_sample.ts";

export const sample200 = defineStage({
  name: "sample200",
  module: import.meta.url,
  description: "draws a seeded random sample of sample.count files",
  inputs: { files: input("scan", "files.json", fileList) },
  outputs: { "files.json": fileList },
  reads: ["sample"],
  async run({ files }, config) {
    const { count, seed } = config.sample;
    if (count > files.length) {
      throw new StageInputError(
        `sample.count is ${count} but the dataset has only ${files.length} MIDI files; lower sample.count to at most ${files.length}`,
      );
    }
    return { "files.json": sampleFiles(files, count, seed) };
  },
});
