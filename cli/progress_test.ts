import assert from "node:assert/strict";
import { formatProgress, startProgress } from "./progress.ts";
import { formatDuration } from "../report/text.ts";

Deno.test("formatDuration() reads at a glance from milliseconds to hours", () => {
  assert.deepEqual(
    [0.0004, 0.85, 12.34, 245, 7380].map(formatDuration),
    ["0ms", "850ms", "12.3s", "4m05s", "2h03m"],
  );
});

Deno.test("formatProgress() shows count, rate, time left and the note; the total time when done", () => {
  assert.equal(
    formatProgress({
      label: "train",
      done: 120,
      total: 1400,
      elapsedMs: 10_000,
      note: "loss 4.12",
    }),
    "120/1400 · 12.0/s · 1m46s left · loss 4.12",
  );
  assert.equal(
    formatProgress({ label: "parse", done: 200, total: 200, elapsedMs: 150 }),
    "200/200 · 1333/s · in 150ms",
  );
  assert.equal(formatProgress({ label: "x", done: 0, total: 5, elapsedMs: 0 }), "0/5 · 0.00/s");
});

Deno.test("startProgress() off a terminal prints a line every tenth of the way and one at the end", () => {
  const lines: string[] = [];
  const bar = startProgress("parse", 100, false, (l) => lines.push(l));
  for (let i = 0; i < 100; i++) bar.tick();
  bar.done();
  assert.equal(lines.length, 10, lines.join("\n"));
  assert.match(lines.at(-1)!, /^parse: 100\/100 · .* · in /);
});
