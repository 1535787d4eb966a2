import assert from "node:assert/strict";
import { CodeDigester } from "./code_digest.ts";

async function project(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir();
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
  return root;
}

const FILES = {
  "deno.json": JSON.stringify({ imports: { yaml: "npm:yaml@2.6.1" } }),
  "stages/a.ts":
    'import { f } from "../lib/f.ts";\nimport type { T } from "../lib/types.ts";\nimport YAML from "yaml";\n',
  "lib/f.ts": 'export { g } from "./g.ts";\nexport const f = 1;\n',
  "lib/g.ts": "export const g = 2;\n",
  "lib/types.ts": "export type T = number;\n",
  "stages/b.ts": "export const b = 1;\n",
};

Deno.test("CodeDigester changes a stage's digest when a module it imports, even indirectly, changes", async () => {
  const root = await project(FILES);
  const before = await new CodeDigester(root).digest("stages/a.ts");
  await Deno.writeTextFile(`${root}/lib/g.ts`, "export const g = 3;\n");
  assert.notEqual(await new CodeDigester(root).digest("stages/a.ts"), before);
});

Deno.test("CodeDigester ignores modules a stage does not import and type-only imports", async () => {
  const root = await project(FILES);
  const before = await new CodeDigester(root).digest("stages/a.ts");
  await Deno.writeTextFile(`${root}/stages/b.ts`, "export const b = 2;\n");
  await Deno.writeTextFile(`${root}/lib/types.ts`, "export type T = string;\n");
  assert.equal(await new CodeDigester(root).digest("stages/a.ts"), before);
});

Deno.test("CodeDigester changes the digest when an npm package version changes", async () => {
  const root = await project(FILES);
  const before = await new CodeDigester(root).digest("stages/a.ts");
  await Deno.writeTextFile(
    `${root}/deno.json`,
    JSON.stringify({ imports: { yaml: "npm:yaml@2.7.0" } }),
  );
  assert.notEqual(await new CodeDigester(root).digest("stages/a.ts"), before);
});
