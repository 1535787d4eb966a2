import assert from "node:assert/strict";
import { dataset, DAY_AGO, test, write } from "../tests/_folders.ts";
import { FileDigests } from "./file_digests.ts";
import { sha256Hex } from "./hash.ts";

/**
 * One scan's worth of digests: every file's sha256 through a fresh {@link FileDigests}, then
 * saved. The clock is a minute ahead, so that files written by the test a moment ago count as
 * settled (their ctime is now); one test uses the real clock.
 */
async function scanAll(dir: string, paths: string[], opts: { trust?: boolean; now?: number } = {}) {
  const digests = await FileDigests.open(dir, {
    cacheFile: `${dir}.digests.json`,
    trust: opts.trust,
    now: () => opts.now ?? Date.now() + 60_000,
  });
  const sha: Record<string, string> = {};
  for (const p of paths) sha[p] = await digests.sha256(p);
  assert.equal(await digests.save(true), undefined);
  return { sha, hashed: digests.hashed, remembered: digests.remembered };
}

test("FileDigests reads again only the files whose stat changed", async () => {
  const dir = await dataset({ "a/one.mid": "one", "b/two.mid": "two", "three.mid": "three" });
  const paths = ["a/one.mid", "b/two.mid", "three.mid"];
  const first = await scanAll(dir, paths);
  assert.equal(first.hashed, 3);
  assert.deepEqual(first.sha["b/two.mid"], sha256Hex("two"));
  const second = await scanAll(dir, paths);
  assert.deepEqual({ hashed: second.hashed, remembered: second.remembered }, {
    hashed: 0,
    remembered: 3,
  });
  assert.deepEqual(second.sha, first.sha);
  await write(dir, "b/two.mid", "TWO!", new Date());
  const third = await scanAll(dir, paths);
  assert.deepEqual({ hashed: third.hashed, remembered: third.remembered }, {
    hashed: 1,
    remembered: 2,
  });
  assert.equal(third.sha["b/two.mid"], sha256Hex("TWO!"));
});

test("FileDigests never trusts an entry whose size, mtime or inode changed", async (t) => {
  const dir = await dataset({ "x.mid": "aaaa" });
  await scanAll(dir, ["x.mid"]);
  await t.step("same size, new mtime", async () => {
    await write(dir, "x.mid", "bbbb", new Date(DAY_AGO.getTime() + 1));
    const { sha, hashed } = await scanAll(dir, ["x.mid"]);
    assert.equal(hashed, 1);
    assert.equal(sha["x.mid"], sha256Hex("bbbb"));
  });
  await t.step("new size, mtime set back to what it was", async () => {
    await write(dir, "x.mid", "ccccc", new Date(DAY_AGO.getTime() + 1));
    const { sha, hashed } = await scanAll(dir, ["x.mid"]);
    assert.equal(hashed, 1);
    assert.equal(sha["x.mid"], sha256Hex("ccccc"));
  });
  await t.step("replaced by another file of the same size and mtime", async () => {
    await write(dir, "y.tmp", "ddddd", new Date(DAY_AGO.getTime() + 1));
    await Deno.rename(`${dir}/y.tmp`, `${dir}/x.mid`);
    const { sha, hashed } = await scanAll(dir, ["x.mid"]);
    assert.equal(hashed, 1);
    assert.equal(sha["x.mid"], sha256Hex("ddddd"));
  });
});

test("FileDigests does not remember a file modified in the last two seconds", async () => {
  const dir = await dataset({});
  await write(dir, "new.mid", "fresh", new Date());
  const now = Date.now();
  assert.equal((await scanAll(dir, ["new.mid"], { now })).hashed, 1);
  // Written in the same clock tick as the read, a change could leave the stamp as it was.
  assert.equal((await scanAll(dir, ["new.mid"], { now })).hashed, 1);
});

test("FileDigests reads every file when not trusted (--force scan) or when its cache is garbage", async () => {
  const dir = await dataset({ "one.mid": "1", "two.mid": "2" });
  const paths = ["one.mid", "two.mid"];
  await scanAll(dir, paths);
  assert.equal((await scanAll(dir, paths, { trust: false })).hashed, 2);
  // What the untrusted scan read is kept for the next one.
  assert.equal((await scanAll(dir, paths)).hashed, 0);
  const cache = JSON.parse(await Deno.readTextFile(`${dir}.digests.json`));
  cache.files["one.mid"][5] = "not a digest";
  await Deno.writeTextFile(`${dir}.digests.json`, JSON.stringify(cache));
  assert.equal((await scanAll(dir, paths)).hashed, 1);
  await Deno.writeTextFile(`${dir}.digests.json`, "{ not json");
  const { hashed, sha } = await scanAll(dir, paths);
  assert.equal(hashed, 2);
  assert.deepEqual(sha, { "one.mid": sha256Hex("1"), "two.mid": sha256Hex("2") });
});

test("FileDigests drops deleted files from the cache after a complete scan", async () => {
  const dir = await dataset({ "keep.mid": "k", "gone.mid": "g" });
  await scanAll(dir, ["keep.mid", "gone.mid"]);
  await Deno.remove(`${dir}/gone.mid`);
  await scanAll(dir, ["keep.mid"]);
  const cache = JSON.parse(await Deno.readTextFile(`${dir}.digests.json`));
  assert.deepEqual(Object.keys(cache.files), ["keep.mid"]);
});

test("FileDigests.read() gives the bytes always and hashes them only when not remembered", async () => {
  const dir = await dataset({ "a.bin": "alpha" });
  const open = () =>
    FileDigests.open(dir, { cacheFile: `${dir}.digests.json`, now: () => Date.now() + 60_000 });
  const first = await open();
  const one = await first.read("a.bin");
  assert.equal(new TextDecoder().decode(one.bytes), "alpha");
  assert.equal(one.sha256, sha256Hex("alpha"));
  assert.equal(first.hashed, 1);
  await first.save(false);
  const second = await open();
  const two = await second.read("a.bin");
  assert.equal(new TextDecoder().decode(two.bytes), "alpha");
  assert.deepEqual([two.sha256, second.hashed, second.remembered], [sha256Hex("alpha"), 0, 1]);
});
