/**
 * The terminal's view of a run: stage lines on stdout, warnings on stderr, progress bars drawn
 * when stderr is a terminal and plain lines otherwise.
 *
 * @module
 */
import { startProgress } from "../core/progress.ts";
import type { Reporter } from "../core/runner.ts";

/** A reporter that prints to the console; `quiet` keeps only warnings. */
export function consoleReporter(quiet = false): Reporter {
  const tty = Deno.stderr.isTerminal() && !quiet;
  const out = (text: string) => {
    if (!quiet) console.log(text);
  };
  return {
    line: out,
    info: (stage, text) => out(`  ${stage}: ${text}`),
    warn: (stage, text) => console.error(`warning: ${stage}: ${text}`),
    progress: (label, total) => startProgress(label, total, tty, (l) => out(`  ${l}`)),
  };
}
