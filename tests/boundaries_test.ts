/**
 * The architecture's boundaries (STYLE.md), read from Deno's own module graph (`deno info
 * --json`): music, plots, formats and model stand alone; stages use only the stage contract of
 * core/; none of them touches files, except the native build cache in model/, which caches a
 * compiled kernel per machine, not data.
 */
import assert from "node:assert/strict";
import { EIGHT_STAGES, PROJECT_ROOT } from "./_helpers.ts";

const PURE = ["stages", "music", "plots", "formats", "model", "metrics"];
const FILE_API =
  /\bDeno\.(?:read|write|open|create|mkdir|remove|rename|stat|lstat|readDir|copyFile|makeTemp)\w*\(/;
const MAY_TOUCH_FILES = new Set(["model/fused/native_build.ts"]);
/** What a stage may use of core/: the stage contract and hashing (the config's shape is formats/'s). */
const STAGE_MAY_IMPORT = new Set(["core/stage.ts", "core/hash.ts"]);

/** The non-test modules under `dirs` (and their subfolders). */
async function modules(dirs: readonly string[] = PURE): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${PROJECT_ROOT}/${dir}`)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith("_test.ts")) {
        out.push(`${dir}/${e.name}`);
      }
    }
  };
  for (const dir of dirs) await walk(dir);
  return out.sort();
}

/**
 * Every project module reachable from the pipeline and the tokens command, with the project
 * modules it imports (type-only imports included), as Deno's own module graph gives them.
 */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const prefix = `file://${PROJECT_ROOT}/`;
  for (const root of ["pipeline.ts", "stages/mod.ts", "cli/tokens.ts"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.ok(out.success, `deno info ${root}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    for (const m of info.modules) {
      if (!m.specifier.startsWith(prefix)) continue;
      const deps = (m.dependencies ?? []).flatMap((d) => [d.code, d.type])
        .map((r) => r?.specifier)
        .filter((s): s is string => s !== undefined && s.startsWith(prefix))
        .map((s) => s.slice(prefix.length));
      graph.set(m.specifier.slice(prefix.length), deps);
    }
  }
  return graph;
}

const graph = await importGraph();
const top = (path: string) => path.split("/")[0]!;

Deno.test("the import graph reaches every stage and the pure modules it is checked on", () => {
  for (const dir of PURE) assert.ok([...graph.keys()].some((m) => top(m) === dir), dir);
});

/** The pipeline's own folders: model and music code is free of them. */
const PIPELINE_FOLDERS = ["core", "store", "remote", "audio", "report", "cli", "stages"];

Deno.test("music, plots, formats, metrics and model import nothing of the pipeline", () => {
  for (const [module, deps] of graph) {
    if (!["music", "plots", "formats", "metrics", "model"].includes(top(module))) continue;
    for (const dep of deps) {
      assert.ok(!PIPELINE_FOLDERS.includes(top(dep)), `${module} imports ${dep}`);
    }
  }
});

Deno.test("the engine (core/) imports none of the services it talks to, nor the commands", () => {
  for (const [module, deps] of graph) {
    if (top(module) !== "core") continue;
    for (const dep of deps) {
      assert.ok(
        !["store", "remote", "audio", "report", "cli", "stages"].includes(top(dep)),
        `${module} imports ${dep}`,
      );
    }
  }
});

Deno.test("no import circle: no module imports, even for a type, one that imports it back", () => {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (m: string) => {
    if (state.get(m) === "done") return;
    assert.notEqual(state.get(m), "open", `import circle: ${[...path, m].join(" → ")}`);
    state.set(m, "open");
    path.push(m);
    for (const dep of graph.get(m) ?? []) visit(dep);
    path.pop();
    state.set(m, "done");
  };
  for (const m of graph.keys()) visit(m);
});

// Where a folder outgrows one concern (issue 21's figure); the config schema, which grows by a few
// lines with every key a recipe adds, lives in formats/ with the other shapes.
Deno.test("no folder holds more than 3,000 lines of code (tests beside it not counted)", async () => {
  const folders = new Map<string, number>();
  const all = await modules(
    [...new Set([...graph.keys()].map(top))].filter((d) => !d.includes(".")),
  );
  for (const path of all) {
    const folder = path.slice(0, path.lastIndexOf("/"));
    const lines = (await Deno.readTextFile(`${PROJECT_ROOT}/${path}`)).split("\n").length;
    folders.set(folder, (folders.get(folder) ?? 0) + lines);
  }
  for (const [folder, lines] of folders) assert.ok(lines <= 3000, `${folder}: ${lines} lines`);
});

Deno.test("stages import only the stage contract and hashing of core/, no CLI and no other stage", () => {
  for (const [module, deps] of graph) {
    // stages/mod.ts is the DAG of the stages, not a stage: it imports them all.
    if (top(module) !== "stages" || module === "stages/mod.ts") continue;
    for (const dep of deps) {
      // stages/support/ holds what stages share, not stages.
      const otherStage = top(dep) === "stages" && !dep.startsWith("stages/support/");
      assert.ok(top(dep) !== "cli" && !otherStage, `${module} imports ${dep}`);
      if (top(dep) === "core") assert.ok(STAGE_MAY_IMPORT.has(dep), `${module} imports ${dep}`);
    }
  }
});

Deno.test("stages, music, plots, formats and model read and write no files (datasets come through ctx)", async () => {
  for (const path of await modules()) {
    if (MAY_TOUCH_FILES.has(path)) continue;
    const text = await Deno.readTextFile(`${PROJECT_ROOT}/${path}`);
    assert.doesNotMatch(text, FILE_API, path);
  }
});

Deno.test("stages/mod.ts declares the eight stages and the measuring ones, each in stages/<name>.ts", async () => {
  const { PIPELINE } = await import("../stages/mod.ts");
  const names = PIPELINE.stages.map((s) => s.name);
  assert.deepEqual(names.slice(0, 8), EIGHT_STAGES);
  for (const stage of PIPELINE.stages) {
    assert.equal(stage.module, `file://${PROJECT_ROOT}/stages/${stage.name}.ts`, stage.name);
  }
});
