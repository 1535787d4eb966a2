import assert from "node:assert/strict";
import { escapeXml, formatTick, niceTicks } from "./_svg.ts";

Deno.test("niceTicks() covers the range with round steps", () => {
  assert.deepEqual(niceTicks(0.83, 5.3, 5), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(niceTicks(2.3, 2.9, 5), [2.2, 2.4, 2.6, 2.8, 3]);
  assert.deepEqual(niceTicks(1, 30, 10, 1), [0, 5, 10, 15, 20, 25, 30]);
});

Deno.test("niceTicks() widens a range of one value", () => {
  const ticks = niceTicks(3, 3, 5);
  assert.ok((ticks[0] ?? Infinity) < 3 && (ticks.at(-1) ?? -Infinity) > 3);
});

Deno.test("escapeXml() escapes the five XML specials", () => {
  assert.equal(
    escapeXml(`<a href="x">&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;",
  );
});

Deno.test("formatTick() prints integers plainly and others short", () => {
  assert.equal(formatTick(3), "3");
  assert.equal(formatTick(0.30000000000000004), "0.3");
});
