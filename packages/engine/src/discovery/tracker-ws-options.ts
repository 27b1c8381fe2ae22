// What a WebSocket tracker client (tracker-ws.ts) is made with, and how many WebRTC offers a torrent
// sends with an announce.
import type { Connection } from '../platform.ts';
import type { WsTrackerPool } from './ws-pool.ts';
import type { AnnouncePacer } from './announce-pacer.ts';
import type { EngineTally } from '../events/counters.ts';

export interface WsTrackerStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export interface WsTrackerClientOptions {
  pool: WsTrackerPool;
  urls: string[];
  infoHash: Uint8Array;
  getStats: () => WsTrackerStats;
  /** An open data channel to a peer of this torrent. */
  onConnection: (conn: Connection, info: { peerIdHex: string; url: string; initiator: boolean }) => void;
  /** Offers to send with the next announce (WebTorrent: 5). Default 5; 0 when the torrent is full.
   *  `swarm` is what the tracker last said (see offerCount for the usual policy). */
  wantOffers?: (swarm: SwarmView) => number;
  /** Whether to answer an incoming offer (e.g. false when the torrent has enough peers). */
  acceptOffer?: () => boolean;
  /** True when the torrent already has this peer (hex id) over TCP: no WebRTC to it then, TCP first. */
  connectedOverTcp?: (peerIdHex: string) => boolean;
  /** Floor on the announce interval, seconds. Default 30. */
  minInterval?: number;
  /** The first quick re-announce while no peer is connected comes this many seconds after the
   *  reply (doubling up to 30 s). Default 2. */
  lonelyRetryS?: number;
  /** Unanswered offers are dropped after this. Default 50 s (WebTorrent's value). */
  offerTimeoutMs?: number;
  /** The session's announce pacer: scheduled announces wait for a turn (announce() does not). */
  pacer?: AnnouncePacer;
  /** The session's running totals: announce replies and failures are counted there. */
  tally?: EngineTally;
}

export const DEFAULT_OFFERS = 5;

/** The swarm as this client knows it: the tracker's last counts, and our open connections. */
export interface SwarmView {
  leechers: number;
  connected: number;
}

/**
 * How many WebRTC offers a torrent sends with an announce. A leecher offers up to `max`, as room
 * allows. A seed offers only to leechers it is not connected to yet: seeds made no offers at all
 * (each offer holds a peer connection for up to 50 s), which left a seed that joined, or came back
 * after a restart, unreachable until every leecher's next announce, two minutes later.
 */
export function offerCount(t: { state: string; wantsPeers(): number } | undefined, max: number, swarm: SwarmView): number {
  if (!t) return 0;
  const room = Math.min(max, t.wantsPeers());
  return t.state === 'seeding' ? Math.max(0, Math.min(room, swarm.leechers - swarm.connected)) : room;
}
