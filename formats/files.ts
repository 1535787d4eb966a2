/**
 * The lists of files the first stages pass on: the dataset files scan found and sample200 drew
 * (`files.json`), and what parse made of each (`parse_report.json`).
 *
 * @module
 */
import { type Codec, jsonCodec } from "./codec.ts";

/** A dataset file: its path relative to `dataset.dir` (with `/`), size and sha256. */
export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

/** scan's and sample200's `files.json`: one entry a line, so two listings diff well. */
export const fileList: Codec<FileEntry[]> = jsonCodec<FileEntry[]>(
  "a list of {path, size, sha256} entries",
  (value) =>
    badEntry(
      value,
      (f) =>
        typeof f.path === "string" && typeof f.size === "number" && typeof f.sha256 === "string",
    ),
  (files) => `[\n${files.map((f) => JSON.stringify(f)).join(",\n")}\n]\n`,
);

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
