import assert from "node:assert/strict";
import { buildSharedLibrary } from "./native_build.ts";

/** A temp folder with a C file in it; `cache` is where libraries go. */
async function fixture(code: string) {
  const dir = await Deno.makeTempDir({ prefix: "native_build_test_" });
  const source = new URL(`file://${dir}/answer.c`);
  await Deno.writeTextFile(source, code);
  return { dir, source, cache: `${dir}/cache` };
}

const ANSWER = "int answer(void) { return 42; }\n";

function hasCompiler(): boolean {
  for (const cc of ["cc", "gcc", "clang"]) {
    try {
      if (
        new Deno.Command(cc, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
          .success
      ) {
        return true;
      }
    } catch {
      // not installed
    }
  }
  return false;
}

const HAS_CC = hasCompiler();
if (!HAS_CC) console.warn("native_build_test: no C compiler (cc, gcc, clang); build tests skipped");

Deno.test({
  name: "buildSharedLibrary() builds a library that loads, then finds it in the cache",
  ignore: !HAS_CC,
  fn: async () => {
    const { dir, source, cache } = await fixture(ANSWER);
    const first = buildSharedLibrary({ source, cacheDir: cache });
    assert.ok(first.ok, first.ok ? "" : first.reason);
    assert.equal(first.cached, false);
    const lib = Deno.dlopen(first.path, { answer: { parameters: [], result: "i32" } });
    assert.equal(lib.symbols.answer(), 42);
    lib.close();
    const second = buildSharedLibrary({ source, cacheDir: cache });
    assert.deepEqual(second, { ok: true, path: first.path, cached: true });
    // Only the library is left: no temp files, no copy of the source.
    assert.deepEqual([...Deno.readDirSync(cache)].map((e) => e.name), [
      first.path.split("/").pop(),
    ]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "buildSharedLibrary() keys the cache on the source text: an edit builds a new library",
  ignore: !HAS_CC,
  fn: async () => {
    const { dir, source, cache } = await fixture(ANSWER);
    const a = buildSharedLibrary({ source, cacheDir: cache });
    await Deno.writeTextFile(source, "int answer(void) { return 43; }\n");
    const b = buildSharedLibrary({ source, cacheDir: cache });
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.path, b.path);
    assert.equal(b.cached, false);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "buildSharedLibrary() reports a compile error as a value and leaves nothing behind",
  ignore: !HAS_CC,
  fn: async () => {
    const { dir, source, cache } = await fixture("int answer(void) { return }\n");
    const result = buildSharedLibrary({ source, cacheDir: cache });
    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.reason, /failed \(exit \d+\)/);
    assert.deepEqual([...Deno.readDirSync(cache)], []);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("buildSharedLibrary() reports a missing source file as a value", () => {
  const result = buildSharedLibrary({
    source: new URL("file:///nonexistent/deep-lstm-midi/none.c"),
    cacheDir: "/nonexistent",
  });
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /cannot read/);
});

/** Runs buildSharedLibrary in a child Deno with `env`; returns its result. */
async function buildInChild(source: URL, cache: string, env: Record<string, string> = {}) {
  const module = new URL("./native_build.ts", import.meta.url).href;
  const code = `import { buildSharedLibrary } from ${JSON.stringify(module)};
console.log(JSON.stringify(buildSharedLibrary({ source: new URL(${
    JSON.stringify(source.href)
  }), cacheDir: ${JSON.stringify(cache)} })));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", code],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as ReturnType<typeof buildSharedLibrary>;
}

Deno.test({
  name: "buildSharedLibrary() in concurrent processes leaves one complete library",
  ignore: !HAS_CC,
  fn: async () => {
    const { dir, source, cache } = await fixture(ANSWER);
    const results = await Promise.all([1, 2, 3, 4].map(() => buildInChild(source, cache)));
    const paths = new Set(results.map((r) => (r.ok ? r.path : r.reason)));
    assert.equal(paths.size, 1, JSON.stringify(results));
    const [path] = [...paths];
    assert.ok(results.every((r) => r.ok));
    assert.deepEqual([...Deno.readDirSync(cache)].map((e) => e.name), [path!.split("/").pop()]);
    const lib = Deno.dlopen(path!, { answer: { parameters: [], result: "i32" } });
    assert.equal(lib.symbols.answer(), 42);
    lib.close();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("buildSharedLibrary() without a compiler on PATH says so instead of throwing", async () => {
  const { dir, source, cache } = await fixture(ANSWER);
  const result = await buildInChild(source, cache, { PATH: `${dir}/empty` });
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /no C compiler found/);
  await Deno.remove(dir, { recursive: true });
});
