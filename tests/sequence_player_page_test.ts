/**
 * The report page's player for a run of each network the page steps in plain JavaScript, in a
 * real browser: a tiny Groove run (`train.network: sequence`, then `transformer`; four training
 * files, one epoch) writes its page; headless Chromium opens it from file:// with `?probe`, which
 * presses Generate once with the run's own primer, temperature and seed; the tokens the page
 * lists must be the pipeline's first piece, token for token, and the pieces it drew all of the
 * pipeline's pieces (one seeded stream, drawn in generate's order).
 *
 * Needs Chromium (`/usr/bin/chromium`, or the path in $CHROMIUM); without it the test is skipped
 * and says why.
 */
import assert from "node:assert/strict";
import type { RunRecord } from "../core/run_record.ts";
import { pipeline } from "./_helpers.ts";
import { tinyGroove } from "./_tiny_groove.ts";
import { consoleLines, headless, skipWithoutChromium } from "./_chromium.ts";

/** Each network as small as it goes (`train`'s keys of its own); one epoch. */
const NETWORKS = {
  sequence: "network: sequence, lstmUnits: 8, cropLength: 32",
  // Its window is the crop: 16 steps, so the pieces (a 2-bar primer, 2 bars) slide it.
  transformer: "network: transformer, blocks: 1, width: 8, heads: 2, cropLength: 16",
} as const;

/** A run of `network`; two pieces, each at its primer's tempo. */
const config = (dataset: string, network: keyof typeof NETWORKS) => `
dataset: { dir: ${JSON.stringify(dataset)}, split: info.csv }
sample: { count: 4, seed: 42 }
parse: { encoding: drum-grid, stepsPerQuarter: 4 }
vocab: { minCount: 2 }
window: { length: 2 }
train: { ${NETWORKS[network]}, embedding: 4, epochs: 1, batchSize: 4, seed: 1 }
generate: { temperature: 1, primeBars: 2, bars: 2, count: 2, seed: 7 }
render: { tempo: primer }
`;

for (const network of Object.keys(NETWORKS) as (keyof typeof NETWORKS)[]) {
  Deno.test({
    name: `report page: the ${network} network's player draws the run's own pieces in the browser`,
    ignore: skipWithoutChromium(`${network} player page test`),
    fn: () => drawsTheRunsPieces(network),
  });
}

async function drawsTheRunsPieces(network: keyof typeof NETWORKS): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: `${network}-player-` });
  try {
    await tinyGroove(`${root}/groove`);
    await Deno.writeTextFile(`${root}/run.yaml`, config(`${root}/groove`, network));
    const run = await pipeline("--config", `${root}/run.yaml`, "--store", `${root}/store`);
    assert.equal(run.code, 0, run.stderr);
    const hash = /config hash ([0-9a-f]{16})/.exec(run.stdout)![1]!;
    const store = `${root}/store`;
    const saved: RunRecord = JSON.parse(await Deno.readTextFile(`${store}/runs/${hash}.json`));
    const json = async (stage: string, output: string) => {
      const digest = saved.stages[stage]!.outputs[output]!;
      const path = `${store}/objects/${digest.slice(0, 2)}/${digest.slice(2)}`;
      return JSON.parse(await Deno.readTextFile(path));
    };
    const piece: string[] = await json("generate", "tokens.json");
    const pieces: string[][] = await json("generate", "pieces.json");
    const primers: { file: string; bpm?: number }[] = await json("generate", "primers.json");
    assert.equal(pieces.length, 2);
    assert.equal(piece.length, 32, "two bars of sixteenths");

    // The step module does the maths: no TensorFlow.js beside the page.
    const dir = `${store}/runs/${hash}`;
    const shipped = [...Deno.readDirSync(`${dir}/report`)].map((e) => e.name);
    assert.ok(shipped.includes("model.js") && shipped.includes("player.js"), `${shipped}`);
    assert.ok(!shipped.includes("tf.min.js"), `${shipped}`);
    const model = JSON.parse(
      (await Deno.readTextFile(`${dir}/report/model.js`)).replace(/^[^]*?RUN_MODEL = |;\n$/g, ""),
    );
    assert.equal(model.kind, network);
    // Each piece sounds at its primer's tempo (render.tempo: primer): a sixteenth of its beat.
    assert.deepEqual(
      model.primers.map((p: { path: string; stepSeconds: number }) => [p.path, p.stepSeconds]),
      primers.map((p) => [p.file, 15 / p.bpm!]),
    );

    const shown = await headless(`file://${dir}/report.html?probe`, [
      "--virtual-time-budget=10000",
      "--dump-dom",
    ]);
    assert.equal(shown.code, 0, shown.log);
    assert.deepEqual(consoleLines(shown.log), [], "the page logs nothing to the console");
    assert.match(
      shown.dom,
      new RegExp(`<div id="player" data-state="ready" data-kind="${network}">`),
    );
    const options = [...shown.dom.matchAll(/<option value="\d+"[^>]*>piece \d+: ([^<]*)</g)];
    assert.deepEqual(options.map((m) => m[1]), primers.map((p) => p.file));
    assert.match(shown.dom, /id="player-temperature" [^>]*value="1"/);
    assert.match(shown.dom, /id="player-seed" [^>]*value="7"/);

    // What Generate listed: the first primer's piece, the pipeline's first piece.
    const listed = /<ol id="player-tokens"[^>]*>(.*?)<\/ol>/.exec(shown.dom)?.[1] ?? "";
    const tokens = [...listed.matchAll(/<li[^>]*>([^<]*)<\/li>/g)].map((m) => m[1]);
    assert.deepEqual(tokens, piece);
    const probeText = /<pre id="probe"[^>]*>([^<]*)<\/pre>/.exec(shown.dom)?.[1];
    assert.ok(probeText, "the page wrote its probe");
    const probe: { pieces: string[][]; shown: number } = JSON.parse(
      probeText.replaceAll("&quot;", '"').replaceAll("&amp;", "&"),
    );
    assert.equal(probe.shown, 0);
    assert.deepEqual(probe.pieces, pieces);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
