/**
 * The final outputs of a run under their own names, where people look for them:
 * `<store>/out/<config-hash>/` always, and `--out DIR` when given. Copies, never moves: the
 * store keeps its objects, and a file in DIR is only ever replaced by a newer result of the same
 * name.
 *
 * @module
 */
import { PipelineError, UsageError } from "../core/errors.ts";
import { describeFsError, fsErrorAdvice, isFsError } from "../core/fs_errors.ts";
import type { RunRecord } from "../core/run_record.ts";
import { writeFileAtomic } from "../core/atomic_file.ts";
import type { Store } from "../core/storage.ts";

/**
 * Checks that `dir` can take the results before hours of work go into them (creating it if it
 * is missing).
 * @throws {UsageError} naming the folder when it is a file or cannot be written
 */
export async function prepareOutDir(dir: string): Promise<void> {
  try {
    const info = await Deno.stat(dir).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
    if (info !== undefined && !info.isDirectory) {
      throw new UsageError(`--out ${dir} is a file, not a folder: give --out a folder`);
    }
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.tmp-${crypto.randomUUID()}`;
    await Deno.writeFile(probe, new Uint8Array(0));
    await Deno.remove(probe);
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UsageError(
      `--out ${dir}: cannot write there (${describeFsError(e)}); ${
        fsErrorAdvice(e)
      } or choose another folder`,
      { cause: e },
    );
  }
}

/**
 * Copies the outputs named `stage/output` of a run into `<store>/out/<config-hash>/` and, when
 * given, `outDir`. Returns each copied output's path (in `outDir` when given).
 */
export async function exportOutputs(
  store: Store,
  record: RunRecord,
  names: readonly string[],
  outDir?: string,
): Promise<Record<string, string>> {
  const exported: Record<string, string> = {};
  const dirs = [store.pathOf("out", record.configHash), ...(outDir ? [outDir] : [])];
  for (const name of names) {
    const [stage, output] = name.split("/") as [string, string];
    const digest = record.stages[stage]?.outputs[output];
    if (digest === undefined) continue;
    // The store's own copy is rewritten only when it differs (a cached rerun of a run with a
    // 150 MB notes.json would otherwise copy and flush it every time).
    const current = await store.fileDigest(`out/${record.configHash}/${output}`) === digest;
    const targets = current ? dirs.slice(1) : dirs;
    if (targets.length > 0) {
      const bytes = await store.get(digest);
      // An empty output says "none here" (audio without a synthesizer): nothing to look for.
      if (bytes.length === 0) continue;
      await copyInto(targets, output, bytes);
    }
    exported[output] = `${dirs.at(-1)}/${output}`;
  }
  return exported;
}

/** Writes `bytes` as `output` into each of `dirs`; a failure is one sentence naming the folder. */
async function copyInto(dirs: string[], output: string, bytes: Uint8Array): Promise<void> {
  for (const dir of dirs) {
    await writeFileAtomic(`${dir}/${output}`, bytes).catch((e) => {
      if (!isFsError(e)) throw e;
      throw new PipelineError(
        `Cannot copy ${output} into ${dir}: ${describeFsError(e)}; ${
          fsErrorAdvice(e)
        } and run the same command again (every stage is kept, so nothing reruns)`,
        { cause: e },
      );
    });
  }
}
