/**
 * Errors the user can act on. The CLI prints `error: <message>` on one line and exits with the
 * class's code; stack traces appear only under `--verbose`.
 *
 * @module
 */

/** A failure explained in one sentence that names the file or key and the fix. */
export class PipelineError extends Error {
  override name = "PipelineError";
  /** Process exit status for this failure. */
  readonly exitCode: number = 1;
}

/** A bad command line: unknown flag, missing value, unknown stage. Exit 2. */
export class UsageError extends PipelineError {
  override name = "UsageError";
  override readonly exitCode = 2;
}

/** A config file that cannot be read, parsed or validated. Exit 2. */
export class ConfigError extends PipelineError {
  override name = "ConfigError";
  override readonly exitCode = 2;
}

/**
 * A stage that failed. The message is `<stage>: <what went wrong>`: the stage's name is put in
 * front here, once, so neither the stage nor the CLI repeats it.
 */
export class StageFailedError extends PipelineError {
  override name = "StageFailedError";
  constructor(readonly stage: string, message: string, options?: ErrorOptions) {
    super(`${stage}: ${message}`, options);
  }
}
