import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import type { ConfigHash } from "../core/hash.ts";
import type { RunRecord } from "../core/run_record.ts";
import type { Metric } from "../core/stage.ts";
import { buildComparison } from "./comparison.ts";
import { comparePageDir, curvesSvg } from "./compare_page.ts";
import { formatSpread, formatStat } from "./compare_text.ts";
import { comparePageHtml, escapeHtml } from "./compare_page.ts";
import { LocalStore } from "../store/store.ts";

/** A run record with the given config changes and metrics, as the runner would write it. */
function record(
  hash: string,
  change: (c: ReturnType<typeof defaultConfig>) => void,
  metrics: Record<string, Record<string, Metric>>,
): RunRecord {
  const config = defaultConfig();
  change(config);
  return {
    configHash: hash as ConfigHash,
    configPath: "configs/quick.yaml",
    config,
    status: "ok",
    startedAt: "2026-11-25T10:00:00.000Z",
    finishedAt: "2026-11-25T10:00:07.000Z",
    seconds: 7,
    runtime: { deno: "2", v8: "1", os: "linux" },
    stages: {},
    metrics,
  };
}

const DATA = {
  files: 6,
  tokens: { distinct_tokens: { mean: 24.5, std: 17.8, min: 3, max: 54, n: 6 } },
  music: { polyphony: { mean: 1.35, std: 0.18, min: 1.1, max: 1.6, n: 6 } },
};

function piece(distinct: number, polyphony: number) {
  return {
    pieces: [{
      tokens: { distinct_tokens: { value: distinct, dataMean: 24.5, dataStd: 17.8, z: -0.6 } },
      music: { polyphony: { value: polyphony, dataMean: 1.35, dataStd: 0.18, z: 8.7 } },
    }],
  };
}

const A = record("aaaaaaaaaaaaaaaa", (c) => (c.train.learningRate = 0.001), {
  parse: { tokens: 3759 },
  train: {
    loss: [4.38, 3.83],
    bestLoss: 3.83,
    valLoss: [4.26, 3.37],
    valAccuracy: [0.01, 0.3],
    valContextFreeLoss: 3.06,
    backend: "wasm",
  },
  datastats: DATA,
  stats: piece(13, 2.94),
});
const B = record("bbbbbbbbbbbbbbbb", (c) => (c.train.learningRate = 0.01), {
  parse: { tokens: 3759 },
  train: { loss: [3.71, 3.29, 3.1], bestLoss: 3.1, backend: "wasm" },
  datastats: DATA,
  stats: piece(10, 2.18),
});
/** Another sample: its training data differs, so it gets a training-data column of its own. */
const C = record("cccccccccccccccc", (c) => {
  c.train.learningRate = 0.01;
  c.sample.count = 12;
}, {
  parse: { tokens: 7000 },
  train: { loss: [3.9] },
  datastats: { ...DATA, files: 12 },
  stats: piece(20, 1.5),
});

Deno.test("buildComparison(): only the keys that differ, every metric, per-epoch series", () => {
  const c = buildComparison([A, B, C]);
  assert.deepEqual(c.configDiff, [
    { key: "sample.count", values: [200, 200, 12] },
    { key: "train.learningRate", values: [0.001, 0.01, 0.01] },
  ]);
  assert.equal(c.runs[2]!.note, "sample.count=12, train.learningRate=0.01");
  const metric = (name: string) => c.metrics.find((m) => m.name === name)?.values;
  assert.deepEqual(metric("tokens"), [3759, 3759, 7000]);
  assert.deepEqual(metric("epochs"), [2, 3, 1]);
  assert.deepEqual(metric("backend"), ["wasm", "wasm", undefined]);
  // Series: loss first, then the validation figures that any run has; per run or undefined.
  assert.deepEqual(c.epochs.map((s) => s.label), ["loss", "val loss", "val accuracy"]);
  assert.deepEqual(c.epochs[1]!.runs, [[4.26, 3.37], undefined, undefined]);
  assert.ok(!c.metrics.some((m) => /valLoss|datastats\.tokens|stats\.pieces/.test(m.name)));
  // One number, not a series: the validation loss of ignoring the context is a row.
  assert.deepEqual(metric("train.valContextFreeLoss"), [3.06, undefined, undefined]);
});

Deno.test("buildComparison(): one training-data column per distinct training data", () => {
  const two = buildComparison([A, B]);
  assert.deepEqual(two.data, [{ runs: [A.configHash, B.configHash], files: 6 }]);
  const row = two.statistics.find((s) => s.name === "distinct_tokens")!;
  assert.deepEqual(row.runs, [{ value: 13, z: -0.6 }, { value: 10, z: -0.6 }]);
  assert.deepEqual(row.data, [{ mean: 24.5, std: 17.8, min: 3, max: 54, n: 6 }]);
  assert.deepEqual(two.statistics.map((s) => `${s.group}.${s.name}`), [
    "tokens.distinct_tokens",
    "music.polyphony",
  ]);
  const three = buildComparison([A, B, C]);
  assert.deepEqual(three.data.map((d) => d.runs.length), [2, 1]);
  assert.equal(formatSpread(three.statistics[0]!.data[0]!), "24.5 ± 17.8");
  assert.equal(formatStat(2.9411764), "2.941");
  assert.equal(formatStat(undefined), "-");
});

Deno.test("curvesSvg(): every run's training curve, the validation curve where there is one", () => {
  const svg = curvesSvg(buildComparison([A, B, C]));
  assert.equal(svg.match(/<path class="curve train"/g)?.length, 3);
  assert.equal(svg.match(/<path class="curve validation"/g)?.length, 1);
  assert.match(svg, /<path class="curve validation" data-run="aaaaaaaaaaaaaaaa"/);
});

Deno.test("comparePageHtml(): self-contained, every text escaped", () => {
  const evil = record("dddddddddddddddd", (c) => (c.dataset.dir = `<script>alert("x")</script>`), {
    train: { loss: [3, 2], backend: `</td><img src=x onerror=alert(1)>` },
  });
  evil.configPath = `a&b<i>.yaml`;
  const c = buildComparison([A, evil]);
  const html = comparePageHtml(c, curvesSvg(c), {
    store: "/tmp/<store>",
    generatedAt: A.startedAt,
  });
  assert.ok(html.startsWith("<!doctype html>"));
  assert.ok(!html.includes(`<script>alert`), "config values are escaped");
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  assert.ok(!html.includes("<img"), "metric values are escaped");
  assert.ok(html.includes("a&amp;b&lt;i&gt;.yaml"));
  assert.ok(html.includes("/tmp/&lt;store&gt;"));
  // Nothing is fetched: no external script, style sheet, font or image.
  assert.doesNotMatch(html, /\b(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(html, /@import|url\(|<link\b|<img\b/);
  assert.equal(html.match(/<script>/g)?.length, 1, "only the page's own inline script");
  assert.match(html, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, "the chart is inlined");
  assert.match(html, /<a href="curves\.svg">/);
  assert.equal(escapeHtml(`<&>"'`), "&lt;&amp;&gt;&quot;&#39;");
});

Deno.test("comparePageDir(): named by the hashes, shortened for many runs", () => {
  const store = new LocalStore("/s");
  assert.equal(comparePageDir(store, ["ab", "cd"]), "/s/compare/ab-cd");
  const many = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(16, "0"));
  const dir = comparePageDir(store, many);
  const name = dir.slice("/s/compare/".length);
  assert.ok(name.length < 120, name);
  assert.match(name, /^0{16}-0{15}1-0{15}2-0{15}3-and-16-more-[0-9a-f]{8}$/);
  assert.notEqual(comparePageDir(store, many.slice(0, 19)), dir);
});
