/**
 * Turns the operating system's errors into sentences a user can act on. Deno's own messages
 * ("No space left on device (os error 28): write '/x/.tmp-…'") name a syscall and a temp path,
 * not what the pipeline was doing or what to do about it.
 *
 * @module
 */

/** The errno code Deno attaches to a system error (`ENOSPC`, `EACCES`, …), if any. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** What went wrong, in words, for the system errors people meet with a store or an output folder. */
export function describeFsError(e: unknown): string {
  switch (errnoOf(e)) {
    case "ENOSPC":
      return "the disk is full";
    case "EDQUOT":
      return "the disk quota is used up";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the file system is read-only";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder";
    case "EEXIST":
      return "a file of that name is in the way";
    case "ENOENT":
      return "a part of the path does not exist";
    case "EIO":
      return "the disk reported an I/O error";
  }
  // Keep Deno's text but drop the "(os error N): syscall 'path'" tail, which names a temp file.
  return (e as Error).message.replace(/\s*\(os error \d+\).*$/s, "");
}

/** What to do about it, for the same errors. */
export function fsErrorAdvice(e: unknown): string {
  switch (errnoOf(e)) {
    case "ENOSPC":
    case "EDQUOT":
      return "free some space";
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return "check the folder's permissions";
  }
  return "check the path";
}

/** True for errors of the operating system (Deno gives each its errno code). */
export function isFsError(e: unknown): boolean {
  return errnoOf(e) !== undefined;
}

/**
 * The path Deno refused when its permission flags do not cover it (`Deno.errors.NotCapable`:
 * `/proc`, `/dev` and the like need `--allow-all`), or undefined for any other error.
 */
export function notCapablePath(e: unknown): string | undefined {
  if (!(e instanceof Deno.errors.NotCapable)) return undefined;
  const quoted = /"([^"]*)"/.exec(e.message)?.[1];
  return quoted?.replace(/\/{2,}/g, "/") ?? "a system path";
}

/**
 * Deno's refusal in words, without its advice to run again with `--allow-all`: the pipeline never
 * needs such a path, so the path given is the thing to change.
 */
export function describeNotCapable(e: unknown): string {
  return `Deno does not let the pipeline read ${
    notCapablePath(e) ?? "a system path"
  } (a system path such as /proc or /dev, which holds no MIDI files)`;
}
