import assert from "node:assert/strict";
import { dataset, DAY_AGO, test } from "../tests/_folders.ts";
import { listDataset } from "./dataset.ts";

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
