/**
 * One writer per stage key: two runs that need the same stage compute it once, the second
 * waiting and then taking the first one's result from the cache.
 *
 * A lock is an exclusive `flock` on `<store>/locks/<key>.lock`. The kernel releases it when its
 * process ends, however it ends (kill -9 included), so a lock whose process is gone is taken
 * over without any guesswork about pids or clocks. The file's text (host, pid, start time) is
 * what a waiting run shows to say what it waits for.
 *
 * The holder removes the file when it is done. A waiter may by then hold a lock on the removed
 * file, so after locking it checks that the path still names the file it locked, and starts over
 * if not; that is what makes removing lock files safe.
 *
 * @module
 */
import { hostname } from "node:os";

import type { HeldLock, LockHolder } from "../core/storage.ts";
import { sleep } from "../core/sleep.ts";

/** How often a waiting run tries the lock again. */
const POLL_MS = 200;

/**
 * Takes the exclusive lock at `path`, waiting while another process holds it.
 *
 * @param onWait called once, when the lock is found held, with what the holder wrote
 * @param signal stops the wait (the lock is then not taken and the signal's reason is thrown)
 */
export async function acquireLock(
  path: string,
  onWait: (holder: LockHolder | undefined) => void,
  signal?: AbortSignal,
): Promise<HeldLock> {
  let waited = false;
  for (;;) {
    signal?.throwIfAborted();
    const file = await Deno.open(path, { read: true, write: true, create: true });
    let locked = false;
    try {
      locked = await file.tryLock(true);
      if (locked && (await sameFile(file, path))) {
        const holder: LockHolder = {
          host: hostname(),
          pid: Deno.pid,
          startedAt: new Date().toISOString(),
        };
        await file.truncate(0);
        await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
        return { release: () => release(file, path) };
      }
    } catch (e) {
      file.close();
      throw e;
    }
    // Held by another process, or we locked a file its holder had just removed.
    if (locked) await file.unlock();
    file.close();
    if (!locked && !waited) {
      waited = true;
      onWait(await readHolder(path));
    }
    await sleep(POLL_MS, signal);
  }
}

/** What the lock file at `path` says about its holder, if it can be read. */
export async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const value = JSON.parse(await Deno.readTextFile(path));
    return typeof value?.pid === "number" ? value as LockHolder : undefined;
  } catch {
    return undefined;
  }
}

async function release(file: Deno.FsFile, path: string): Promise<void> {
  // Remove first, then unlock: a waiter that then locks the removed file sees that the path no
  // longer names it and starts over.
  await Deno.remove(path).catch(() => {});
  await file.unlock().catch(() => {});
  file.close();
}

/** True when `path` still names the open `file` (same device and inode). */
async function sameFile(file: Deno.FsFile, path: string): Promise<boolean> {
  try {
    const [a, b] = [await file.stat(), await Deno.stat(path)];
    return a.dev === b.dev && a.ino === b.ino;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
