// Long-running commands stop cleanly on SIGINT/SIGTERM (closing the session saves resume data).
// A second signal while shutting down means "now": exit immediately.

export function waitForStopSignal(): { promise: Promise<NodeJS.Signals>; dispose: () => void } {
  let onSignal: (sig: NodeJS.Signals) => void = () => {};
  const promise = new Promise<NodeJS.Signals>((resolve) => {
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
    // Keep the handlers until the process ends, so a second Ctrl-C during close() still works;
    // dispose exists for tests and for commands that finish on their own.
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
