import assert from "node:assert/strict";
import type { ConfigHash, Digest, StageKey } from "../core/hash.ts";
import { LocalStore } from "./store.ts";

Deno.test("Store.put() names bytes by their sha256 and makes the object read-only", async () => {
  const store = new LocalStore(await Deno.makeTempDir());
  await store.init();
  const digest = await store.put(new TextEncoder().encode("abc"));
  assert.equal(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(store.objectPath(digest), `${store.root}/objects/ba/${digest.slice(2)}`);
  assert.equal((await Deno.stat(store.objectPath(digest))).mode! & 0o777, 0o444);
  assert.deepEqual(await store.get(digest), new TextEncoder().encode("abc"));
});

Deno.test("Store.verify() finds and removes an object whose bytes changed on disk", async () => {
  const store = new LocalStore(await Deno.makeTempDir());
  await store.init();
  const good = await store.put(new TextEncoder().encode("good"));
  const bad = await store.put(new TextEncoder().encode("bad"));
  await Deno.chmod(store.objectPath(bad), 0o644);
  await Deno.writeTextFile(store.objectPath(bad), "tampered");
  await assert.rejects(store.get(bad), /its bytes changed on disk/);
  assert.deepEqual(await store.verify(true), { checked: 2, corrupt: [bad] });
  assert.ok(await store.has(good));
  assert.ok(!(await store.has(bad)));
});

Deno.test("Store.resumeState() keeps the last complete set of files until cleared", async () => {
  const store = new LocalStore(await Deno.makeTempDir());
  await store.init();
  const key = "ab".repeat(32) as StageKey;
  const state = store.resumeState(key);
  assert.equal(await state.load(), undefined);
  await state.save({
    "state.json": new TextEncoder().encode("1"),
    "best/model.json": new Uint8Array([1]),
  });
  await state.save({ "state.json": new TextEncoder().encode("2") });
  assert.deepEqual(await store.resumeState(key).load(), {
    "state.json": new TextEncoder().encode("2"),
  });
  const sets = [...Deno.readDirSync(`${store.root}/partial/${key}`)].filter((e) => e.isDirectory);
  assert.equal(sets.length, 1, "older sets are removed");
  await state.clear();
  assert.equal(await state.load(), undefined);
});

Deno.test("Store remembers an object it hashed by its stat; an edit after that is still noticed, and verify forgets", async () => {
  const root = await Deno.makeTempDir({ prefix: "store-test-" });
  try {
    const first = new LocalStore(root);
    await first.init();
    const digest = await first.put(new TextEncoder().encode("remembered"));
    // Old enough that a later write must change its stat (core/file_digests.ts, RACY_MS).
    await new Promise((r) => setTimeout(r, 2100));
    assert.ok(await first.intact(digest));
    await first.saveDigests();
    const cacheFile = `${root}/cache/file-digests.json`;
    const cache = JSON.parse(await Deno.readTextFile(cacheFile));
    assert.equal(cache.files[`objects/${digest.slice(0, 2)}/${digest.slice(2)}`]?.[5], digest);

    // Edited in place, same size, its mtime put back: the change time still moves.
    const path = first.objectPath(digest);
    const { mtime } = await Deno.stat(path);
    await Deno.chmod(path, 0o644);
    await Deno.writeTextFile(path, "rememberEd");
    await Deno.utime(path, mtime!, mtime!);
    const second = new LocalStore(root);
    assert.equal(await second.intact(digest), false);
    await assert.rejects(second.get(digest), /its bytes changed on disk/);

    // verify finds it, and drops every remembered digest (damage can leave a stat as it was).
    assert.deepEqual(await second.verify(false), { checked: 1, corrupt: [digest] });
    await assert.rejects(Deno.stat(cacheFile), Deno.errors.NotFound);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Store.init(): runs that create the same new store at once all succeed", async () => {
  // Two runs started together on a new folder (a sweep, or the compare page test) once failed:
  // one saw the other's half-written marker and took the folder for someone else's files.
  for (let round = 0; round < 20; round++) {
    const root = await Deno.makeTempDir();
    // Started a moment apart, so that some find the folder while another is writing its marker.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i));
        await new LocalStore(root).init();
      }),
    );
    assert.deepEqual(results.filter((r) => r.status === "rejected"), [], `round ${round}`);
    assert.ok((await Deno.stat(`${root}/store.json`)).isFile);
  }
});

Deno.test("Store.pathOf() makes every path by name and refuses any that is not a plain name", async () => {
  const store = new LocalStore(await Deno.makeTempDir());
  assert.equal(
    store.pathOf("runs", "0123456789abcdef.json"),
    `${store.root}/runs/0123456789abcdef.json`,
  );
  for (const bad of ["..", ".", "", "a/b", "/etc", "a\u0000b", "x\u001b"]) {
    assert.throws(() => store.pathOf("runs", bad), /not a plain file name/, JSON.stringify(bad));
  }
  // A name that is not what it claims is refused before any path is made from it.
  assert.throws(() => store.objectPath("../../dev/zero" as Digest), /not a digest/);
  await assert.rejects(
    () => store.remove({ runs: "../../victim" as ConfigHash }),
    /not a config hash/,
  );
  await assert.rejects(() => store.remove({ out: ".." as ConfigHash }), /not a config hash/);
  await assert.rejects(() => store.remove({ compare: "../x" }), /not a compare page/);
});
