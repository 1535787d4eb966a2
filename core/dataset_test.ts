import assert from "node:assert/strict";
import { listDataset } from "./dataset.ts";

/** Folders made by {@link dataset}, removed after each test. */
const made: string[] = [];

/** A dataset folder of `files` (path → text), each file's mtime a day ago. */
async function dataset(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dataset-test-" });
  made.push(dir, `${dir}.digests.json`);
  for (const [path, text] of Object.entries(files)) await write(dir, path, text);
  return dir;
}

/** Deno.test, then the folders it made are removed. */
function test(name: string, fn: (t: Deno.TestContext) => Promise<void>) {
  Deno.test(name, async (t) => {
    try {
      await fn(t);
    } finally {
      for (const path of made.splice(0)) {
        await Deno.remove(path, { recursive: true }).catch(() => {});
      }
    }
  });
}

const DAY_AGO = new Date(Date.now() - 86_400_000);

async function write(dir: string, path: string, text: string, mtime = DAY_AGO) {
  await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeTextFile(`${dir}/${path}`, text);
  await Deno.utime(`${dir}/${path}`, mtime, mtime);
}

test("listDataset lists every file under the folder, recursively, sorted, with size and mtime", async () => {
  const dir = await dataset({ "b/z.mid": "zz", "a.mid": "a", "b/c/d.txt": "ddd" });
  await Deno.symlink(`${dir}/a.mid`, `${dir}/link.mid`);
  const listing = await listDataset(dir, "test.yaml");
  assert.deepEqual(listing, [
    { path: "a.mid", size: 1, mtimeMs: DAY_AGO.getTime() },
    { path: "b/c/d.txt", size: 3, mtimeMs: DAY_AGO.getTime() },
    { path: "b/z.mid", size: 2, mtimeMs: DAY_AGO.getTime() },
  ]);
  await assert.rejects(
    listDataset(`${dir}/missing`, "test.yaml"),
    /dataset\.dir .* does not exist/,
  );
});
