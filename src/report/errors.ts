/**
 * Errors of the report and run commands.
 *
 * An {@link InputError} is bad usage or bad input (missing file, not a notebook, unknown option):
 * the CLI prints its one-line message and exits 2. Anything else is a failure (exit 1).
 */
export class InputError extends Error {
  /** Exit status the CLI uses for this error. */
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}
