/**
 * The compare page in a real browser: two small runs that differ in the learning rate, compared;
 * headless Chromium opens `index.html` from file:// (no network) and must log nothing to the
 * console, and the page's own check must find every loss curve laid out with a length.
 *
 * Needs Chromium (`/usr/bin/chromium`, or the path in $CHROMIUM); .ci/run installs it. Without
 * it the test is skipped and says why.
 */
import assert from "node:assert/strict";
import type { RunRecord } from "../core/run_record.ts";
import { assertWellFormedSvg } from "./_svg.ts";
import { pipeline } from "./_helpers.ts";
import { consoleLines, headless, skipWithoutChromium } from "./_chromium.ts";

const skipped = skipWithoutChromium("compare page test");

Deno.test({
  name: "compare page: opens from file:// in headless Chromium, no console errors, curves drawn",
  ignore: skipped,
  fn: async () => {
    const store = await Deno.makeTempDir({ prefix: "compare-page-" });
    // Both at once: the store's locks make the stages they share run once.
    const runs = await Promise.all(["0.001", "0.01"].map((rate) =>
      pipeline(
        ...["--config", "quick.yaml", "--set", "sample.count=6", "--set", "train.epochs=2"],
        ...["--set", "generate.length=16", "--set", `train.learningRate=${rate}`],
        // Smaller layers and larger steps than quick.yaml's train four times as fast; the page is
        // the same.
        ...["--set", "train.lstmUnits=16", "--set", "train.denseUnits=16"],
        ...["--set", "train.batchSize=128"],
        ...["--store", store, "--quiet"],
      )
    ));
    const hashes = runs.map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return /config hash ([0-9a-f]{16})/.exec(r.stdout)![1]!;
    });
    const [a, b] = hashes as [string, string];

    const compare = await pipeline("compare", a, b, "--store", store);
    assert.equal(compare.code, 0, compare.stderr);
    const dir = `${store}/compare/${a}-${b}`;
    assert.match(compare.stdout, new RegExp(`\\ncompare page +${dir}/index\\.html\\n`));
    assert.match(compare.stdout, new RegExp(`\\nloss curves +${dir}/curves\\.svg\\n`));
    assert.match(compare.stdout, /\ntrain\.learningRate\s+0\.0010\s+0\.0100\n/);
    assert.match(
      compare.stdout,
      /\ngenerated piece\s+\S+\s+\S+\s+training data \(mean ± std, 6 files\)\n/,
    );
    assert.match(compare.stdout, /\n {2}distinct_tokens\s+\d+\s+\d+\s+[\d.]+ ± [\d.]+\n/);
    const json = JSON.parse((await pipeline("compare", a, b, "--store", store, "--json")).stdout);
    assert.equal(json.page, `${dir}/index.html`);
    assert.deepEqual(json.runs.map((r: { configHash: string }) => r.configHash), [a, b]);

    // One solid curve per run, and a dashed one for each run that has validation loss.
    const records: RunRecord[] = await Promise.all(
      hashes.map(async (h) => JSON.parse(await Deno.readTextFile(`${store}/runs/${h}.json`))),
    );
    const validated = records.filter((r) => Array.isArray(r.metrics.train?.valLoss)).length;
    const expected = records.length + validated;
    const svg = await Deno.readTextFile(`${dir}/curves.svg`);
    assertWellFormedSvg(svg);
    assert.equal(svg.match(/<path class="curve /g)?.length, expected);

    const page = await headless(`file://${dir}/index.html`, ["--dump-dom"]);
    assert.equal(page.code, 0, page.log);
    assert.deepEqual(consoleLines(page.log), [], "the page logs nothing to the console");
    assert.match(page.dom, new RegExp(`<html [^>]*data-curves="${expected}"`));
    assert.match(page.dom, new RegExp(`<html [^>]*data-curves-drawn="${expected}"`));
    for (const h of hashes) {
      assert.match(page.dom, new RegExp(`<path class="curve train" data-run="${h}" d="M`));
    }
    assert.match(page.dom, /<th scope="row"><code>train\.learningRate<\/code><\/th>/);

    const png = `${store}/page.png`;
    const shot = await headless(`file://${dir}/index.html`, [
      "--hide-scrollbars",
      "--window-size=1280,1600",
      `--screenshot=${png}`,
    ]);
    assert.equal(shot.code, 0, shot.log);
    const bytes = await Deno.readFile(png);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
    assert.ok(bytes.length > 20_000, `a screenshot with something on it (${bytes.length} bytes)`);
  },
});
