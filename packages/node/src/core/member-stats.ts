// A node's figures for GET /api/cluster (a node not in a cluster lists itself with them) and a
// cluster member's lease renewals (@cascade/cluster): torrents it runs, free bytes where it saves,
// and its piece-data rates. Rates come from the session's byte counters between two samples (one
// subtraction, where summing every torrent's speed walks 10,000 of them each time).

import type { TransportCounts } from '@cascade/shapes';
import type { SessionHandle } from './engine.ts';
import { diskSpace } from '../files/disk-space.ts';

/** A node's figures, as a member renews its lease with them. */
export interface MemberStats {
  torrents: number;
  freeBytes: number;
  downloadRate: number;
  uploadRate: number;
  btPort: number | null;
}

function total(c: TransportCounts): number {
  return c.tcp + c.utp + c.webrtc + c.webseed;
}

/** A sampler of `session`'s figures; downloadDir says where its data goes (the setting can change). */
export function memberStats(session: SessionHandle, downloadDir: () => string): () => Promise<MemberStats> {
  let last: { at: number; received: number; sent: number } | undefined;
  let rates = { down: 0, up: 0 };
  return async () => {
    const counters = session.counters?.();
    if (counters) {
      const now = { at: performance.now(), received: total(counters.bytesReceived), sent: total(counters.bytesSent) };
      const seconds = last ? (now.at - last.at) / 1000 : 0;
      // Asked again within a moment (a page and the renewal together): the last rates stand.
      if (last && seconds >= 0.5) rates = { down: (now.received - last.received) / seconds, up: (now.sent - last.sent) / seconds };
      if (!last || seconds >= 0.5) last = now;
    }
    return {
      torrents: session.list().length,
      freeBytes: (await diskSpace(downloadDir()))?.free ?? 0,
      downloadRate: Math.max(0, Math.round(rates.down)),
      uploadRate: Math.max(0, Math.round(rates.up)),
      btPort: session.port,
    };
  };
}
