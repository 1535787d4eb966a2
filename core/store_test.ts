import assert from "node:assert/strict";
import type { StageKey } from "./hash.ts";
import { Store } from "./store.ts";

Deno.test("Store.put() names bytes by their sha256 and makes the object read-only", async () => {
  const store = new Store(await Deno.makeTempDir());
  await store.init();
  const digest = await store.put(new TextEncoder().encode("abc"));
  assert.equal(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(store.objectPath(digest), `${store.root}/objects/ba/${digest.slice(2)}`);
  assert.equal((await Deno.stat(store.objectPath(digest))).mode! & 0o777, 0o444);
  assert.deepEqual(await store.get(digest), new TextEncoder().encode("abc"));
});

Deno.test("Store.verify() finds and removes an object whose bytes changed on disk", async () => {
  const store = new Store(await Deno.makeTempDir());
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
  const store = new Store(await Deno.makeTempDir());
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
