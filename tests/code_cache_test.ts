/** $DLM_CODE_CACHE: one code-digest cache file that fresh stores share. */
import assert from "node:assert/strict";
import { PERMISSIONS } from "../cli/permissions.ts";
import { PROJECT_ROOT } from "./_helpers.ts";

async function scanRun(store: string, codeCache: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "pipeline.ts", "--config", "quick.yaml", "--until", "scan"]
      .concat(["--store", store]),
    cwd: PROJECT_ROOT,
    // "" unsets it: the suite's runner sets one for every test.
    env: { DLM_CODE_CACHE: codeCache },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const hash = /config hash ([0-9a-f]{16})/.exec(new TextDecoder().decode(out.stdout))![1]!;
  const dir = `${store}/runs/${hash}`;
  const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".json"))!.name;
  return JSON.parse(await Deno.readTextFile(`${dir}/${file}`)).stages.scan.key as string;
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("DLM_CODE_CACHE: fresh stores share one code-digest cache, with the keys a store's own gives", async () => {
  const dir = await Deno.makeTempDir();
  const shared = `${dir}/code-digests.json`;
  const a = await scanRun(`${dir}/a`, shared);
  assert.equal(JSON.parse(await Deno.readTextFile(shared)).scheme.startsWith("code-digest"), true);
  assert.equal(await exists(`${dir}/a/cache/code-digests.json`), false, "not in the store");
  const b = await scanRun(`${dir}/b`, shared);
  const own = await scanRun(`${dir}/c`, "");
  assert.equal(await exists(`${dir}/c/cache/code-digests.json`), true, "without it: the store's");
  assert.equal(a, b);
  assert.equal(a, own);
});

Deno.test("DLM_CODE_CACHE where no file can be written costs the cache, never the run", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a-file`, "not a folder");
  const key = await scanRun(`${dir}/a`, `${dir}/a-file/code-digests.json`);
  assert.equal(key, await scanRun(`${dir}/b`, ""));
  assert.equal(await Deno.readTextFile(`${dir}/a-file`), "not a folder");
});
