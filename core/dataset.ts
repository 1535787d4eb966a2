/**
 * Read-only access to the dataset folder for the stages that declare `readsDataset`, and the
 * stat listing (path, size, mtime) whose digest joins their keys, as git's index and DVC's state
 * database do: a touched or edited file makes scan stale; content digests decide the rest.
 *
 * core/file_digests.ts remembers each file's sha256 by its stat, so that a scan after a few
 * files changed reads only those (DECISIONS.md 10).
 *
 * @module
 */
import { PipelineError } from "./errors.ts";
import { describeNotCapable } from "./fs_errors.ts";
import type { DatasetEntry } from "./stage.ts";

/** One file of the dataset with its modification time. */
export interface StatEntry extends DatasetEntry {
  mtimeMs: number;
}

/**
 * Lists every file under `dir`, recursively, sorted by path; a clear error if `dir` is missing
 * or cannot be read. Symlinks are not followed (a link could lead out of the folder, or round in
 * a loop): the paths of those that lead to a MIDI file or a folder go to `symlinks`, when given,
 * for the runner to warn about.
 *
 * The walk uses the synchronous calls on purpose: every run lists the whole dataset to decide
 * whether scan is fresh, and an awaited `Deno.stat` costs a round trip through the runtime's
 * thread pool. On 100,000 files (2 vCPUs) the awaited walk took 7.8 s, this one 1.0 s.
 */
export async function listDataset(
  dir: string,
  configPath: string,
  symlinks?: string[],
): Promise<StatEntry[]> {
  const where = `${configPath}: dataset.dir ${dir}`;
  const point = "point dataset.dir at the folder of MIDI files";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new PipelineError(`${where} cannot be read: ${describeNotCapable(e)}; ${point}`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new PipelineError(`${where} cannot be read (permission denied); ${point}`);
    }
    throw new PipelineError(
      `${where} does not exist; put the Groove MIDI files there (see README, "The dataset") or point dataset.dir at them`,
    );
  }
  if (!info.isDirectory) {
    throw new PipelineError(`${where} is not a folder; ${point}`);
  }
  const out: StatEntry[] = [];
  const walk = (rel: string) => {
    const folder = rel === "" ? dir : `${dir}/${rel}`;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(folder)];
    } catch (e) {
      // `dataset.dir=/` reaches /proc, which Deno refuses without --allow-all.
      if (e instanceof Deno.errors.NotCapable) {
        throw new PipelineError(`${where} cannot be read: ${describeNotCapable(e)}; ${point}`);
      }
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new PipelineError(
          `${where}: the folder ${folder} cannot be read (permission denied); ${point}`,
        );
      }
      throw e;
    }
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.isFile) {
        const st = Deno.statSync(`${dir}/${path}`);
        out.push({ path, size: st.size, mtimeMs: st.mtime?.getTime() ?? 0 });
      } else if (e.isSymlink && symlinks !== undefined && mayHoldMidi(`${dir}/${path}`)) {
        symlinks.push(path);
      }
    }
  };
  walk("");
  symlinks?.sort();
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** True for a symlink named as a MIDI file, or leading to a folder: what a user meant to include. */
function mayHoldMidi(link: string): boolean {
  if (/\.midi?$/i.test(link)) return true;
  try {
    return Deno.statSync(link).isDirectory;
  } catch {
    return false; // dangling, or somewhere Deno may not look
  }
}

/** The warning for symlinks {@link listDataset} skipped: how many, the first few, and why. */
export function symlinksWarning(dir: string, symlinks: readonly string[]): string {
  const n = symlinks.length;
  const shown = symlinks.slice(0, 3).join(", ");
  const more = n > 3 ? ` and ${n - 3} more` : "";
  return `${n} symlink${n === 1 ? "" : "s"} in dataset.dir ${dir} skipped (${shown}${more}): ` +
    `symlinks are not followed; copy the files in, or point dataset.dir at the folder they link to`;
}

/** Reads one dataset file; refuses paths that leave the folder. */
export function readDatasetFile(dir: string, path: string): Promise<Uint8Array> {
  checkInside(path);
  return Deno.readFile(`${dir}/${path}`);
}

export function checkInside(path: string): void {
  if (path.startsWith("/") || path.split("/").includes("..")) {
    throw new PipelineError(`Cannot read ${path}: dataset paths must stay inside dataset.dir`);
  }
}
