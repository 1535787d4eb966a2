/**
 * `compare HASH HASH [...]`: two or more runs side by side (report/comparison.ts). Prints the
 * config keys that differ, every metric, the loss per epoch and the generated pieces'
 * statistics beside the training data's; writes the loss curves of all the runs overlaid
 * (`curves.svg`) and an HTML page with the chart and the same tables
 * (`<store>/compare/<hash>-<hash>…/index.html`), which opens from file:// with no network.
 *
 * @module
 */
import { warn } from "./terminal_text.ts";
import type { CliArgs } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import type { Store } from "../core/storage.ts";
import { buildComparison, comparisonJson } from "../report/comparison.ts";
import { tryWriteComparePage } from "../report/compare_page.ts";
import { comparisonText } from "../report/compare_text.ts";
import { formatTable } from "../report/text.ts";
import { findRuns } from "./runs.ts";

/** Puts two or more runs side by side; writes the loss curves and the compare page. */
export async function compareCommand(args: CliArgs, store: Store): Promise<number> {
  if (args.rest.length < 2) {
    throw new UsageError("compare takes two or more config hashes (see `runs`)");
  }
  // The same run may be given twice (it is then its own baseline).
  const records = await findRuns(store, args.rest);
  const comparison = buildComparison(records);
  if (args.json) {
    const page = await tryWriteComparePage(store, comparison, warn);
    console.log(JSON.stringify(comparisonJson(records, comparison, page), null, 2));
    return 0;
  }
  console.log(comparisonText(comparison));
  const page = await tryWriteComparePage(store, comparison, warn);
  if (page !== undefined) {
    console.log();
    console.log(formatTable([["compare page", page.html], ["loss curves", page.svg]]));
  }
  return 0;
}
