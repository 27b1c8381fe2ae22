// Ledgers sum their deltas in memory and write them in one transaction every few seconds.

/** Calls `flush` every `ms` (none for 0); a failed flush keeps its deltas for the next tick. The
 *  timer never keeps the process alive on its own. */
export function startFlushTimer(ms: number, flush: () => Promise<void>): NodeJS.Timeout | undefined {
  if (ms <= 0) return undefined;
  const timer = setInterval(() => {
    // DB busy, full or unreachable: the next tick retries.
    flush().catch(() => {});
  }, ms);
  timer.unref();
  return timer;
}
