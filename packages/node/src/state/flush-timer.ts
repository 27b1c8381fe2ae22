// Ledgers sum their deltas in memory and write them in one transaction every few seconds.

/** Calls `flush` every `ms` (none for 0); a failed flush keeps its deltas for the next tick. The
 *  timer never keeps the process alive on its own. */
export function startFlushTimer(ms: number, flush: () => void): NodeJS.Timeout | undefined {
  if (ms <= 0) return undefined;
  const timer = setInterval(() => {
    try {
      flush();
    } catch {
      // DB busy or full: the next tick retries.
    }
  }, ms);
  timer.unref();
  return timer;
}
