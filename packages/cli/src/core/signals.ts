// Long-running commands stop cleanly on SIGINT/SIGTERM (closing the session saves resume data).
// A second signal while shutting down means "now": exit immediately.

export interface StopSignal {
  /** Resolves at the first SIGINT/SIGTERM, or when the node stops by itself (`failWith`). */
  promise: Promise<NodeJS.Signals>;
  dispose: () => void;
  /** Stops the command as a signal would, because the node cannot go on (its database lease was
   *  taken over): the reason is kept in `failure`, and the command exits non-zero. */
  failWith: (reason: string) => void;
  readonly failure: string | undefined;
}

export function waitForStopSignal(): StopSignal {
  let onSignal: (sig: NodeJS.Signals) => void = () => {};
  let failure: string | undefined;
  let stopNow: (sig: NodeJS.Signals) => void = () => {};
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    stopNow = resolve;
    let seen = false;
    onSignal = (sig) => {
      if (seen) {
        process.stderr.write(`cascade: second ${sig}, exiting without a clean shutdown\n`);
        process.exit(130);
      }
      seen = true;
      resolve(sig);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    promise,
    failWith: (reason) => {
      failure ??= reason;
      stopNow('SIGTERM');
    },
    get failure() {
      return failure;
    },
    // Keep the handlers until the process ends, so a second Ctrl-C during close() still works;
    // dispose exists for tests and for commands that finish on their own.
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
