// Re-announce now (control RPC `announce`, POST /api/torrents/:infoHash/announce): what was done,
// not what an announce would do in general — a paused torrent announces nowhere, the DHT only when
// the node runs one and the torrent is not private. Waits a little for the trackers' answers.

import type { NodeCore } from './node-parts.ts';
import type { TorrentHandle, TrackerStatus } from './engine.ts';

const ANNOUNCE_WAIT_MS = 5000;

export interface AnnounceOutcome {
  infoHash: string;
  name: string | null;
  state: string;
  announced: boolean;
  trackers: TrackerStatus[];
  dht: 'off' | 'not announced' | 'private torrent' | 'announced';
}

export async function announceNow(node: Pick<NodeCore, 'session'>, ts: TorrentHandle[], waitMs = ANNOUNCE_WAIT_MS): Promise<{ dht: boolean; torrents: AnnounceOutcome[] }> {
  const dhtOn = node.session.health().dhtEnabled;
  const announcing = ts.filter((t) => !['paused', 'error'].includes(t.stats().state));
  for (const t of announcing) t.announce();
  // The trackers' answers, not the statuses from before: wait a little for them to come in.
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && announcing.some((t) => t.trackers().some((x) => x.status === 'working'))) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dht: dhtOn,
    torrents: ts.map((t) => {
      const s = t.stats();
      const idle = !announcing.includes(t);
      const dht = !dhtOn ? 'off' : idle ? 'not announced' : t.metainfo?.private ? 'private torrent' : 'announced';
      return { infoHash: t.infoHashHex, name: s.name ?? null, state: s.state, announced: !idle, trackers: t.trackers(), dht };
    }),
  };
}
