import assert from "node:assert/strict";
import * as random from "../model/random.ts";
import * as sampling from "../model/sampling.ts";
import { classicScript, PLAYER_MODULES } from "./player.ts";

/** Runs `script` as the page would, with its own global object; returns that object. */
function runClassic(script: string): Record<string, unknown> {
  const global: Record<string, unknown> = {};
  new Function("globalThis", script)(global);
  return global;
}

/** A module's text as the page gets it, run: the functions under its global. */
async function pageCopy(file: string, global: string): Promise<Record<string, unknown>> {
  const source = await Deno.readTextFile(new URL(`../${file}`, import.meta.url));
  return runClassic(classicScript(source, { file, global }))[global] as Record<string, unknown>;
}

Deno.test("the page's generator is model/random.js itself: the same draws from the same seeds", async () => {
  const page = await pageCopy("model/random.js", "MODEL_RANDOM") as typeof random;
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

Deno.test("the page chooses tokens with model/sampling.js itself: the same choices from the same draws", async () => {
  const page = await pageCopy("model/sampling.js", "MODEL_SAMPLING") as typeof sampling;
  assert.deepEqual(Object.keys(page).sort(), Object.keys(sampling).sort());
  const p = [0.05, 0.3, 0.1, 0.25, 0.3];
  for (const s of [[0, 0, 1], [0.7, 0, 1], [1.3, 2, 1], [1, 0, 0.6]]) {
    const at = { temperature: s[0]!, topK: s[1]!, topP: s[2]! };
    const [a, b] = [random.seededRandom(5), random.seededRandom(5)];
    const draws = Array.from({ length: 40 }, () => [
      page.chooseNext(p, at, a),
      sampling.chooseNext(p, at, b),
    ]);
    for (const [x, y] of draws) assert.equal(x, y, JSON.stringify(at));
  }
});

Deno.test("every module a player runs can be copied into the page, and exports the same functions there", async () => {
  const modules = new Map(Object.values(PLAYER_MODULES).flat().map((m) => [m.file, m]));
  for (const file of ["sequence/lstm_step.js", "sequence/transformer_step.js", "continuation.js"]) {
    assert.ok(modules.has(`model/${file}`), file);
  }
  for (const { file, global } of modules.values()) {
    const imported = await import(`../${file}`);
    const page = await pageCopy(file, global);
    assert.deepEqual(Object.keys(page).sort(), Object.keys(imported).sort(), file);
    for (const name of Object.keys(page)) assert.equal(typeof page[name], "function", name);
  }
});

Deno.test("classicScript() refuses a module it could only half copy, naming it", () => {
  const module = { file: "model/x.js", global: "X" };
  assert.throws(
    () => classicScript('import { x } from "./y.js";\n', module),
    /Cannot copy model\/x\.js into the report page: it must import nothing/,
  );
  assert.throws(
    () => classicScript("export const k = 1;\n", module),
    /model\/x\.js.*only function declarations/,
  );
});
