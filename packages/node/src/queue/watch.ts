// What the queue manager (manager.ts) keeps on each torrent the engine runs, and how one look at its
// stats updates it: when payload last came, and whether it counts as stalled.

import type { TorrentHandle, TorrentStats } from '../core/engine.ts';

/** What the queue watches on a torrent the engine runs. */
export interface Watch {
  t: TorrentHandle;
  /** The torrent's revision when the tick last looked: unchanged means nothing to look at again. */
  revision: number;
  downloaded: number;
  /** Last time payload arrived, or when it (re)started: a fresh start is never stalled. */
  progressAt: number;
  state: TorrentStats['state'];
  stalled: boolean;
}

/** States in which a torrent is running (the queue counts it). */
export const RUNNING = new Set<TorrentStats['state']>(['metadata', 'checking', 'downloading', 'seeding']);

/** Brings `w` up to date with the torrent's stats now; true when the queue must plan again (it
 *  changed state, stalled or recovered). `stalledTimeout`: seconds without payload; 0 = never. */
export function observe(w: Watch, s: TorrentStats, now: number, stalledTimeout: number): boolean {
  let replan = false;
  // A counter lower than last time: the torrent was loaded anew, so it all is new.
  const got = s.downloaded > w.downloaded || s.downloaded < w.downloaded;
  if (got || s.state !== w.state) w.progressAt = now;
  if (s.state !== w.state) replan = true;
  const stallMs = stalledTimeout * 1000;
  const stalled = stallMs > 0 && (s.state === 'downloading' || s.state === 'metadata') && now - w.progressAt >= stallMs;
  if (stalled !== w.stalled) replan = true;
  w.downloaded = s.downloaded;
  w.state = s.state;
  w.stalled = stalled;
  return replan;
}
