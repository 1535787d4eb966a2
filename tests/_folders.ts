/**
 * Folders for the dataset and digest tests: files with an mtime a day ago, removed after each
 * test.
 *
 * @module
 */

/** Folders made by {@link dataset}, removed after each test. */
const made: string[] = [];

/** A dataset folder of `files` (path → text), each file's mtime a day ago. */
export async function dataset(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dataset-test-" });
  made.push(dir, `${dir}.digests.json`);
  for (const [path, text] of Object.entries(files)) await write(dir, path, text);
  return dir;
}

/** Deno.test, then the folders it made are removed. */
export function test(name: string, fn: (t: Deno.TestContext) => Promise<void>) {
  Deno.test(name, async (t) => {
    try {
      await fn(t);
    } finally {
      for (const path of made.splice(0)) {
        await Deno.remove(path, { recursive: true }).catch(() => {});
      }
    }
  });
}

export const DAY_AGO = new Date(Date.now() - 86_400_000);

export async function write(dir: string, path: string, text: string, mtime = DAY_AGO) {
  await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeTextFile(`${dir}/${path}`, text);
  await Deno.utime(`${dir}/${path}`, mtime, mtime);
}
