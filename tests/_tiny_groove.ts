/**
 * A tiny Groove with its split: seven 4/4 files of a few seconds (the test ones over two bars)
 * and their rows of info.csv, for end-to-end runs of the drum recipes in seconds.
 *
 * @module
 */
import assert from "node:assert/strict";
import { GROOVE } from "./_helpers.ts";

/** The files, by split. */
export const TINY_GROOVE = {
  train: [
    "drummer7/session2/12_rock_95_beat_4-4.mid",
    "drummer3/session2/23_rock_92_beat_4-4.mid",
    "drummer3/session2/27_jazz_92_beat_4-4.mid",
    "drummer7/session3/84_neworleans-funk_93_fill_4-4.mid",
  ],
  validation: ["drummer7/session2/10_rock_95_fill_4-4.mid"],
  test: ["drummer3/session2/11_rock_100_beat_4-4.mid", "drummer7/session2/2_rock_120_beat_4-4.mid"],
};

/** Writes a dataset folder `dir` holding only {@link TINY_GROOVE}, with their rows of info.csv. */
export async function tinyGroove(dir: string): Promise<void> {
  const table = (await Deno.readTextFile(`${GROOVE}/info.csv`)).split("\n");
  const rows = [table[0]!];
  for (const path of Object.values(TINY_GROOVE).flat()) {
    await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.copyFile(`${GROOVE}/${path}`, `${dir}/${path}`);
    const row = table.find((line) => line.includes(`,${path},`));
    assert.ok(row, `info.csv names ${path}`);
    rows.push(row);
  }
  await Deno.writeTextFile(`${dir}/info.csv`, rows.join("\n") + "\n");
}
