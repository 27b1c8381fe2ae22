// Errors that carry a CLI exit code, so node code can just throw: the CLI turns them into exit
// codes (also across the control RPC), the HTTP API into 4xx statuses (see http-errors.ts).

/** Something went wrong at run time: exit 1. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
