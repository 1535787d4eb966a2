/**
 * Command-line parsing with node:util's parseArgs, turned into one typed value.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../core/errors.ts";

/** The commands of `deno task pipeline`. */
export const COMMANDS = [
  "run",
  "status",
  "runs",
  "show",
  "compare",
  "reproduce",
  "verify",
] as const;
export type Command = (typeof COMMANDS)[number];

/** Parsed command line. */
export interface CliArgs {
  command: Command;
  /** Positional arguments after the command (run ids for show/compare). */
  rest: string[];
  config?: string;
  set: string[];
  store: string;
  until?: string;
  force: string[];
  out?: string;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  help: boolean;
}

/** Parses argv; unknown flags and commands are usage errors. */
export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        set: { type: "string", multiple: true },
        store: { type: "string" },
        until: { type: "string" },
        force: { type: "string", multiple: true },
        out: { type: "string" },
        json: { type: "boolean" },
        verbose: { type: "boolean", short: "v" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  const [first, ...rest] = parsed.positionals;
  const command = (first ?? "run") as Command;
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command ${first}; commands: ${COMMANDS.join(", ")}`);
  }
  const v = parsed.values;
  return {
    command,
    rest,
    config: v.config,
    set: v.set ?? [],
    store: v.store ?? "artifacts",
    until: v.until,
    force: v.force ?? [],
    out: v.out,
    json: v.json ?? false,
    verbose: v.verbose ?? false,
    quiet: v.quiet ?? false,
    help: v.help ?? false,
  };
}

/** `--help` text. */
export const HELP = `Usage: deno task pipeline [COMMAND] [OPTIONS]

Commands:
  run (default)          run the DAG for --config; only stale stages execute
  status                 say which stages are cached or stale, and why (nothing runs)
  runs                   list recorded runs: config hash, date, status, final loss
  show HASH              show one run: config, stage keys, outputs, timings, metrics
  compare HASH HASH      put two runs side by side: config differences, metrics, loss
  reproduce HASH         rerun a recorded config in a fresh store; check every digest matches
  verify                 rehash every stored object; remove corrupt ones

Options:
  -c, --config FILE      config file (a bare name is looked up in configs/)
      --set KEY=VALUE    override a config key, e.g. --set train.epochs=2 (repeatable)
      --store DIR        artifact store (default: artifacts)
      --until STAGE      run only up to STAGE
      --force STAGE      rerun STAGE even if cached (repeatable)
      --out DIR          also copy the final outputs into DIR
      --json             machine-readable output (status, runs, show, compare)
  -q, --quiet            print only warnings, errors and the results
  -v, --verbose          print stack traces with errors
  -h, --help             this text`;
