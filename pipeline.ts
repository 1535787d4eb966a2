/**
 * The deep-LSTM MIDI pipeline's command line: the stages' DAG (stages/mod.ts) run by the caching
 * runner in core/, and the commands around it (cli/).
 *
 * Usage: `deno task pipeline --config deep-lstm.yaml` (see `--help`).
 *
 * @module
 */
import { main } from "./cli/main.ts";

if (import.meta.main) {
  // The DAG is imported only by the commands that run stages (see stages/mod.ts).
  Deno.exit(await main(Deno.args, async () => (await import("./stages/mod.ts")).PIPELINE));
}
