// The orders the torrent records are read in (torrent-records.ts): the library's (when added) and
// the queue's (stored position, then when added), and an options patch's defined fields.

import type { TorrentRecord } from './records.ts';

export function definedOf<T extends object>(o: T): Partial<TorrentRecord> {
  const out: Partial<TorrentRecord> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export function byAdded(a: TorrentRecord, b: TorrentRecord): number {
  if (a.addedAt !== b.addedAt) return a.addedAt - b.addedAt;
  return a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0;
}

export function byQueueOrder(a: TorrentRecord, b: TorrentRecord): number {
  if ((a.queuePosition === null) !== (b.queuePosition === null)) return a.queuePosition === null ? 1 : -1;
  if (a.queuePosition !== b.queuePosition) return a.queuePosition! - b.queuePosition!;
  if (a.addedAt !== b.addedAt) return a.addedAt - b.addedAt;
  return a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0;
}
