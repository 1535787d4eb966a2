/**
 * The lists of files the first stages pass on: the dataset files scan found and sample200 drew
 * (`files.json`), and what parse made of each (`parse_report.json`); and the dataset's own split
 * table (`dataset.split`, a CSV file such as Groove's info.csv) that scan reads.
 *
 * @module
 */
import { type Codec, FormatError, jsonCodec } from "./codec.ts";

/** The splits a `dataset.split` table may name. */
export const SPLITS = ["train", "validation", "test"] as const;
/** One of {@link SPLITS}. */
export type Split = (typeof SPLITS)[number];

/**
 * A dataset file: its path relative to `dataset.dir` (with `/`), size and sha256; with
 * `dataset.split`, the split the table puts it in, and its `style` and `bpm` where the table has
 * those columns (absent, not undefined, otherwise: an entry without them is written as before).
 */
export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
  split?: Split;
  style?: string;
  bpm?: number;
}

/** A style's primary style, as the humanizer learns it: `funk/groove1` → `funk`. */
export function primaryStyle(style: string): string {
  return style.split("/")[0]!.trim();
}

/** Each listed file's primary style, by path (undefined for a file without one). */
export function styleLookup(files: readonly FileEntry[]): (path: string) => string | undefined {
  const styles = new Map(files.map((f) => [f.path, f.style && primaryStyle(f.style)]));
  return (path) => styles.get(path) || undefined;
}

/** The primary styles of `files` (the split table's style column), sorted. */
export function styleNames(files: readonly FileEntry[]): string[] {
  return [...new Set(files.flatMap((f) => (f.style ? [primaryStyle(f.style)] : [])))].sort();
}

/** scan's and sample200's `files.json`: one entry a line, so two listings diff well. */
export const fileList: Codec<FileEntry[]> = jsonCodec<FileEntry[]>(
  "a list of {path, size, sha256} entries",
  (value) =>
    badEntry(
      value,
      (f) =>
        typeof f.path === "string" && typeof f.size === "number" &&
        typeof f.sha256 === "string" &&
        (f.split === undefined || (SPLITS as readonly unknown[]).includes(f.split)) &&
        (f.style === undefined || typeof f.style === "string") &&
        (f.bpm === undefined || typeof f.bpm === "number"),
    ),
  (files) => `[\n${files.map((f) => JSON.stringify(f)).join(",\n")}\n]\n`,
);

/** A `dataset.split` table as read: its header and rows, each a record column → value. */
export interface SplitTable {
  columns: string[];
  rows: Record<string, string>[];
}

/**
 * Reads a CSV table with a header row (RFC 4180: quoted fields may hold commas, quotes doubled,
 * line breaks; CRLF or LF; a UTF-8 byte order mark is skipped), as Groove's info.csv. Blank
 * lines are skipped; a row shorter than the header has "" for the missing columns.
 *
 * @throws {FormatError} when the bytes are not UTF-8 or a quote is left open
 */
export function parseSplitTable(bytes: Uint8Array): SplitTable {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new FormatError("it is not UTF-8 text");
  }
  const records = csvRecords(text);
  const header = records.shift()?.map((c) => c.trim()) ?? [];
  const rows = records.map((fields) =>
    Object.fromEntries(header.map((column, i) => [column, fields[i] ?? ""]))
  );
  return { columns: header, rows };
}

/** The records of CSV text, blank lines left out. */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = "";
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== "") records.push(fields);
    fields = [];
    field = "";
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && field === "") {
      // A quoted field: to the closing quote, "" standing for one quote.
      const start = i;
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new FormatError(`a quote opened at character ${start} is never closed`);
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else if (c === ",") {
      fields.push(field);
      field = "";
      i++;
    } else if (c === "\n" || c === "\r") {
      endRecord();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== "" || fields.length > 0) endRecord();
  return records;
}

/** What parse made of one file: its token count, or why it was skipped. */
export type ParsedFile =
  | { path: string; sha256: string; tokens: number }
  | { path: string; sha256: string; error: string };

/** parse's `parse_report.json`. */
export const parseReport: Codec<ParsedFile[]> = jsonCodec<ParsedFile[]>(
  "a list of {path, sha256, tokens or error} entries",
  (value) =>
    badEntry(value, (f) =>
      typeof f.path === "string" && typeof f.sha256 === "string" &&
      (typeof f.tokens === "number" || typeof f.error === "string")),
);

/** What is wrong with a list whose entries must pass `ok`, or undefined. */
function badEntry(
  value: unknown,
  ok: (entry: Record<string, unknown>) => boolean,
): string | undefined {
  if (!Array.isArray(value)) return "it is not a list";
  const bad = value.findIndex((f) => typeof f !== "object" || f === null || !ok(f));
  return bad === -1 ? undefined : `entry ${bad} is ${JSON.stringify(value[bad])}`;
}
