/**
 * The CLI: parses argv, dispatches to a command, prints errors as one line and sets the exit
 * status (2 for usage and config errors, 1 otherwise).
 *
 * @module
 */
import { type CliArgs, HELP, parseCli } from "./args.ts";
import { PipelineError } from "../core/errors.ts";
import { describeNotCapable } from "../core/fs_errors.ts";
import type { Pipeline } from "../core/dag.ts";
import { type OpenedStore, openStore } from "./open_store.ts";
import { workerCommand } from "./worker.ts";
import { runCommand } from "./run.ts";
import { statusCommand } from "./status.ts";
import { runsCommand, showCommand } from "./runs.ts";
import { compareCommand } from "./compare.ts";
import { sweepCommand } from "./sweep.ts";
import { reproduceCommand } from "./reproduce.ts";
import { gcCommand } from "./gc.ts";
import { humanizeCommand } from "./humanize.ts";
import { terminalText } from "./terminal_text.ts";

/** Runs the CLI and returns the exit status. */
export async function main(
  argv: string[],
  pipeline: () => Promise<Pipeline>,
): Promise<number> {
  let args: CliArgs | undefined;
  try {
    args = parseCli(argv);
    if (args.help) {
      console.log(HELP);
      return 0;
    }
    const opened = await openStore(args);
    try {
      return await dispatch(args, pipeline, opened);
    } finally {
      await opened.close();
    }
  } catch (e) {
    const err = e as Error;
    // One line, whatever names it quotes (cli/terminal_text.ts); a stack keeps its lines.
    const say = (message: string) => console.error(terminalText(`error: ${message}`));
    const stack = (trace?: string) => console.error(terminalText(trace ?? "", true));
    if (e instanceof PipelineError) {
      say(err.message);
      if (args?.verbose && err.cause instanceof Error) stack(err.cause.stack);
      return e.exitCode;
    }
    // Deno's own words for a path outside its flags advise --allow-all; the path is what to change.
    say(
      e instanceof Deno.errors.NotCapable
        ? `${describeNotCapable(e)}; check the paths given`
        : err.message,
    );
    if (args?.verbose) stack(err.stack);
    return 1;
  }
}

/**
 * The DAG, with the code-digest cache `$DLM_CODE_CACHE` names, when set: a file stores can share
 * (its entries are keyed by each module's text), so a new store need not parse every module.
 */
async function withCodeCache(load: () => Promise<Pipeline>): Promise<Pipeline> {
  const codeCache = Deno.env.get("DLM_CODE_CACHE");
  return { ...(await load()), ...(codeCache ? { codeCache } : {}) };
}

/** Runs one command on its store; only the commands that run stages load the DAG. */
async function dispatch(
  args: CliArgs,
  load: () => Promise<Pipeline>,
  { store, remote }: OpenedStore,
): Promise<number> {
  const pipeline = () => withCodeCache(load);
  {
    switch (args.command) {
      case "run":
        return await runCommand(args, await pipeline(), store);
      case "status":
        return await statusCommand(args, await pipeline(), store);
      case "runs":
        return await runsCommand(args, store);
      case "show":
        return await showCommand(args, store);
      case "compare":
        return await compareCommand(args, store);
      case "sweep":
        return await sweepCommand(args, await pipeline(), store, remote);
      case "reproduce":
        return await reproduceCommand(args, await pipeline(), store);
      case "gc":
        return await gcCommand(args, store);
      case "verify": {
        await store.requireExisting();
        const { checked, corrupt } = await store.verify(true);
        console.log(
          `verified ${checked} objects; ${corrupt.length} corrupt${
            corrupt.length ? " (removed: " + corrupt.join(", ") + ")" : ""
          }`,
        );
        return corrupt.length > 0 ? 1 : 0;
      }
      case "humanize":
        return await humanizeCommand(args, store);
      case "worker":
        return await workerCommand(args, await pipeline(), store, remote);
    }
  }
}
