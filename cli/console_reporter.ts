/**
 * The terminal's view of a run: a line per stage event on stdout, warnings on stderr, progress
 * bars drawn when stderr is a terminal and plain lines otherwise; control characters in a message
 * (a file named with terminal escapes) are shown escaped. The runner reports events; the
 * words and glyphs are chosen here.
 *
 * @module
 */
import type { Reporter, RunEvent } from "../core/runner.ts";
import { startProgress } from "./progress.ts";
import { terminalText } from "./terminal_text.ts";

/** A reporter that prints to the console; `quiet` keeps only warnings. */
export function consoleReporter(quiet = false): Reporter {
  const tty = Deno.stderr.isTerminal() && !quiet;
  const out = (text: string) => {
    if (!quiet) console.log(text);
  };
  // Messages name files from outside (a dataset's names, a MIDI file's bytes): each is one line,
  // with its control characters shown, not obeyed (cli/terminal_text.ts).
  return {
    event: (e) => out(terminalText(describeEvent(e))),
    info: (stage, text) => out(terminalText(`  ${stage}: ${text}`)),
    warn: (stage, text) => console.error(terminalText(`warning: ${stage}: ${text}`)),
    progress: (label, total) =>
      startProgress(terminalText(label), total, tty, (l) => out(`  ${l}`)),
  };
}

/** One line for a run event, e.g. `✔ parse: cached (key 0a8cb1a2bb92)`. */
export function describeEvent(e: RunEvent): string {
  switch (e.type) {
    case "running":
      return `▶ ${e.stage}: running (key ${e.key.slice(0, 12)})`;
    case "cached":
      return e.waited
        ? `✔ ${e.stage}: cached, computed by the run it waited for`
        : `✔ ${e.stage}: cached (key ${e.key.slice(0, 12)})`;
    case "done":
      return `✔ ${e.stage}: done in ${e.seconds.toFixed(2)}s`;
    case "waiting": {
      const h = e.holder;
      const who = h === undefined
        ? ""
        : ` (pid ${h.pid} on ${h.host}, since ${h.startedAt.slice(11, 19)} UTC)`;
      return `… ${e.stage}: waiting for another run computing it${who}`;
    }
    case "skipped":
      return `✘ not run: ${e.stages.join(", ")}`;
  }
}
