// Starting torrents: a few at a time, and waited on only until they are under way.
//
// A start that hashes the torrent's data (added with its data, files changed behind its back) may
// wait long for its turn behind other checks (the engine checks one torrent at a time:
// maxActiveChecks; a recheck of a big torrent takes an hour). Whoever waits on a start (a start
// permit, a route answering with the torrent's state) waits until it has started or waits for that
// turn. Four starts parked behind an hour's recheck held every permit, so no other torrent could
// start, and an add with data answered only once that recheck was done. A check that runs at once is
// still waited for, as before: the add answers with what it found.
import type { TorrentHandle } from '../core/engine.ts';

/** Torrents started (resumed) at once until each is under way. */
export const MAX_STARTING = 4;

/** A route waits this long on a start whose check waits its turn, then answers "checking". Shorter
 *  waits (adds of small torrents with their data, a few at a time) answer with what the check found,
 *  and the queue counts them where they landed: answered at once, every add but the first counted as a
 *  download while it waited (for milliseconds), the rest queued, and 300 adds planned the queue 25-33 times, not once. */
export const ANSWER_WAITING_AFTER_MS = 3000;

/** Resolves once `starting` settles, or `graceMs` after the torrent began to wait its turn to hash
 *  its data (0: at once), whichever is first. */
export function startedOrWaiting(t: TorrentHandle, starting: Promise<unknown>, graceMs = 0): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      t.off('check-waiting', waiting);
      resolve();
    };
    const waiting = () => (graceMs <= 0 ? done() : (timer ??= setTimeout(done, graceMs)));
    t.on('check-waiting', waiting);
    if (t.checkWaiting) waiting();
    starting.then(done, done);
  });
}

/** The engine call `op` for a torrent, until it ends or the torrent waits its turn to hash its data. */
export function underWay(t: TorrentHandle | undefined, op: Promise<unknown> | undefined): Promise<unknown> | undefined {
  return op && t ? startedOrWaiting(t, op, ANSWER_WAITING_AFTER_MS) : op;
}

/** Starting a torrent may look at its data (the engine checks a paused torrent when it first starts):
 *  a few at a time, as the library load did, so a restart of 10,000 torrents does not open them all. */
export class StartPermits {
  #starting = 0;
  readonly #waiters: (() => void)[] = [];

  /** Resolves with the permit's release (a second call does nothing). */
  async take(): Promise<() => void> {
    while (this.#starting >= MAX_STARTING) await new Promise<void>((r) => this.#waiters.push(r));
    this.#starting++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#starting--;
      this.#waiters.shift()?.();
    };
  }
}
