/** The README documents what the code does: every config key and the two commands. */
import assert from "node:assert/strict";
import { allKeys } from "../core/config.ts";
import { PROJECT_ROOT } from "./_helpers.ts";

const readme = await Deno.readTextFile(`${PROJECT_ROOT}/README.md`);

Deno.test("README documents every config key", () => {
  for (const key of allKeys()) assert.ok(readme.includes(`\`${key}\``), `README lacks ${key}`);
});

Deno.test("README gives the run and test commands that CI and users start from", async () => {
  assert.match(readme, /npx -y deno@[\d.]+ task pipeline --config quick\.yaml/);
  assert.match(readme, /npx -y deno@[\d.]+ task test/);
  const ci = await Deno.readTextFile(`${PROJECT_ROOT}/.ci/run`);
  const testCommand = /(npx -y deno@[\d.]+ task test)/.exec(readme)![1]!;
  assert.ok(ci.includes(testCommand), ".ci/run runs the README's test command");
});
