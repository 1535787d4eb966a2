/**
 * scan: every .mid/.midi file under `dataset.dir`, recursively, with its size and sha256. The
 * digests go downstream, so an edited file changes the inputs of exactly the stages that read it.
 * A file whose stat is unchanged since an earlier scan is not read again (the context's
 * `datasetDigest`, core/runner.ts).
 *
 * With `dataset.split` (a CSV table in the dataset folder, as Groove's info.csv), each file the
 * table names gets its `split` (train, validation or test), and its `style` and `bpm` where the
 * table has those columns. The table is a file of the dataset folder, so its stat is in the
 * dataset listing that keys this stage: editing it makes scan run again.
 *
 * @module
 */
import { type DatasetEntry, defineStage, StageInputError } from "../core/stage.ts";
import {
  type FileEntry,
  fileList,
  parseSplitTable,
  type Split,
  SPLITS,
  type SplitTable,
} from "../formats/files.ts";
import { FormatError } from "../formats/codec.ts";
import { sha256Hex } from "../core/hash.ts";

/** What counts as a MIDI file. */
const MIDI_FILE = /\.midi?$/i;

/**
 * Files hashed at once: the reads overlap in the runtime's thread pool while this thread
 * hashes (a cold scan of 100,000 files went from 46 to 29 µs a read), and a batch is small
 * enough that Ctrl-C, seen between batches, stops the stage at once.
 */
const BATCH = 32;

export const scan = defineStage({
  name: "scan",
  module: import.meta.url,
  description: "lists the dataset's MIDI files with their sha256",
  inputs: {},
  outputs: { "files.json": fileList },
  reads: ["dataset"],
  readsDataset: true,
  check(config) {
    const path = config.dataset.split;
    if (path !== "" && (path.startsWith("/") || path.split("/").includes(".."))) {
      throw new Error(
        `dataset.split ${path} must be a path inside dataset.dir, relative to it (such as info.csv)`,
      );
    }
  },
  async run(_inputs, config, ctx) {
    const listing = await ctx.listDataset();
    const midi = listing.filter((e) => MIDI_FILE.test(e.path));
    if (midi.length === 0) {
      throw new StageInputError(
        `dataset.dir ${config.dataset.dir} holds no .mid or .midi files; put the Groove MIDI files there (see README, "The dataset")`,
      );
    }
    // The table is read first, so a wrong dataset.split stops scan before it hashes anything.
    const table = config.dataset.split === ""
      ? undefined
      : await readSplitTable(config.dataset, listing, ctx.readDataset);
    const bar = ctx.progress("hashing", midi.length);
    const files: FileEntry[] = [];
    for (let i = 0; i < midi.length; i += BATCH) {
      ctx.signal.throwIfAborted();
      const batch = midi.slice(i, i + BATCH);
      const digests = await Promise.all(
        batch.map(async (e) =>
          await ctx.datasetDigest?.(e.path) ?? sha256Hex(await ctx.readDataset(e.path))
        ),
      );
      batch.forEach(({ path, size }, j) => files.push({ path, size, sha256: digests[j]! }));
      bar.tick(batch.length);
    }
    bar.done();
    ctx.metric("files", files.length);
    if (table === undefined) return { "files.json": files };
    const split = applySplit(files, table, config.dataset.split);
    for (const warning of split.warnings) ctx.warn(warning);
    for (const name of SPLITS) ctx.metric(`${name}Files`, split.counts[name]);
    return { "files.json": split.files };
  },
});

/** The most bytes of a split table read (Groove's info.csv is 200 KB). */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

/** Reads and checks the `dataset.split` table; a missing file or column is one sentence. */
async function readSplitTable(
  dataset: { dir: string; split: string },
  listing: readonly DatasetEntry[],
  read: (path: string) => Promise<Uint8Array>,
): Promise<SplitTable> {
  const where = `dataset.split ${dataset.split}`;
  const entry = listing.find((e) => e.path === dataset.split.replace(/^(\.\/)+/, ""));
  if (entry === undefined) {
    throw new StageInputError(
      `${where} is not a file in dataset.dir ${dataset.dir} (the path is relative to dataset.dir); fix the path or set dataset.split to ""`,
    );
  }
  if (entry.size > MAX_TABLE_BYTES) {
    throw new StageInputError(
      `${where} is ${entry.size} bytes, over the limit of ${MAX_TABLE_BYTES}; give the split table, a CSV file`,
    );
  }
  let table: SplitTable;
  try {
    table = parseSplitTable(await read(entry.path));
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    throw new StageInputError(`${where} cannot be read as a CSV table: ${e.message}`);
  }
  const lacking = ["midi_filename", "split"].filter((c) => !table.columns.includes(c));
  if (lacking.length > 0) {
    const header = table.columns.length === 0
      ? "it has no header row"
      : `its header row names ${table.columns.slice(0, 12).join(", ")}${
        table.columns.length > 12 ? ", …" : ""
      }`;
    throw new StageInputError(
      `${where} has no ${lacking.join(" or ")} column (${header}); ` +
        `it needs a header row naming midi_filename (a path relative to dataset.dir) and split (train, validation or test)`,
    );
  }
  return table;
}

/** The scanned files with their split (and style, bpm), and what did not match, as warnings. */
export function applySplit(
  files: readonly FileEntry[],
  table: SplitTable,
  name: string,
): { files: FileEntry[]; warnings: string[]; counts: Record<Split, number> } {
  const where = `dataset.split ${name}`;
  const hasStyle = table.columns.includes("style");
  const hasBpm = table.columns.includes("bpm");
  const scanned = new Set(files.map((f) => f.path));
  const rows = new Map<string, Record<string, string>>();
  const missing: string[] = [];
  const repeated: string[] = [];
  for (const row of table.rows) {
    const path = row.midi_filename!.trim().replace(/^(\.\/)+/, "");
    if (!scanned.has(path)) missing.push(path === "" ? "(an empty midi_filename)" : path);
    else if (rows.has(path)) repeated.push(path);
    else rows.set(path, row);
  }
  const unnamed: string[] = [];
  const badSplit: string[] = [];
  const badBpm: string[] = [];
  const counts: Record<Split, number> = { train: 0, validation: 0, test: 0 };
  const out = files.map((f): FileEntry => {
    const row = rows.get(f.path);
    if (row === undefined) {
      unnamed.push(f.path);
      return f;
    }
    const split = row.split!.trim();
    if (!(SPLITS as readonly string[]).includes(split)) {
      badSplit.push(`${f.path} (${JSON.stringify(split)})`);
      return f;
    }
    counts[split as Split]++;
    const entry: FileEntry = { ...f, split: split as Split };
    if (hasStyle) entry.style = row.style!;
    if (hasBpm) {
      const bpm = row.bpm!.trim() === "" ? NaN : Number(row.bpm);
      if (Number.isFinite(bpm)) entry.bpm = bpm;
      else badBpm.push(`${f.path} (${JSON.stringify(row.bpm)})`);
    }
    return entry;
  });
  if (rows.size === 0) {
    throw new StageInputError(
      `${where} names none of the ${files.length} MIDI files in dataset.dir (its midi_filename paths must be relative to dataset.dir${
        missing.length > 0 ? `, such as ${missing[0]}` : ""
      }); fix the table or set dataset.split to ""`,
    );
  }
  const warnings: string[] = [];
  const warn = (list: string[], what: string) => {
    if (list.length > 0) warnings.push(`${few(list)} ${what}`);
  };
  warn(
    unnamed,
    `${
      unnamed.length === 1 ? "is a MIDI file" : "are MIDI files"
    } that ${where} does not name: in no split, left out`,
  );
  warn(
    missing,
    `${missing.length === 1 ? "is" : "are"} named in ${where} but not a MIDI file in dataset.dir: ${
      missing.length === 1 ? "its row" : "their rows"
    } left out`,
  );
  warn(
    badSplit,
    `${
      badSplit.length === 1 ? "has" : "have"
    } a split in ${where} other than train, validation or test: in no split, left out`,
  );
  warn(
    repeated,
    `${repeated.length === 1 ? "is" : "are"} named again in ${where}: the first row kept`,
  );
  warn(
    badBpm,
    `${
      badBpm.length === 1 ? "has" : "have"
    } a bpm in ${where} that is not a number: left without one`,
  );
  return { files: out, warnings, counts };
}

/** "3 files (a, b, c)" or "12 files (a, b, c and 9 more)". */
function few(list: readonly string[]): string {
  const shown = list.slice(0, 3).join(", ");
  const more = list.length > 3 ? ` and ${list.length - 3} more` : "";
  return `${list.length} file${list.length === 1 ? "" : "s"} (${shown}${more})`;
}
