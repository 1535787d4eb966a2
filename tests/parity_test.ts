/**
 * Parity with music21 6.7.1: the tokenizer must give exactly the reference tokens for the 92
 * synthetic probes and the 40 Groove goldens in ../shared/references/music21, and the totals
 * SPEC.md §9.3 gives for all 1,150 Groove files.
 */
import assert from "node:assert/strict";
import { MidiReadError, parseMidi, tokenizeMidi } from "../music/tokenize.ts";

const REFERENCES = new URL("../../shared/references/music21/", import.meta.url);
const GROOVE = new URL("../data/groove/", import.meta.url);

interface Probe {
  file: string;
  probes: string;
  branch?: "partition" | "except";
  tokens: string[] | null;
  raises?: string;
}

const readJson = async <T>(url: URL): Promise<T> => JSON.parse(await Deno.readTextFile(url)) as T;

Deno.test("parseMidi() matches music21 6.7.1 on all 92 synthetic probes", async (t) => {
  const { files } = await readJson<{ files: Probe[] }>(
    new URL("synthetic/expected.json", REFERENCES),
  );
  assert.equal(files.length, 92);
  for (const probe of files) {
    await t.step(`${probe.file}: ${probe.probes}`, async () => {
      const bytes = await Deno.readFile(new URL(`synthetic/${probe.file}`, REFERENCES));
      if (probe.tokens === null) {
        assert.throws(() => parseMidi(bytes), MidiReadError, `music21 raises ${probe.raises}`);
        return;
      }
      const parsed = parseMidi(bytes);
      assert.deepEqual(parsed.elements.map((e) => e.token), probe.tokens);
      assert.equal(parsed.branch, probe.branch);
    });
  }
});

Deno.test("tokenizeMidi() matches music21 6.7.1 on the 40 Groove goldens", async () => {
  const golden = await readJson<{ files: Record<string, string[]> }>(
    new URL("groove-tokens.json", REFERENCES),
  );
  const paths = Object.keys(golden.files);
  assert.equal(paths.length, 40);
  const mismatched: string[] = [];
  for (const path of paths) {
    const got = tokenizeMidi(await Deno.readFile(new URL(path, GROOVE)));
    try {
      assert.deepEqual(got, golden.files[path]);
    } catch {
      mismatched.push(path);
    }
  }
  assert.deepEqual(mismatched, []);
});

Deno.test("parseMidi() matches music21's element offsets and durations in element-details.json", async () => {
  const details = await readJson<
    {
      files: Record<
        string,
        { elements: { cls: string; offset: string; quarterLength: string; midi: number[] }[] }
      >;
    }
  >(new URL("element-details.json", REFERENCES));
  const fraction = (x12: number) => {
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    const g = gcd(x12, 12);
    return x12 === 0 ? "0" : g === 12 ? `${x12 / 12}` : `${x12 / g}/${12 / g}`;
  };
  for (const [path, file] of Object.entries(details.files)) {
    const want = file.elements
      .filter((e) => e.cls === "Note" || e.cls === "Chord")
      .map((e) => [e.cls, e.offset, e.quarterLength, e.midi]);
    const got = parseMidi(await Deno.readFile(new URL(path, GROOVE))).elements
      .map((e) => [e.cls, fraction(e.offset12), fraction(e.duration12), e.midi]);
    assert.deepEqual(got, want, path);
  }
});

Deno.test("tokenizeMidi() gives 313,741 tokens over all 1,150 Groove files, none empty", async () => {
  const paths: string[] = [];
  const walk = async (dir: URL, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
      else if (/\.midi?$/i.test(entry.name)) paths.push(`${prefix}${entry.name}`);
    }
  };
  await walk(GROOVE, "");
  assert.equal(paths.length, 1150);
  let total = 0;
  const empty: string[] = [];
  for (const path of paths) {
    const tokens = tokenizeMidi(await Deno.readFile(new URL(path, GROOVE)));
    total += tokens.length;
    if (tokens.length === 0) empty.push(path);
  }
  assert.deepEqual(empty, []);
  assert.equal(total, 313741);
});
