/**
 * parse on worker threads (stages/support/parse_pool.ts) against parse on one thread: the same bytes
 * in every output, the same warnings in the same order, the same metrics, the same failures.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../formats/config_schema.ts";
import { sha256Hex } from "../core/hash.ts";
import type { StageContext } from "../core/stage.ts";
import { events, meta, smf } from "../tests/_smf.ts";
import { fakeContext, GROOVE, utf8 } from "../tests/_helpers.ts";
import { liveParseWorkers } from "./support/parse_pool.ts";
import { parse, parseFiles } from "./parse.ts";

/** Every 23rd Groove file (50 of them, all ten drummers), plus files that are skipped or empty. */
async function dataset(): Promise<Record<string, Uint8Array>> {
  const paths: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel === "" ? GROOVE : `${GROOVE}/${rel}`)) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".mid")) paths.push(path);
    }
  };
  await walk("");
  const files: Record<string, Uint8Array> = {};
  for (const path of paths.sort().filter((_, i) => i % 23 === 0)) {
    files[path] = await Deno.readFile(`${GROOVE}/${path}`);
  }
  files["bad/not-midi.mid"] = utf8("this is not a MIDI file\n");
  // "Piano RH" + program 0 at tick 0: music21 gives no tokens (parse_test.ts).
  files["bad/empty.mid"] = smf({
    tracks: [events([0, ...meta(0x03, "Piano RH")], [0, 0xc0, 0], [0, 0x90, 60, 90], [
      480,
      0x80,
      60,
      0,
    ])],
  });
  return files;
}

/** The sample: the files in a fixed shuffled order, as sample200 gives them. */
function sample(files: Record<string, Uint8Array>) {
  return Object.keys(files)
    .map((path) => ({ path, size: files[path]!.length, sha256: sha256Hex(files[path]!) }))
    .sort((a, b) => (sha256Hex(a.path) < sha256Hex(b.path) ? -1 : 1));
}

/** Everything parse gives: each output's bytes as stored, the warnings, the metrics. */
async function parsed(
  files: Record<string, Uint8Array>,
  parseConfig: Partial<ReturnType<typeof defaultConfig>["parse"]>,
  workers: number,
) {
  const ctx = fakeContext(files);
  const config = { parse: { ...defaultConfig().parse, ...parseConfig } };
  const out = await parseFiles(sample(files), config, ctx, workers);
  const bytes = Object.fromEntries(
    Object.entries(parse.outputs).map(([name, codec]) => [
      name,
      sha256Hex(codec.encode(out[name as keyof typeof out] as never)),
    ]),
  );
  return { bytes, warnings: ctx.collected.warnings, metrics: ctx.collected.metrics };
}

const files = await dataset();
// The largest Groove file of the sample is skipped by the size limit.
const largest = Math.max(...Object.values(files).map((b) => b.length));

for (
  const [name, settings] of [
    ["music21", {}],
    ["music21, a file over parse.maxFileBytes", { maxFileBytes: largest - 1 }],
    ["drum-grid with velocity", { encoding: "drum-grid", velocity: "coarse" }],
    // Most Groove files are longer than 100 quarter notes: skipped, as on one thread.
    ["drum-grid, files over parse.maxQuarters", { encoding: "drum-grid", maxQuarters: 100 }],
  ] as const
) {
  Deno.test(`parse on 2 and 3 workers writes the same bytes as on one thread: ${name}`, async () => {
    const serial = await parsed(files, settings, 0);
    assert.ok(serial.warnings.some((w) => w.includes("bad/not-midi.mid")));
    if (name.startsWith("music21")) {
      assert.ok(serial.warnings.some((w) => w.includes("bad/empty.mid gave no tokens")));
    }
    if (name.includes("maxQuarters")) {
      assert.ok(serial.warnings.some((w) => w.includes("over parse.maxQuarters (100)")));
    }
    for (const workers of [2, 3]) {
      assert.deepEqual(await parsed(files, settings, workers), serial, `${workers} workers`);
      assert.equal(liveParseWorkers(), 0, "the workers were ended");
    }
  });
}

Deno.test("parse on workers stops at a file music21 cannot read with parse.onError fail, as on one thread", async () => {
  const run = (workers: number) => parsed(files, { onError: "fail" }, workers);
  const serial = await run(0).then(() => "no error", (e: Error) => e.message);
  assert.match(serial, /music21 cannot read bad\/not-midi\.mid/);
  assert.equal(await run(2).then(() => "no error", (e: Error) => e.message), serial);
});

Deno.test("parse on workers stops at the next file when interrupted and ends its workers", async () => {
  const abort = new AbortController();
  let ticks = 0;
  const ctx: StageContext = {
    ...fakeContext(files),
    signal: abort.signal,
    progress: () => ({
      tick: () => {
        if (++ticks === 5) abort.abort();
      },
      done: () => {},
    }),
  };
  const config = { parse: defaultConfig().parse };
  await assert.rejects(parseFiles(sample(files), config, ctx, 2), { name: "AbortError" });
  assert.equal(ticks, 5);
  assert.equal(liveParseWorkers(), 0);
});
