import assert from "node:assert/strict";
import { exportOutputs } from "./exports.ts";
import type { RunRecord } from "../core/run_record.ts";
import { LocalStore } from "./store.ts";

Deno.test("exportOutputs leaves the store's copy as it is when it holds the same bytes, and restores an edited one", async () => {
  const root = await Deno.makeTempDir({ prefix: "exports-test-" });
  try {
    const store = new LocalStore(root);
    await store.init();
    const digest = await store.put(new TextEncoder().encode("notes"));
    const record = {
      configHash: "0123456789abcdef",
      stages: { parse: { outputs: { "notes.json": digest } } },
    } as unknown as RunRecord;
    const copy = `${root}/out/0123456789abcdef/notes.json`;

    await exportOutputs(store, record, ["parse/notes.json"]);
    const written = await Deno.stat(copy);
    assert.equal(await Deno.readTextFile(copy), "notes");

    // A cached rerun: the same bytes are there, so the file is not written again.
    await exportOutputs(store, record, ["parse/notes.json"]);
    const again = await Deno.stat(copy);
    assert.equal(again.ino, written.ino);
    assert.equal(again.mtime?.getTime(), written.mtime?.getTime());

    // Edited by hand: the next run puts the result back.
    await Deno.writeTextFile(copy, "mine!");
    await exportOutputs(store, record, ["parse/notes.json"]);
    assert.equal(await Deno.readTextFile(copy), "notes");

    // --out gets its copy too, whatever the store's copy is.
    const out = `${root}/elsewhere`;
    await exportOutputs(store, record, ["parse/notes.json"], out);
    assert.equal(await Deno.readTextFile(`${out}/notes.json`), "notes");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
