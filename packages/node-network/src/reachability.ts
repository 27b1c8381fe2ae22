// Whether others can reach this node's BitTorrent port, as far as the node can tell: bound to
// loopback it cannot be; someone dialled in, so it is from somewhere; otherwise nobody may have
// tried yet. One rule for /api/health, the compatible APIs and the assistant.

import type { SessionHandle } from '@cascade/engine';

export type Reachability = 'reachable' | 'local-only' | 'unknown';

/** Peers connected now that dialled us (torrents without peers are skipped without listing them). */
export function incomingPeers(session: SessionHandle): number {
  // Nobody connected at all (an idle library): no torrent to look at.
  if (session.health().peers === 0) return 0;
  let n = 0;
  for (const t of session.list()) {
    if (t.stats().peers === 0) continue;
    for (const p of t.peers()) if (p.source === 'incoming') n++;
  }
  return n;
}

export function reachabilityOf(bittorrentHost: string, incoming: number): Reachability {
  if (/^(127\.|::1$|localhost$)/.test(bittorrentHost)) return 'local-only';
  return incoming > 0 ? 'reachable' : 'unknown';
}
