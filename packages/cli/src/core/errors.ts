// The CLI's own errors: each carries the exit code `cascade` ends with. The node's errors
// (NodeError, by kind) get theirs in main.ts; these are for what only the command line knows.

/** Something went wrong at run time: exit 1 (or the code given). */
export class CliError extends Error {
  readonly exitCode: number;
  /** `cause`: the error underneath, kept for the one-line report and --verbose (core/error-report.ts). */
  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The command line itself is wrong (unknown option, bad magnet, missing argument): exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
