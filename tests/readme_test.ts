/** The README leads to what the code does: the two commands, and docs/config.md every config key. */
import assert from "node:assert/strict";
import { allKeys } from "../core/config.ts";
import { PROJECT_ROOT } from "./_helpers.ts";

const readme = await Deno.readTextFile(`${PROJECT_ROOT}/README.md`);
const config = await Deno.readTextFile(`${PROJECT_ROOT}/docs/config.md`);

Deno.test("docs/config.md documents every config key, and the README links it", () => {
  for (const key of allKeys()) {
    assert.ok(config.includes(`\`${key}\``), `docs/config.md lacks ${key}`);
  }
  assert.ok(readme.includes("](docs/config.md)"));
});

Deno.test("README gives the run and test commands that CI and users start from", async () => {
  assert.match(readme, /npx -y deno@[\d.]+ task pipeline --config quick\.yaml/);
  assert.match(readme, /npx -y deno@[\d.]+ task test/);
  const ci = await Deno.readTextFile(`${PROJECT_ROOT}/.ci/run`);
  const testCommand = /(npx -y deno@[\d.]+ task test)/.exec(readme)![1]!;
  assert.ok(ci.includes(testCommand), ".ci/run runs the README's test command");
});
