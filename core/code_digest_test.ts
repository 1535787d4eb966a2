import assert from "node:assert/strict";
import type TS from "typescript";
import { CODE_DIGEST_SCHEME, CodeDigester } from "./code_digest.ts";

const ts: typeof TS = (await import("typescript")).default;
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

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
  "stages/a.ts": 'import { f } from "../lib/f.ts";\n' +
    'import type { T } from "../lib/types.ts";\n' +
    'import { type U } from "../lib/types2.ts";\n' +
    'export type { V } from "../lib/types3.ts";\n' +
    'import YAML from "yaml";\n',
  "lib/f.ts": 'export { g } from "./g.ts";\nexport const f = 1;\n',
  "lib/g.ts": "export const g = 2;\n",
  "lib/types.ts": "export type T = number;\n",
  "lib/types2.ts": "export type U = number;\n",
  "lib/types3.ts": "export type V = number;\n",
  "stages/b.ts": "export const b = 1;\n",
};

/** The digest of `module` after `edit` rewrites `path` in a fresh copy of `files`. */
async function digestAfter(
  files: Record<string, string>,
  module: string,
  path: string,
  edit: (text: string) => string,
): Promise<string> {
  const root = await project({ ...files, [path]: edit(files[path]!) });
  return await new CodeDigester(root).digest(module);
}

Deno.test("CodeDigester changes a stage's digest when a module it imports, even indirectly, changes", async () => {
  const root = await project(FILES);
  const before = await new CodeDigester(root).digest("stages/a.ts");
  await Deno.writeTextFile(`${root}/lib/g.ts`, "export const g = 3;\n");
  assert.notEqual(await new CodeDigester(root).digest("stages/a.ts"), before);
});

Deno.test("CodeDigester ignores modules a stage does not import and type-only imports", async () => {
  const root = await project(FILES);
  const digester = new CodeDigester(root);
  const before = await digester.digest("stages/a.ts");
  assert.deepEqual(await digester.files("stages/a.ts"), ["lib/f.ts", "lib/g.ts", "stages/a.ts"]);
  await Deno.writeTextFile(`${root}/stages/b.ts`, "export const b = 2;\n");
  for (const t of ["types", "types2", "types3"]) {
    await Deno.writeTextFile(`${root}/lib/${t}.ts`, "export type T = string; export type U = T;\n");
  }
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

Deno.test("CodeDigester follows dynamic imports of literals", async () => {
  const files = {
    "deno.json": "{}",
    "a.ts": 'export const load = () => import("./b.ts");\n',
    "b.ts": "export const b = 1;\n",
  };
  const before = await digestAfter(files, "a.ts", "b.ts", (t) => t);
  assert.notEqual(await digestAfter(files, "a.ts", "b.ts", (t) => t.replace("1", "2")), before);
});

Deno.test("CodeDigester: a `//` or `/*` inside a template literal or a regex is code", async () => {
  const files = {
    "deno.json": "{}",
    "a.ts": [
      "const x = 1;",
      "export const t = `plain // one`;",
      "export const u = `${x} // two ${x} /* three */`;",
      "export const r = /a\\/\\/ four/g; // a comment",
      "export const s = 'five'; /* a comment */",
      "",
    ].join("\n"),
  };
  const before = await digestAfter(files, "a.ts", "a.ts", (t) => t);
  for (const word of ["one", "two", "three", "four", "five"]) {
    const after = await digestAfter(files, "a.ts", "a.ts", (t) => t.replace(word, "changed"));
    assert.notEqual(after, before, word);
  }
  // The real comments do not count.
  const comments = await digestAfter(
    files,
    "a.ts",
    "a.ts",
    (t) => t.replace("// a comment", "// another").replace("/* a comment */", "/* x */"),
  );
  assert.equal(comments, before);
});

Deno.test("CodeDigester: a statement's line break that changes its meaning (ASI) counts", async () => {
  const files = { "deno.json": "{}", "a.ts": "export function f() {\n  return 1;\n}\n" };
  const before = await digestAfter(files, "a.ts", "a.ts", (t) => t);
  const after = await digestAfter(files, "a.ts", "a.ts", (t) => t.replace("return 1", "return\n1"));
  assert.notEqual(after, before);
  // A trailing comma, a semicolon, quote style and a blank line do not.
  const files2 = { "deno.json": "{}", "a.ts": 'export const a = [1, 2];\nexport const s = "x";\n' };
  const b2 = await digestAfter(files2, "a.ts", "a.ts", (t) => t);
  const a2 = await digestAfter(
    files2,
    "a.ts",
    "a.ts",
    () => "export const a = [\n  1,\n  2,\n]\n\nexport const s = 'x'\n",
  );
  assert.equal(a2, b2);
  // A hole in an array is not a trailing comma.
  const a3 = await digestAfter(files2, "a.ts", "a.ts", (t) => t.replace("[1, 2]", "[1, 2, ,]"));
  assert.notEqual(a3, b2);
});

Deno.test("CodeDigester's cache file is used, and saved atomically", async () => {
  const root = await project(FILES);
  const cacheFile = `${root}/store/cache/code-digests.json`;
  const cold = new CodeDigester(root, { cacheFile });
  const digest = await cold.digest("stages/a.ts");
  await cold.save();
  const saved = JSON.parse(await Deno.readTextFile(cacheFile));
  assert.equal(saved.scheme, CODE_DIGEST_SCHEME);
  assert.equal(Object.keys(saved.files).length, 3);
  assert.deepEqual(
    [...Deno.readDirSync(`${root}/store/cache`)].map((e) => e.name),
    ["code-digests.json"],
  );
  assert.equal(await new CodeDigester(root, { cacheFile }).digest("stages/a.ts"), digest);
  // What the cache says is what counts (so it really is read): a tampered entry shows.
  for (const entry of Object.values(saved.files) as { digest: string }[]) entry.digest = "x";
  await Deno.writeTextFile(cacheFile, JSON.stringify(saved));
  assert.notEqual(await new CodeDigester(root, { cacheFile }).digest("stages/a.ts"), digest);
  // A cache of another scheme, or a broken one, is ignored.
  await Deno.writeTextFile(cacheFile, JSON.stringify({ ...saved, scheme: "code-digest v1" }));
  assert.equal(await new CodeDigester(root, { cacheFile }).digest("stages/a.ts"), digest);
  await Deno.writeTextFile(cacheFile, "{ not json");
  const fresh = new CodeDigester(root, { cacheFile });
  assert.equal(await fresh.digest("stages/a.ts"), digest);
  await fresh.save();
  assert.equal(JSON.parse(await Deno.readTextFile(cacheFile)).scheme, CODE_DIGEST_SCHEME);
});

// --- The pipeline's own modules, copied into a temp project --------------------------------------

/** The stage modules the DAG (stages/mod.ts) imports. */
async function stageModules(): Promise<string[]> {
  const text = await Deno.readTextFile(`${ROOT}/stages/mod.ts`);
  const stages = [...text.matchAll(/from "\.\/([a-z0-9_]+\.ts)"/g)].map((m) => `stages/${m[1]!}`);
  assert.ok(stages.length >= 10, `only ${stages.length} stages found in stages/mod.ts`);
  return stages;
}

/** A copy of deno.json and every module the stages reach; the stages and their files. */
async function copyPipeline(): Promise<{ root: string; stages: string[]; files: string[] }> {
  const stages = await stageModules();
  const digester = new CodeDigester(ROOT);
  const files = new Set<string>();
  for (const stage of stages) for (const f of await digester.files(stage)) files.add(f);
  const root = await Deno.makeTempDir();
  await Deno.copyFile(`${ROOT}/deno.json`, `${root}/deno.json`);
  const copied: string[] = [];
  for (const f of [...files].sort()) {
    await Deno.mkdir(`${root}/${f.slice(0, f.lastIndexOf("/"))}`, { recursive: true });
    try {
      await Deno.copyFile(`${ROOT}/${f}`, `${root}/${f}`);
      copied.push(f);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // moved while we looked: skip it
    }
  }
  return { root, stages, files: copied };
}

async function digests(root: string, stages: string[]): Promise<Record<string, string>> {
  const digester = new CodeDigester(root);
  const out: Record<string, string> = {};
  for (const stage of stages) out[stage] = await digester.digest(stage);
  return out;
}

function parseTs(path: string, text: string): TS.SourceFile {
  return ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/**
 * Adds comments, JSDoc and blank lines around every top-level statement, and a comment at the
 * end of each statement's line (top-level boundaries are never inside a string or a template).
 */
function decorate(path: string, text: string): string {
  const sf = parseTs(path, text);
  let out = text;
  for (const st of [...sf.statements].reverse()) {
    const start = st.getStart(sf, false);
    const lineEnd = text.indexOf("\n", st.end);
    const end = lineEnd === -1 ? text.length : lineEnd;
    out = `${out.slice(0, end)} // trailing comment${out.slice(end)}`;
    out = `${out.slice(0, start)}\n\n/** JSDoc added by the test. */\n\n${out.slice(start)}`;
  }
  return `// A comment line added by the test.\n${out}\n\n/* the end */\n`;
}

Deno.test("CodeDigester: comments and reformatting of every module the stages reach change no stage's digest", async () => {
  const { root, stages, files } = await copyPipeline();
  const before = await digests(root, stages);
  const originals = new Map<string, string>();
  for (const f of files) {
    const text = await Deno.readTextFile(`${root}/${f}`);
    originals.set(f, text);
    if (f.endsWith(".ts")) await Deno.writeTextFile(`${root}/${f}`, decorate(f, text));
  }
  // A real reformat: other line width, indentation, quotes, no semicolons.
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: [
      "fmt",
      "--line-width=60",
      "--indent-width=4",
      "--single-quote",
      "--no-semicolons",
      "--quiet",
      ...files.filter((f) => f.endsWith(".ts")),
    ],
    cwd: root,
    stderr: "piped",
  }).output();
  assert.ok(fmt.success, new TextDecoder().decode(fmt.stderr));
  let unchanged = 0;
  for (const f of files) {
    const text = await Deno.readTextFile(`${root}/${f}`);
    // Blank lines after every statement-ending line, now that fmt has had its say.
    if (f.endsWith(".ts")) await Deno.writeTextFile(`${root}/${f}`, decorate(f, text));
    if (text === originals.get(f)) unchanged++;
  }
  assert.equal(unchanged, files.filter((f) => !f.endsWith(".ts")).length);
  assert.deepEqual(await digests(root, stages), before);
});

Deno.test("CodeDigester: constants, strings and operators in train's modules change train's digest", async () => {
  const { root, stages } = await copyPipeline();
  const train = stages.find((s) => s.endsWith("/train.ts"))!;
  const trainFiles = await new CodeDigester(root).files(train);
  const before = (await digests(root, stages))[train];
  const other = trainFiles.includes("model/build_model.ts")
    ? "model/build_model.ts"
    : trainFiles.find((f) => f !== train && f.endsWith(".ts"))!;

  /** Rewrites the first node of `path` that `pick` accepts; returns train's digest, then undoes it. */
  async function mutate(path: string, pick: (n: TS.Node) => string | undefined): Promise<string> {
    const text = await Deno.readTextFile(`${root}/${path}`);
    const sf = parseTs(path, text);
    let edited: string | undefined;
    const visit = (n: TS.Node): void => {
      if (edited !== undefined) return;
      const replacement = pick(n);
      if (replacement !== undefined) {
        edited = text.slice(0, n.getStart(sf)) + replacement + text.slice(n.end);
      } else ts.forEachChild(n, visit);
    };
    visit(sf);
    assert.ok(edited !== undefined, `nothing to change in ${path}`);
    await Deno.writeTextFile(`${root}/${path}`, edited);
    const after = (await digests(root, stages))[train]!;
    await Deno.writeTextFile(`${root}/${path}`, text);
    return after;
  }

  const number = (n: TS.Node) => ts.isNumericLiteral(n) ? `${n.text}1` : undefined;
  const string = (n: TS.Node) =>
    ts.isStringLiteral(n) && !ts.isImportDeclaration(n.parent) &&
      !ts.isExportDeclaration(n.parent) && !ts.isLiteralTypeNode(n.parent)
      ? JSON.stringify(`${n.text}!`)
      : undefined;
  const operator = (n: TS.Node) => {
    if (!ts.isBinaryExpression(n)) return undefined;
    const swap: Partial<Record<TS.SyntaxKind, string>> = {
      [ts.SyntaxKind.PlusToken]: "-",
      [ts.SyntaxKind.MinusToken]: "+",
      [ts.SyntaxKind.AsteriskToken]: "/",
      [ts.SyntaxKind.LessThanToken]: "<=",
      [ts.SyntaxKind.GreaterThanToken]: ">=",
      [ts.SyntaxKind.EqualsEqualsEqualsToken]: "!==",
    };
    const op = swap[n.operatorToken.kind];
    return op === undefined ? undefined : `${n.left.getText()} ${op} ${n.right.getText()}`;
  };
  for (
    const [path, pick, what] of [
      [other, number, "a number"],
      [train, number, "a number"],
      [train, string, "a string"],
      [other, string, "a string"],
      [other, operator, "an operator"],
    ] as const
  ) {
    assert.notEqual(await mutate(path, pick), before, `${what} in ${path}`);
  }
  assert.equal((await digests(root, stages))[train], before);
});

Deno.test("CodeDigester: a change to the loss plot's code changes the drawing stage's digest, not train's", async () => {
  const { root, stages } = await copyPipeline();
  const train = stages.find((s) => s.endsWith("/train.ts"))!;
  const drawing = stages.find((s) => s.endsWith("/losscurve.ts"))!;
  assert.ok(!(await new CodeDigester(root).files(train)).includes("plots/loss_curve.ts"));
  const before = await digests(root, stages);
  const path = `${root}/plots/loss_curve.ts`;
  const text = await Deno.readTextFile(path);
  // A change of meaning (a new constant), wherever the plot's code stands.
  await Deno.writeTextFile(path, `${text}\nexport const DRAWN_BY_TEST = 1;\n`);
  const after = await digests(root, stages);
  assert.notEqual(after[drawing], before[drawing]);
  for (const stage of stages) {
    if (stage !== drawing) assert.equal(after[stage], before[stage], stage);
  }
});

Deno.test("CodeDigester: types are erased before code runs, so they change no digest; code beside them does", async () => {
  const base = {
    "stages/s.ts": [
      "interface Shape { a: number }",
      "type Alias = string | number;",
      "class Base {}",
      "class K extends Base implements Shape {",
      "  a = 1;",
      "  constructor(readonly root: string) { super(); }",
      "}",
      "enum E { A = 1 }",
      "export function f<T>(x: T, y?: number): T { return (x as T) satisfies T; }",
      "export const v: Alias = f<number>(E.A) + new K('r').a;",
      "export const w = [null].length;",
      "",
    ].join("\n"),
  };
  const digest = (text: string) => digestAfter(base, "stages/s.ts", "stages/s.ts", () => text);
  const before = await digest(base["stages/s.ts"]);
  const same = (from: string, to: string) => base["stages/s.ts"].replace(from, to);
  for (
    const [from, to] of [
      ["interface Shape { a: number }", "interface Shape { a: string; b: boolean }"],
      ["type Alias = string | number;", "type Alias = number;"],
      ["implements Shape {", "implements Shape, Object {"],
      ["f<T>(x: T, y?: number): T", "f<T, U>(x: U, y?: string): unknown"],
      ["(x as T) satisfies T", "(x as unknown) satisfies unknown"],
      ["f<number>(E.A)", "f<string>(E.A)"],
      ["export const v: Alias", "export const v: number"],
    ]
  ) assert.equal(await digest(same(from!, to!)), before, `${from} → ${to}`);
  for (
    const [from, to] of [
      ["extends Base", ""],
      ["constructor(readonly root: string)", "constructor(root: string)"],
      ["enum E { A = 1 }", "enum E { A = 2 }"],
      ["[null].length", "[].length"],
      ["y?: number", "y?: number, z?: number"],
    ]
  ) assert.notEqual(await digest(same(from!, to!)), before, `${from} → ${to}`);
});
