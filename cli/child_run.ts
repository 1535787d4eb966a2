/**
 * A pipeline run in a process of its own, as `sweep` and `worker` start them: the same Deno, the
 * project's deno.json (its import map) when there is one, the pipeline's permissions.
 *
 * @module
 */
import type { Pipeline } from "../core/dag.ts";
import { PERMISSIONS } from "./permissions.ts";

/**
 * `deno run pipeline.ts run ARGS` for `pipeline`; its output goes to the terminal (`live`) or is
 * collected.
 */
export async function childRun(
  pipeline: Pipeline,
  runArgs: readonly string[],
  live: boolean,
): Promise<Deno.Command> {
  const denoConfig = `${pipeline.root}/deno.json`;
  const hasDenoConfig = await Deno.stat(denoConfig).then((s) => s.isFile, () => false);
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(hasDenoConfig ? ["--config", denoConfig] : []),
      ...PERMISSIONS,
      `${pipeline.root}/pipeline.ts`,
      "run",
      ...runArgs,
    ],
    stdin: "null",
    stdout: live ? "inherit" : "piped",
    stderr: live ? "inherit" : "piped",
  });
}
