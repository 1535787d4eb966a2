/**
 * The folders a run touches must stay apart, checked before any stage runs:
 *
 * - **store and dataset**: a dataset inside the store lies where gc removes what no run needs
 *   (out/, partial/), and a store inside the dataset is scanned as data, so each run trains on
 *   the last run's generated MIDI and nothing is ever cached.
 * - **`--out` and the store**: the store owns every name inside it; files copied into objects/
 *   or keys/ make `verify` and `gc` fail.
 * - **`--out` and the dataset**: the next scan would take the exported piece for data.
 *
 * Paths are compared after resolving symlinks (of the part that exists), so a link does not hide
 * an overlap. Refusing is plainer than excluding the store from the scan: a dataset inside a
 * store is lost to gc, and a user who put one there wants to know.
 *
 * @module
 */
import { basename, dirname, join, resolve, sep } from "node:path";
import { ConfigError, UsageError } from "./errors.ts";

/**
 * Refuses a store and a dataset folder that overlap (one inside the other, or the same).
 * @throws {ConfigError} naming both folders
 */
export async function checkStoreAndDataset(
  store: string,
  dataset: string,
  configPath: string,
): Promise<void> {
  const [s, d] = await Promise.all([realish(store), realish(dataset)]);
  if (!inside(s, d) && !inside(d, s)) return;
  const how = s === d
    ? "are the same folder"
    : inside(s, d)
    ? "overlap: the store is inside the dataset, so scan would train on the store's own output"
    : "overlap: the dataset is inside the store, where gc removes what no run needs";
  throw new ConfigError(
    `${configPath}: the store ${store} and dataset.dir ${dataset} ${how}; keep them apart (another --store, or dataset.dir outside the store)`,
  );
}

/**
 * Refuses an `--out` folder inside the store or the dataset (or the same as either).
 * @throws {UsageError} naming both folders
 */
export async function checkOutDir(out: string, store: string, dataset: string): Promise<void> {
  const o = await realish(out);
  if (inside(o, await realish(store))) {
    throw new UsageError(
      `--out ${out} is inside the store ${store}, whose folders only the pipeline writes; give --out a folder outside it`,
    );
  }
  if (inside(o, await realish(dataset))) {
    throw new UsageError(
      `--out ${out} is inside dataset.dir ${dataset}, so the next run would train on its own output; give --out a folder outside it`,
    );
  }
}

/** True when `path` is `folder` or lies inside it (both absolute and resolved). */
function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * `path` absolute, with symlinks resolved in the part of it that exists (a store or an --out
 * folder may not exist yet).
 */
async function realish(path: string): Promise<string> {
  const missing: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(await Deno.realPath(at), ...missing.reverse());
    } catch (e) {
      const parent = dirname(at);
      if (!(e instanceof Deno.errors.NotFound) || parent === at) return resolve(path);
      missing.push(basename(at));
      at = parent;
    }
  }
}
