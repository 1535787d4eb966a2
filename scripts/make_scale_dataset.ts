/**
 * Makes a large dataset for scale tests out of the Groove MIDI files in data/groove: N files,
 * 1,000 per folder (`part-000/`, `part-001/`, …), each a copy of one Groove file whose first
 * tempo event is moved by a few microseconds per quarter note, so that no two files have the same
 * bytes (and sha256) while every copy tokenizes as its original does (tokens count beats, not
 * seconds). The same N always gives the same files, byte for byte. A README in DIR credits the
 * Groove MIDI Dataset (CC BY 4.0), whose files these are.
 *
 * Usage:
 * `deno run --allow-read --allow-write scripts/make_scale_dataset.ts DIR [--count N] [--groove DIR]`
 * (default 100,000 files from data/groove). DIR must be missing, empty, or a folder this script
 * made (it then adds or overwrites files, and removes nothing).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { META_STATUS, readSmf } from "../music/smf.ts";

/** Files per folder: a folder of 100,000 entries is slow to list in most tools. */
export const FILES_PER_FOLDER = 1000;
const MARKER = "SCALE-DATASET.md";

/** The Groove files, sorted by path (relative to `dir`), so copy i is the same on every machine. */
async function grooveFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel === "" ? dir : `${dir}/${rel}`)) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && /\.midi?$/i.test(e.name)) out.push(path);
    }
  };
  await walk("");
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Where the 3-byte payload of the file's first tempo event starts. */
export function tempoOffset(bytes: Uint8Array, path: string): number {
  const { events } = readSmf(bytes);
  for (let i = 0; i < events.count; i++) {
    if (
      events.status[i] === META_STATUS && events.data1[i] === 0x51 &&
      events.payloadEnd[i]! - events.payloadStart[i]! === 3
    ) {
      return events.payloadStart[i]!;
    }
  }
  throw new Error(`${path} has no tempo event to vary`);
}

/**
 * Copy `round` of a file: its first tempo moved by `round` microseconds per quarter (0: the file
 * as it is). At 120 bpm that is 0.0002% per round, far below anything audible.
 */
export function variant(bytes: Uint8Array, offset: number, round: number): Uint8Array {
  const out = bytes.slice();
  const tempo = ((out[offset]! << 16) | (out[offset + 1]! << 8) | out[offset + 2]!) + round;
  if (tempo > 0xffffff) throw new RangeError(`Cannot vary the tempo by ${round}: it overflows`);
  out[offset] = tempo >> 16;
  out[offset + 1] = (tempo >> 8) & 0xff;
  out[offset + 2] = tempo & 0xff;
  return out;
}

/** The path (relative to DIR) of file `i`: its folder, its number and its original's name. */
export function scalePath(i: number, original: string): string {
  const folder = `part-${String(Math.floor(i / FILES_PER_FOLDER)).padStart(3, "0")}`;
  const name = original.replaceAll("/", "_");
  return `${folder}/${String(i).padStart(6, "0")}_${name}`;
}

const CREDIT = (count: number, sources: number) =>
  `# Scale-test dataset (generated)

${count.toLocaleString("en")} MIDI files made by \`scripts/make_scale_dataset.ts\` of the
deep-lstm-midi project from the ${sources.toLocaleString("en")} files of the Groove MIDI Dataset
v1.0.0: each file is a copy of one Groove file with its first tempo event moved by a few
microseconds per quarter note, so that every file has its own bytes. The music is the Groove
dataset's.

Groove MIDI Dataset by Jon Gillick, Adam Roberts, Jesse Engel, Douglas Eck and David Bamman
(Magenta, Google), "Learning to Groove with Inverse Sequence Transformations", ICML 2019.
https://magenta.tensorflow.org/datasets/groove

License: Creative Commons Attribution 4.0 International
(https://creativecommons.org/licenses/by/4.0/). These copies are modified as described above.
Credit the dataset and its authors wherever they are used or redistributed.
`;

/** Writes `count` files into `dir`, printing a progress line now and then. */
export async function makeScaleDataset(
  dir: string,
  count: number,
  groove: string,
  say: (line: string) => void = () => {},
): Promise<void> {
  let names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  names = names.filter((n) => n !== MARKER);
  const ours = names.every((n) => /^part-\d{3,}$/.test(n));
  if (!ours) {
    throw new Error(
      `Cannot write into ${dir}: it holds files this script did not make; give a new or empty folder`,
    );
  }
  const sources = await grooveFiles(groove);
  if (sources.length === 0) throw new Error(`Cannot read ${groove}: it holds no MIDI files`);
  const originals = await Promise.all(sources.map(async (path) => {
    const bytes = await Deno.readFile(`${groove}/${path}`);
    return { path, bytes, offset: tempoOffset(bytes, path) };
  }));
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/${MARKER}`, CREDIT(count, sources.length));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const source = originals[i % originals.length]!;
    const path = scalePath(i, source.path);
    if (i % FILES_PER_FOLDER === 0) {
      await Deno.mkdir(`${dir}/${path.slice(0, path.indexOf("/"))}`, { recursive: true });
    }
    const round = Math.floor(i / originals.length);
    Deno.writeFileSync(`${dir}/${path}`, variant(source.bytes, source.offset, round));
    if ((i + 1) % 10_000 === 0 || i + 1 === count) {
      const s = (performance.now() - t0) / 1000;
      say(`${i + 1}/${count} files · ${s.toFixed(1)} s`);
    }
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { count: { type: "string" }, groove: { type: "string" } },
  });
  const count = Number(values.count ?? 100_000);
  if (positionals.length !== 1 || !Number.isInteger(count) || count < 1) {
    console.error(
      "usage: deno run --allow-read --allow-write scripts/make_scale_dataset.ts DIR [--count N] [--groove DIR]",
    );
    Deno.exit(2);
  }
  const groove = values.groove ?? new URL("../data/groove", import.meta.url).pathname;
  await makeScaleDataset(positionals[0]!, count, groove, (line) => console.log(line));
}
