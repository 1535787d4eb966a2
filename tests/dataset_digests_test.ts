/**
 * scan through the runner with the digests it remembers (core/dataset.ts): a rerun after a file
 * was touched reads that file only and writes the same files.json; `--force scan` reads them all.
 */
import assert from "node:assert/strict";
import { configHash, resolveConfig } from "../core/config.ts";
import { runPipeline } from "../core/runner.ts";
import type { Stage } from "../core/stage.ts";
import type { Store } from "../core/storage.ts";
import { LocalStore } from "../store/store.ts";
import { scan } from "../stages/scan.ts";
import { collectingReporter, PROJECT_ROOT } from "./_helpers.ts";

async function runScan(dir: string, store: Store, force?: string[]) {
  const config = resolveConfig({ dataset: { dir } }, "test.yaml");
  const reporter = collectingReporter();
  const record = await runPipeline({
    stages: [scan as Stage],
    loaded: { config, path: "test.yaml", hash: configHash(config) },
    store,
    root: PROJECT_ROOT,
    reporter,
    force,
  });
  return { stage: record.stages.scan!, infos: reporter.collected.infos };
}

Deno.test("scan rereads only the files touched since the last scan, and --force scan rereads all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "digests-test-" });
  for (const name of ["a.mid", "b.mid", "sub/c.mid"]) {
    await Deno.mkdir(`${dir}/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${name}`, `bytes of ${name}`);
  }
  // A file changed in the last two seconds is hashed but not remembered (core/dataset.ts).
  await new Promise((r) => setTimeout(r, 2100));
  const store = new LocalStore(`${dir}.store`);
  const first = await runScan(dir, store);
  assert.equal(first.stage.cached, false);
  assert.deepEqual(first.infos, []);

  const now = new Date();
  await Deno.utime(`${dir}/b.mid`, now, now);
  const touched = await runScan(dir, store);
  assert.equal(touched.stage.cached, false, "the listing changed, so scan runs");
  assert.deepEqual(touched.stage.outputs, first.stage.outputs, "and writes the same bytes");
  assert.equal(touched.infos.length, 1);
  assert.match(
    touched.infos[0]!,
    /^scan: 1 of 3 files read; the others are unchanged since an earlier scan/,
  );

  const forced = await runScan(dir, store, ["scan"]);
  assert.deepEqual(forced.stage.outputs, first.stage.outputs);
  assert.deepEqual(forced.infos, [], "nothing was taken from the cache");
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(`${dir}.store`, { recursive: true });
});
