/**
 * `deno task pipeline gc [--keep-last N] [--dry-run]`: frees what no kept run needs and says how
 * much.
 *
 * @module
 */
import { warn } from "./terminal_text.ts";
import type { CliArgs } from "./args.ts";
import { formatBytes } from "../report/text.ts";
import { collectGarbage } from "../store/gc.ts";
import type { Store } from "../core/storage.ts";

/** Runs gc on the store and prints what it removed (or would remove). */
export async function gcCommand(args: CliArgs, store: Store): Promise<number> {
  const r = await collectGarbage(store, {
    keepLast: args.keepLast,
    dryRun: args.dryRun,
    onStray: (path, why) => warn(`skipped ${path}: it is not a run record (${why})`),
  });
  const size = formatBytes(r.objectBytes);
  const verb = args.dryRun ? "would remove" : "removed";
  console.log(
    `gc ${verb} ${r.runs.length} run${r.runs.length === 1 ? "" : "s"}${
      r.runs.length ? ` (${r.runs.join(", ")})` : ""
    }, ${r.objects} objects (${size}), ${r.keys} cache entries, ${r.partial} partial, ${r.exports} exports, ${r.pages} compare pages`,
  );
  return 0;
}
