// Which torrents the node follows, and one fan-out of their events to the node's listeners
// (onTorrentEvent): a listener per event for all torrents, where a listener per torrent cost
// closures and arrays on each of 10,000.

import type { SessionHandle, TorrentHandle } from './engine.ts';
import { errorMessage } from '@cascade/node-state/errors';
import type { NodeLog } from './node-log.ts';
import type { TorrentTap } from './node-parts.ts';

const NO_STOPS: (() => void)[] = [];
const untrackNothing = (): void => {};

export class TorrentFeed {
  /** Others that follow each torrent's events while it is tracked (the assistant's evidence):
   *  called for every torrent tracked from now on; each returns how to stop. */
  readonly watchers: ((t: TorrentHandle) => () => void)[] = [];
  #untrack = new Map<string, () => void>();
  #taps = new Map<string, TorrentTap[]>();
  readonly #session: SessionHandle;
  readonly #out: NodeLog;

  constructor(session: SessionHandle, out: NodeLog) {
    this.#session = session;
    this.#out = out;
  }

  /** Follows `t` from now on (once): its watchers start and 'tracked' is said. */
  track(t: TorrentHandle): void {
    const ih = t.infoHashHex;
    if (this.#untrack.has(ih)) return;
    const stopWatchers = this.watchers.length > 0 ? this.watchers.map((w) => w(t)) : NO_STOPS;
    this.#untrack.set(ih, stopWatchers === NO_STOPS ? untrackNothing : () => {
      for (const stop of stopWatchers) stop();
    });
    this.emit('tracked', t);
  }

  /** No longer follows it: its watchers stop and 'untracked' is said (with `handle`, the torrent
   *  as it was, when the session no longer has it). */
  untrack(ih: string, handle?: TorrentHandle): void {
    const off = this.#untrack.get(ih);
    if (!off) return;
    off();
    this.#untrack.delete(ih);
    const t = handle ?? this.#session.get(ih);
    if (t) this.emit('untracked', t);
  }

  /** Every torrent followed now. */
  tracked(): string[] {
    return [...this.#untrack.keys()];
  }

  isTracked(infoHash: string): boolean {
    return this.#untrack.has(infoHash);
  }

  /** `fn(torrent, ...args)` for `event` of every tracked torrent, and for 'tracked' and 'untracked'. */
  on(event: string, fn: TorrentTap): () => void {
    let list = this.#taps.get(event);
    if (!list) {
      this.#taps.set(event, (list = []));
      if (event !== 'tracked' && event !== 'untracked') this.#subscribe(event);
    }
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  #subscribe(event: string): void {
    const deliver = (t: TorrentHandle, ...args: unknown[]) => {
      if (this.#untrack.has(t.infoHashHex)) this.emit(event, t, ...args);
    };
    if (this.#session.onTorrentEvent) {
      this.#session.onTorrentEvent(event, deliver);
      return;
    }
    // A session without a session-wide feed (a stand-in): a listener per torrent after all.
    this.watchers.push((t) => {
      const fn = (...args: unknown[]) => deliver(t, ...args);
      t.on(event, fn);
      return () => void t.off(event, fn);
    });
  }

  emit(event: string, t: TorrentHandle, ...args: unknown[]): void {
    const list = this.#taps.get(event);
    if (!list) return;
    // A copy only when a listener could unsubscribe another mid-loop ('transfer' has one, per block).
    for (const fn of list.length === 1 ? list : [...list]) {
      try {
        fn(t, ...args);
      } catch (err) {
        this.#out.note(`${event} of ${t.infoHashHex}: ${errorMessage(err)}`);
      }
    }
  }
}
