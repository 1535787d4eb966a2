/**
 * Bad files in the dataset, end to end: a corrupt, an empty and a non-MIDI file are skipped with
 * a warning naming each and listed in the run record (`parse.onError: skip`), or stop the run
 * with one sentence naming the file (`fail`), keeping what came before. A truncated file that
 * music21 still reads (a short final chunk) is parsed as music21 parses it (DECISIONS 1): here it
 * gives no tokens, which is counted and warned about.
 */
import assert from "node:assert/strict";
import { configHash, loadConfig } from "../core/config.ts";
import { runPipeline } from "../core/runner.ts";
import type { Store } from "../core/storage.ts";
import { LocalStore } from "../store/store.ts";
import { PIPELINE } from "../stages/mod.ts";
import { collectingReporter, GROOVE } from "./_helpers.ts";

async function datasetWithBadFiles(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bad-dataset-" });
  const src = `${GROOVE}/drummer1/eval_session`;
  const good = [...Deno.readDirSync(src)].map((e) => e.name).filter((n) => n.endsWith(".mid"))
    .sort().slice(0, 3);
  for (const name of good) await Deno.copyFile(`${src}/${name}`, `${dir}/${name}`);
  const bytes = await Deno.readFile(`${src}/${good[0]}`);
  await Deno.writeFile(`${dir}/truncated.mid`, bytes.slice(0, 30));
  await Deno.writeFile(`${dir}/corrupt.mid`, bytes.map((b, i) => (i > 8 && i < 20 ? 0xff : b)));
  await Deno.writeFile(`${dir}/empty.mid`, new Uint8Array());
  await Deno.writeTextFile(`${dir}/notes.midi`, "these are not MIDI bytes\n");
  return dir;
}

async function runUntilWindow(dataset: string, onError: "skip" | "fail", store: Store) {
  const loaded = await loadConfig("quick.yaml");
  loaded.config.dataset.dir = dataset;
  loaded.config.sample.count = 7;
  loaded.config.parse.onError = onError;
  loaded.hash = configHash(loaded.config);
  const reporter = collectingReporter();
  const record = await runPipeline({ ...PIPELINE, loaded, store, reporter, until: "window" });
  return { record, reporter };
}

const BAD = ["corrupt.mid", "empty.mid", "notes.midi"];

Deno.test("bad files are skipped with a warning naming each, and listed in the run record", async () => {
  const store = new LocalStore(await Deno.makeTempDir());
  const { record, reporter } = await runUntilWindow(await datasetWithBadFiles(), "skip", store);
  const parse = record.metrics.parse!;
  assert.equal(parse.filesParsed, 4);
  assert.equal(parse.filesSkipped, 3);
  assert.deepEqual(parse.emptyFiles, ["truncated.mid"]);
  assert.ok(reporter.collected.warnings.some((w) => w.includes("truncated.mid")));
  assert.deepEqual([...(parse.skippedFiles as string[])].sort(), BAD);
  for (const name of BAD) {
    assert.ok(
      reporter.collected.warnings.some((w) => w.startsWith("parse: skipped") && w.includes(name)),
      name,
    );
  }
  const saved = (await store.listRuns({ all: true }))[0]; // --until runs go to the history
  assert.deepEqual([...(saved!.metrics.parse!.skippedFiles as string[])].sort(), BAD);
  assert.ok((record.metrics.window!.windows as number) > 0);
});

Deno.test("parse.onError: fail stops the run naming the file, and keeps scan and sample200", async () => {
  const store = new LocalStore(await Deno.makeTempDir());
  await assert.rejects(
    runUntilWindow(await datasetWithBadFiles(), "fail", store),
    (e: Error) =>
      /parse: .*(corrupt|empty|notes)\.midi?/.test(e.message) &&
      !e.message.includes("\n"),
  );
  const kept = [...Deno.readDirSync(`${store.root}/keys`)].length;
  assert.ok(kept >= 2, "scan and sample200 are cached for the next run");
  assert.equal([...Deno.readDirSync(`${store.root}/tmp`)].length, 0);
});
