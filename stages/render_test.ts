import assert from "node:assert/strict";
import { renderMidi } from "../music/render_midi.ts";
import { fakeContext as sharedFakeContext } from "../tests/_helpers.ts";
import { render } from "./render.ts";

/** The shared fake context, with its collections named as these tests use them. */
function fakeContext() {
  const ctx = sharedFakeContext();
  const { warnings, infos, metrics } = ctx.collected;
  return { ctx, warnings, infos, metrics };
}

const config = (step = 0.5) => ({ render: { step } });

Deno.test("render stage writes the create_midi bytes and a piano roll from tokens.json", async () => {
  const tokens = ["E-4", "10.2.4", "C4"];
  const { ctx, warnings, metrics } = fakeContext();
  const out = await render.run({ tokens: tokens }, config(), ctx);
  assert.deepEqual(Object.keys(out).sort(), ["generated.mid", "piano_roll.svg"]);
  assert.deepEqual(out["generated.mid"], renderMidi(tokens).bytes);
  const svg = out["piano_roll.svg"];
  assert.ok(svg.startsWith("<svg"));
  assert.equal(svg.match(/<rect class="note"/g)?.length, 5);
  assert.deepEqual(warnings, []);
  assert.equal(metrics.notes, 5);
});

Deno.test("render stage declares its name, input and config section", () => {
  assert.equal(render.name, "render");
  assert.deepEqual(Object.values(render.inputs).map((i) => `${i.stage}/${i.output}`), [
    "generate/tokens.json",
  ]);
  assert.deepEqual(render.reads, ["render"]);
});

Deno.test("render stage passes each odd token's warning to ctx.warn", async () => {
  const { ctx, warnings, metrics } = fakeContext();
  await render.run({ tokens: ["C#-1", "xyz", "C4"] }, config(), ctx);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? "", /"C#-1"/);
  assert.match(warnings[1] ?? "", /"xyz"/);
  assert.equal(metrics.notes, 2);
});

Deno.test("render stage spaces tokens by render.step", async () => {
  const { ctx } = fakeContext();
  const tokens = ["C4", "D4"];
  const out = await render.run({ tokens: tokens }, config(1), ctx);
  assert.deepEqual(out["generated.mid"], renderMidi(tokens, { step: 1 }).bytes);
  assert.notDeepEqual(out["generated.mid"], renderMidi(tokens).bytes);
});

Deno.test("render stage renders an empty token list as the empty file", async () => {
  const { ctx, metrics } = fakeContext();
  const out = await render.run({ tokens: [] }, config(), ctx);
  assert.deepEqual(out["generated.mid"], renderMidi([]).bytes);
  assert.equal(metrics.notes, 0);
});
