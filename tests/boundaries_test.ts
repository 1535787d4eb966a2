/**
 * The architecture's boundaries (STYLE.md): stages, music, plots, formats and model are pure
 * (bytes in, bytes out), never import the runner, store or CLI, and never touch files; only the
 * native build cache in model/ may, because it caches a compiled kernel per machine, not data.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "./_helpers.ts";

const PURE = ["stages", "music", "plots", "formats", "model"];
const FORBIDDEN_IMPORT =
  /from\s+["'](?:\.\.\/)+(?:core\/(?:runner|store|dataset|config|status|code_digest)\.ts|cli\/)/;
const FILE_API =
  /\bDeno\.(?:read|write|open|create|mkdir|remove|rename|stat|lstat|readDir|copyFile|makeTemp)\w*\(/;
const MAY_TOUCH_FILES = new Set(["model/native_build.ts"]);

async function modules(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of PURE) {
    for await (const e of Deno.readDir(`${PROJECT_ROOT}/${dir}`)) {
      if (
        e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") &&
        !e.name.startsWith("_test")
      ) {
        out.push(`${dir}/${e.name}`);
      }
    }
  }
  return out.sort();
}

Deno.test("stages, music, plots, formats and model never import the runner, store, config loader or CLI", async () => {
  for (const path of await modules()) {
    const text = await Deno.readTextFile(`${PROJECT_ROOT}/${path}`);
    assert.doesNotMatch(text, FORBIDDEN_IMPORT, path);
  }
});

Deno.test("stages, music, plots, formats and model read and write no files (datasets come through ctx)", async () => {
  for (const path of await modules()) {
    if (MAY_TOUCH_FILES.has(path)) continue;
    const text = await Deno.readTextFile(`${PROJECT_ROOT}/${path}`);
    assert.doesNotMatch(text, FILE_API, path);
  }
});

Deno.test("pipeline.ts declares the eight stages in stages/, one file each, named as the file", async () => {
  const { PIPELINE } = await import("../pipeline.ts");
  const names = PIPELINE.stages.map((s) => s.name);
  assert.deepEqual(names, [
    "scan",
    "sample200",
    "parse",
    "vocab",
    "window",
    "train",
    "generate",
    "render",
  ]);
  for (const name of names) {
    assert.ok((await Deno.stat(`${PROJECT_ROOT}/stages/${name}.ts`)).isFile, name);
  }
});
