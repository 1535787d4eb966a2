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
  "sweep",
  "reproduce",
  "verify",
  "gc",
  "worker",
  "humanize",
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
  /** `runs --all`: every recorded run, not only the latest of each config. */
  all: boolean;
  /** `runs --last N`: only the N newest runs. */
  last?: number;
  /** `gc --keep-last N`: keep only the N configs that ran most recently. */
  keepLast?: number;
  /** `gc --dry-run`: say what would be removed, remove nothing. */
  dryRun: boolean;
  /** `sweep --grid KEY=V1,V2`: the values to try for a key (repeatable). */
  grid: string[];
  /** `sweep --jobs N`: how many combinations run at once (default 1). */
  jobs?: number;
  /** `--remote URL`: the shared store (NATS JetStream); also from $DLM_REMOTE or settings. */
  remote?: string;
  /** `--remote-required`: stop when the remote cannot be reached, instead of going on locally. */
  remoteRequired: boolean;
  /** `humanize --style NAME`: the style to play a pattern in. */
  style?: string;
  /** `sweep --queue`: put the combinations on the remote's work queue for workers. */
  queue: boolean;
  verbose: boolean;
  quiet: boolean;
  help: boolean;
}

/** The flags, as node:util's parseArgs takes them. */
const OPTIONS = {
  config: { type: "string", short: "c" },
  set: { type: "string", multiple: true },
  store: { type: "string" },
  until: { type: "string" },
  force: { type: "string", multiple: true },
  out: { type: "string" },
  json: { type: "boolean" },
  all: { type: "boolean" },
  "keep-last": { type: "string" },
  last: { type: "string" },
  "dry-run": { type: "boolean" },
  grid: { type: "string", multiple: true },
  jobs: { type: "string", short: "j" },
  remote: { type: "string" },
  "remote-required": { type: "boolean" },
  queue: { type: "boolean" },
  style: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** How many positional arguments each command takes. */
const ARITY: Record<Command, number> = {
  run: 0,
  status: 0,
  runs: 0,
  show: 1,
  compare: Infinity,
  sweep: 0,
  reproduce: 1,
  verify: 0,
  gc: 0,
  worker: 0,
  humanize: 2,
};

/** Parses argv; unknown flags and commands are usage errors. */
export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    const message = (e as Error).message.split("\n")[0]!;
    // parseArgs reports a flag given no value as "argument missing" or "ambiguous"; say so plainly.
    const flag = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument (?:is ambiguous|missing)/
      .exec(message)?.[1];
    throw new UsageError(flag ? `${flag} needs a value (see --help)` : `${message} (see --help)`);
  }
  const [command, rest] = commandOf(parsed.positionals);
  const v = parsed.values;
  // An unset shell variable (`--store "$STORE"`) must not mean the current folder or the root.
  for (const flag of ["store", "out", "config", "remote"] as const) {
    if (v[flag] === "") throw new UsageError(`--${flag} is empty; give it a path (see --help)`);
  }
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
    all: v.all ?? false,
    keepLast: wholeNumber("keep-last", v["keep-last"], 0, "give a whole number of runs, e.g. 5"),
    last: wholeNumber("last", v.last, 0, "give a whole number of runs, e.g. 5"),
    dryRun: v["dry-run"] ?? false,
    grid: v.grid ?? [],
    jobs: wholeNumber("jobs", v.jobs, 1, "give how many runs at once, a whole number ≥ 1"),
    remote: v.remote,
    remoteRequired: v["remote-required"] ?? false,
    queue: v.queue ?? false,
    style: v.style,
    verbose: v.verbose ?? false,
    quiet: v.quiet ?? false,
    help: v.help ?? false,
  };
}

/** The command (run unless given) and its arguments, checked against what it takes. */
function commandOf(positionals: string[]): [Command, string[]] {
  const [first, ...rest] = positionals;
  const command = (first ?? "run") as Command;
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command ${first}; commands: ${COMMANDS.join(", ")}`);
  }
  if (rest.length > ARITY[command]) {
    throw new UsageError(
      `${command} takes ${ARITY[command] || "no"} argument${
        ARITY[command] === 1 ? "" : "s"
      }, but got: ${rest.join(" ")}`,
    );
  }
  return [command, rest];
}

/** A flag's whole-number value of at least `min`, or undefined when not given. */
function wholeNumber(
  flag: string,
  text: string | undefined,
  min: number,
  hint: string,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} ${text}: ${hint}`);
  return n;
}

/** `--help` text. */
export const HELP = `Usage: deno task pipeline [COMMAND] [OPTIONS]

Commands:
  run (default)          run the DAG for --config; only stale stages execute
  status                 say which stages are cached or stale, and why (nothing runs)
  runs [--all] [--last N]
                         list recorded runs: hash, date, the settings that differ, loss,
                         the generated piece's statistics, duration (--all: every run
                         kept, failed and --until runs included; --last: the N newest)
  show HASH              show one run: config, stage keys, outputs, timings, metrics
  compare HASH HASH [HASH ...]
                         put two or more runs side by side: config differences, metrics,
                         loss per epoch, the generated piece's statistics beside the
                         training data's; writes <store>/compare/<hashes>/index.html
                         (the tables and the loss curves overlaid) and curves.svg
  sweep --config FILE --grid KEY=V1,V2 [--grid ...] [--jobs N]
                         run every combination of the grid's values (on one store, so
                         shared stages run once), then list them and write their
                         compare page; a failed combination does not stop the others
  sweep ... --queue --remote URL
                         put one job per combination on the remote's work queue instead
                         of running them here; workers on any machine take them
  worker --remote URL    take sweep jobs from the remote's work queue and run them, one at
                         a time, until stopped (Ctrl-C hands the current job back)
  humanize HASH FILE.mid [--style NAME] [--out DIR]
                         play a drum pattern of your own with run HASH's humanizer
                         (humanize.epochs > 0): the same hits, with its velocities and
                         timing; writes FILE-humanized.mid (in DIR, or beside FILE)
  reproduce HASH         rerun a recorded config in a fresh store; check every digest matches
  verify                 rehash every stored object; remove corrupt ones
  gc [--keep-last N] [--dry-run]
                         remove what no kept run needs (objects, cache entries, partial
                         work, exports); --keep-last keeps only the N latest configs' runs

Options:
  -c, --config FILE      config file (a bare name is looked up in configs/)
      --set KEY=VALUE    override a config key, e.g. --set train.epochs=2 (repeatable)
      --store DIR        artifact store (default: artifacts)
      --until STAGE      run only up to STAGE
      --force STAGE      rerun STAGE even if cached (repeatable)
      --out DIR          also copy the final outputs into DIR (humanize: write there)
      --style NAME       humanize: the style to play in (one the humanizer was trained on)
      --grid KEY=V1,V2   sweep: the values to try for KEY, each read as YAML (repeatable)
  -j, --jobs N           sweep: run up to N combinations at once (default 1)
      --remote URL       share results through a NATS JetStream server (nats://HOST:PORT):
                         fetch what any machine computed, push what this one computes;
                         also $DLM_REMOTE or the settings file (README: Sharing results)
      --remote-required  stop when the remote cannot be reached (default: go on locally)
      --json             machine-readable output (status, runs, show, compare)
  -q, --quiet            print only warnings, errors and the results
  -v, --verbose          print stack traces with errors
  -h, --help             this text`;
