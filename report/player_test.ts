import assert from "node:assert/strict";
import * as random from "../model/random.ts";
import { classicRandomScript } from "./player.ts";

/** Runs `script` as the page would, with its own global object; returns that object. */
function runClassic(script: string): Record<string, unknown> {
  const global: Record<string, unknown> = {};
  new Function("globalThis", script)(global);
  return global;
}

Deno.test("the page's generator is model/random.js itself: the same draws from the same seeds", async () => {
  const source = await Deno.readTextFile(new URL("../model/random.js", import.meta.url));
  const page = runClassic(classicRandomScript(source))["MODEL_RANDOM"] as typeof random;
  assert.deepEqual(Object.keys(page).sort(), Object.keys(random).sort());
  for (const seed of [0, 1, 42, 0xffffffff]) {
    const [a, b] = [page.seededRandom(seed), random.seededRandom(seed)];
    const draws = Array.from({ length: 50 }, () => [a(), b()]);
    for (const [x, y] of draws) assert.equal(x, y);
  }
  assert.equal(page.mixSeed(9, 3, "hashed"), random.mixSeed(9, 3, "hashed"));
  assert.deepEqual(
    page.shuffleInPlace([1, 2, 3, 4, 5], page.seededRandom(7)),
    random.shuffleInPlace([1, 2, 3, 4, 5], random.seededRandom(7)),
  );
});

Deno.test("classicRandomScript() refuses a module it could only half copy", () => {
  assert.throws(() => classicRandomScript('import { x } from "./x.js";\n'), /import nothing/);
  assert.throws(() => classicRandomScript("export const k = 1;\n"), /only function declarations/);
});
