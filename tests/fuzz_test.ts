/**
 * Hostile input: 5,000 seeded mutations of the Groove files (see tests/_fuzz.ts) each give a
 * token list or a MidiReadError, never another exception, a hang or a blow-up in memory.
 */
import assert from "node:assert/strict";
import { MidiReadError, tokenizeMidi } from "../music/tokenize.ts";
import { mutants } from "./_fuzz.ts";
import { GROOVE } from "./_helpers.ts";

const FILES = 5000;
const BATCH = 500;
/** Generous bounds per batch of 500 (a batch takes about a second here). */
const BATCH_SECONDS = 30;
const MAX_RSS = 1 << 30;

/** Every Groove file, by path under data/groove. */
function grooveFiles(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(`${GROOVE}/${dir}`)) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (/\.midi?$/i.test(entry.name)) {
        out.push({ name: path, bytes: Deno.readFileSync(`${GROOVE}/${path}`) });
      }
    }
  };
  walk("");
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

Deno.test("5,000 mutated MIDI files each give tokens or a MidiReadError, in bounded time and memory", () => {
  let tokenized = 0;
  let refused = 0;
  let batchStart = performance.now();
  const started = batchStart;
  let index = 0;
  for (const { name, bytes } of mutants(grooveFiles(), FILES, 20240601, 4)) {
    try {
      const tokens = tokenizeMidi(bytes);
      assert.ok(tokens.every((t) => typeof t === "string"), `#${index} ${name}`);
      tokenized++;
    } catch (e) {
      if (!(e instanceof MidiReadError)) {
        throw new Error(`fuzz input #${index} (${name}) threw ${(e as Error).stack}`);
      }
      refused++;
    }
    if (++index % BATCH === 0) {
      const seconds = (performance.now() - batchStart) / 1000;
      const rss = Deno.memoryUsage().rss;
      assert.ok(seconds < BATCH_SECONDS, `files ${index - BATCH}–${index} took ${seconds} s`);
      assert.ok(rss < MAX_RSS, `${rss} bytes resident after ${index} files`);
      batchStart = performance.now();
    }
  }
  assert.equal(tokenized + refused, FILES);
  // Both outcomes are well represented, so the mutations reach past the header.
  assert.ok(
    tokenized > FILES / 5 && refused > FILES / 5,
    `${tokenized} tokenized, ${refused} refused`,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `fuzz: ${FILES} files, ${tokenized} tokenized, ${refused} MidiReadError, ${seconds} s`,
  );
});
