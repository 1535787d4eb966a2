import assert from "node:assert/strict";
import { defaultConfig } from "../core/config_schema.ts";
import type { RunRecord } from "../core/run_record.ts";
import { reportPageHtml } from "./report_page.ts";

function record(): RunRecord {
  const stage = (cached: boolean) => ({
    key: "k" as RunRecord["stages"][string]["key"],
    cached,
    seconds: cached ? 0.01 : 2.5,
    executedSeconds: 2.5,
    outputs: {},
    warnings: [] as string[],
  });
  return {
    configHash: "0123456789abcdef" as RunRecord["configHash"],
    configPath: "configs/<quick>.yaml",
    config: defaultConfig(),
    status: "ok",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:03.000Z",
    seconds: 3,
    runtime: { deno: "2", v8: "1", os: "linux" },
    stages: {
      train: stage(false),
      audio: { ...stage(true), warnings: ["fluidsynth <not> found"] },
    },
    metrics: {
      stats: {
        pieces: [{ tokens: { distinct_tokens: { value: 5, dataMean: 9, dataStd: 2, z: -2 } } }],
      },
    },
  };
}

const ctx = { store: "/tmp/store", generatedAt: "2026-01-01T00:00:04.000Z" };

Deno.test("report page: no player without audio, and says why", () => {
  const html = reportPageHtml(record(), { noAudio: "no audio: fluidsynth was not installed" }, ctx);
  assert.match(html, /<p class="noaudio">no audio: fluidsynth was not installed<\/p>/);
  assert.doesNotMatch(html, /<audio/);
  assert.match(html, /No loss curves \(the train stage did not run\)/);
  assert.match(html, /No piano roll/);
});

Deno.test("report page: player, pictures, stages, statistics and config, all escaped", () => {
  const html = reportPageHtml(record(), {
    audio: "report/generated.flac",
    midi: "report/generated.mid",
    lossSvg: `<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L1 1"/></svg>`,
    pianoRollSvg: `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`,
  }, ctx);
  assert.match(html, /<audio controls preload="metadata" src="report\/generated\.flac"><\/audio>/);
  assert.match(html, /<a href="report\/generated\.mid" download>generated\.mid<\/a>/);
  assert.equal(html.match(/<figure><svg /g)?.length, 2);
  assert.match(html, /<code>train<\/code><\/th><td><span class="status ran">ran<\/span><\/td>/);
  assert.match(html, /<code>audio<\/code><\/th><td><span class="status ok">cached<\/span><\/td>/);
  assert.match(html, /fluidsynth &lt;not&gt; found/);
  assert.match(html, /configs\/&lt;quick&gt;\.yaml/);
  assert.match(html, /<code>distinct_tokens<\/code>/);
  assert.match(html, /z -2\.00/);
  assert.match(html, /<code>train\.epochs<\/code><\/th><td>\d+<\/td>/);
  assert.doesNotMatch(html, /<quick>|<not>/);
});
