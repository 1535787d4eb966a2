/**
 * `deno task tokens FILE.mid ...`: prints one JSON object that maps each path, exactly as
 * given, to its token list as the tutorial's music21 6.7.1 code gives it (or, with
 * `--encoding drum-grid`, as the drum-grid encoding does at sixteenths), or to
 * `{"error": "..."}` when the file cannot be read, is not a regular file (a folder, a FIFO,
 * `/dev/zero`: refused unread), is larger than the pipeline's default `parse.maxFileBytes`
 * (16 MiB, which bounds the tokenizer's memory and time; no more than that is ever read), or
 * music21 could not parse it. The whole object is always printed; the exit status is 1 if any file failed, 2
 * for no arguments.
 *
 * @module
 */
import { defaultConfig } from "../formats/config_schema.ts";
import { describeNotCapable } from "../core/fs_errors.ts";
import { FileTooLargeError, NotRegularFileError, readRegularFile } from "../core/regular_file.ts";
import type { TokenEncoding } from "../formats/tokens.ts";
import { tokenizeFile } from "../music/encoding.ts";

/** The usage line. */
export const USAGE =
  "usage: deno task tokens [--encoding music21|drum-grid] FILE.mid [FILE.mid ...]";

/** The largest file tokenized: the pipeline's default `parse.maxFileBytes`. */
export const MAX_FILE_BYTES = defaultConfig().parse.maxFileBytes;

/** Token lists (or errors) by path, in argument order. */
export type TokensReport = Record<string, string[] | { error: string }>;

/** A short reason for a failed read: Deno's messages carry the syscall and path. */
function describeReadError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (e instanceof NotRegularFileError) {
    return `it is not a regular file (it is ${e.kind}); give a MIDI file`;
  }
  if (e instanceof Deno.errors.NotCapable) return describeNotCapable(e);
  return (e as Error).message;
}

/** The error of a file over {@link MAX_FILE_BYTES} (its size, when its stat told it). */
const tooLarge = (path: string, size: number | undefined) =>
  `Cannot tokenize ${path}: it ${
    size === undefined ? "holds more than" : `is ${size} bytes, over`
  } the limit of ${MAX_FILE_BYTES} bytes (16 MiB, the pipeline's parse.maxFileBytes)`;

/**
 * Tokenizes each file.
 *
 * @param paths the files, as given on the command line
 * @param readFile how to read a file, at most {@link MAX_FILE_BYTES} of it (only a regular file,
 *   in the CLI)
 * @param encoding music21's tokens (the default) or the drum grid's (`parse.encoding`)
 * @returns the report and whether any file failed
 */
export async function tokensReport(
  paths: readonly string[],
  readFile: (path: string) => Promise<Uint8Array> = (p) => readRegularFile(p, MAX_FILE_BYTES),
  encoding: TokenEncoding = { encoding: "music21", stepsPerQuarter: 4, velocity: "off" },
): Promise<{ report: TokensReport; failed: boolean }> {
  const report: TokensReport = {};
  let failed = false;
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      report[path] = {
        error: e instanceof FileTooLargeError
          ? tooLarge(path, e.size)
          : `Cannot read ${path}: ${describeReadError(e)}`,
      };
      failed = true;
      continue;
    }
    if (bytes.length > MAX_FILE_BYTES) {
      report[path] = { error: tooLarge(path, bytes.length) };
      failed = true;
      continue;
    }
    try {
      report[path] = tokenizeFile(bytes, encoding).tokens;
    } catch (e) {
      report[path] = { error: (e as Error).message };
      failed = true;
    }
  }
  return { report, failed };
}

if (import.meta.main) {
  const args = [...Deno.args];
  let encoding: TokenEncoding["encoding"] = "music21";
  const at = args.indexOf("--encoding");
  if (at >= 0) {
    const value = args[at + 1];
    if (value !== "music21" && value !== "drum-grid") {
      console.error(
        `--encoding takes music21 or drum-grid (found ${value ?? "nothing"})\n${USAGE}`,
      );
      Deno.exit(2);
    }
    encoding = value;
    args.splice(at, 2);
  }
  if (args.length === 0) {
    console.error(USAGE);
    Deno.exit(2);
  }
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const { report, failed } = await tokensReport(args, undefined, {
    encoding,
    stepsPerQuarter: 4,
    velocity: "off",
  });
  console.log(JSON.stringify(report));
  Deno.exit(failed ? 1 : 0);
}
