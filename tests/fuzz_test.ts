/**
 * Hostile input: 5,000 seeded mutations of the Groove files (see tests/_fuzz.ts) each give a
 * token list or a MidiReadError, never another exception, a hang or a blow-up in memory; and the
 * tokens CLI refuses a file over the size limit while still printing the others.
 */
import assert from "node:assert/strict";
import { MAX_FILE_BYTES } from "../cli/tokens.ts";
import { SLOW_SHAPES } from "../music/_slow_shapes.ts";
import { MidiReadError, tokenizeMidi } from "../music/tokenize.ts";
import { mutants } from "./_fuzz.ts";
import { GROOVE, PROJECT_ROOT } from "./_helpers.ts";

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

Deno.test("the tokens CLI refuses a file over 16 MiB and still prints the others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokens-limit-" });
  const huge = `${dir}/huge.mid`;
  const small = `${dir}/small.mid`;
  await Deno.writeFile(huge, SLOW_SHAPES.programs(MAX_FILE_BYTES + 100));
  const smallBytes = SLOW_SHAPES.notes(100);
  await Deno.writeFile(small, smallBytes);
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "cli/tokens.ts", huge, small],
    cwd: PROJECT_ROOT,
    stdout: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.equal(code, 1);
  const report = JSON.parse(new TextDecoder().decode(stdout));
  assert.match(report[huge].error, /over the limit of 16777216 bytes \(16 MiB/);
  assert.deepEqual(report[small], tokenizeMidi(smallBytes));
});
