/**
 * `sweep`: a 2 × 2 grid of quick.yaml on 6 files and one epoch (small layers), two combinations at
 * a time, on one store. The four runs share everything up to train, which runs once.
 */
import assert from "node:assert/strict";
import type { RunRecord } from "../core/run_record.ts";
import { assertOneLine, pipeline } from "./_helpers.ts";

const store = await Deno.makeTempDir({ prefix: "sweep-" });
/** quick.yaml on 6 files, one epoch, layers of 16 units, steps of 128: a run in a few seconds. */
const TINY = [
  ...["--config", "quick.yaml", "--set", "sample.count=6", "--set", "train.epochs=1"],
  ...["--set", "train.lstmUnits=16", "--set", "train.denseUnits=16"],
  ...["--set", "train.batchSize=128"],
];

Deno.test("sweep: runs every combination once, lists them and writes their compare page", async () => {
  const r = await pipeline(
    "sweep",
    ...TINY,
    ...["--grid", "generate.temperature=0.5,1", "--grid", "generate.length=16,24"],
    ...["--jobs", "2", "--store", store],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^sweep: 4 combinations of \S*quick\.yaml \(2 generate\.temperature × 2 generate\.length\), 2 at a time/,
  );
  for (
    const [k, what] of [
      "generate.temperature=0.5 generate.length=16",
      "generate.temperature=0.5 generate.length=24",
      "generate.temperature=1 generate.length=16",
      "generate.temperature=1 generate.length=24",
    ].entries()
  ) {
    assert.match(
      r.stdout,
      new RegExp(`\\n\\[${k + 1}/4\\] ${what} · config hash [0-9a-f]{16}: running\\n`),
    );
    assert.match(r.stdout, new RegExp(`\\n\\[${k + 1}/4\\] done in \\S+ · .* · config hash `));
  }

  // The runs table of the sweep's four runs, with both keys of the grid as columns.
  const lines = r.stdout.split("\n");
  const head = lines.findIndex((l) => l.startsWith("config hash"));
  assert.match(
    lines[head]!,
    /^config hash\s+finished\s+status\s+config\s+generate\.length\s+generate\.temperature\s+epochs\s+loss/,
  );
  const rows = lines.slice(head + 1, lines.indexOf("", head));
  assert.equal(rows.length, 4, r.stdout);
  const hashes = rows.map((row) => row.split(/\s+/)[0]!);
  assert.equal(new Set(hashes).size, 4);
  assert.match(rows[0]!, /\sok\s+\S*quick\.yaml\s+16\s+0\.5000\s+1\s/);
  assert.match(rows[3]!, /\sok\s+\S*quick\.yaml\s+24\s+1\s+1\s/);

  // train ran once: every run has the same train key, and only one run executed it.
  const records: RunRecord[] = await Promise.all(
    hashes.map(async (h) => JSON.parse(await Deno.readTextFile(`${store}/runs/${h}.json`))),
  );
  assert.equal(new Set(records.map((x) => x.stages.train!.key)).size, 1);
  assert.equal(records.filter((x) => !x.stages.train!.cached).length, 1, "train ran once");
  assert.equal(records.filter((x) => !x.stages.scan!.cached).length, 1, "scan ran once");
  assert.equal(records.filter((x) => !x.stages.generate!.cached).length, 4);

  const page = `${store}/compare/${hashes.join("-")}/index.html`;
  assert.match(r.stdout, new RegExp(`\\ncompare page +${page}\\n`));
  const html = await Deno.readTextFile(page);
  for (const h of hashes) assert.ok(html.includes(`data-run="${h}"`), h);
  assert.match(r.stdout, /\nsweep: 4 of 4 combinations ran\n$/);
});

Deno.test("sweep: a failed combination is reported, the others run, exit 1 (one at a time)", async () => {
  const missing = `${await Deno.makeTempDir()}/no-such-dataset`;
  const r = await pipeline(
    "sweep",
    ...TINY,
    ...["--set", "generate.temperature=0.5", "--set", "generate.length=16"],
    ...["--grid", `dataset.dir=${missing},data/groove`, "--store", store],
  );
  assert.equal(r.code, 1, r.stderr);
  // One at a time, each run prints as `run` does: its error is on stderr, as it happened.
  assert.match(r.stderr, new RegExp(`^error: .*dataset\\.dir ${missing} does not exist`, "m"));
  assert.match(r.stdout, /\n\[1\/2\] failed \(exit status 1\) · config hash [0-9a-f]{16}\n/);
  // The second is the first sweep's first combination: everything comes from the cache.
  assert.match(r.stdout, /\n\[2\/2\] done in \S+ · everything cached · /);
  assert.match(r.stdout, /\n[0-9a-f]{16}\s.*\sfailed\s/, "the failed run is listed");
  assert.match(
    r.stdout,
    new RegExp(
      `\\nsweep: 2 of 2 combinations ran · 1 failed: \\[1/2\\] dataset\\.dir=${missing}\\n`,
    ),
  );
});

Deno.test("sweep: every combination is validated before anything runs", async () => {
  const empty = await Deno.makeTempDir();
  const r = await pipeline(
    "sweep",
    ...TINY,
    ...["--grid", "generate.length=16,24", "--grid", "generate.temperature=1,-1"],
    ...["--store", empty],
  );
  assert.equal(r.code, 2);
  assertOneLine(
    r.stderr,
    /^error: --grid combination 2\/4 \(generate\.length=16 generate\.temperature=-1\): generate\.temperature must be a number between 0 and 10 \(found -1\)$/,
  );
  assert.equal(r.stdout, "");
  assert.deepEqual([...Deno.readDirSync(empty)], [], "nothing ran, nothing was written");
  const usage = await pipeline("sweep", ...TINY, "--grid", "generate.length", "--store", empty);
  assert.equal(usage.code, 2);
  assertOneLine(usage.stderr, /--grid generate\.length: write it as section\.key=value1,value2/);
});
