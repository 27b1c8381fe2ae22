// Session-wide running totals for monitoring (the node's /metrics reads them at scrape time).
// One plain object per session, shared by its torrents through the TorrentContext: every event
// costs one integer increment, there is no timer and nothing per torrent, so a node of 10,000 idle
// torrents pays nothing for being watched. Platform-free and library-free (no prom-client here).

import type { DhtQueryCounts, HolepunchCounts, SessionCounters, TransportCounts } from '../api.ts';

/** The DHT query types counted by name; anything else is "other". */
export const DHT_QUERY_TYPES = ['ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put'] as const;

/** What the engine increments. Fields are fixed up front (one hidden class, no lookups by string). */
export interface EngineTally {
  bytesReceived: TransportCounts;
  bytesSent: TransportCounts;
  piecesVerified: number;
  hashFailures: number;
  diskErrors: number;
  announcesOk: number;
  announcesFailed: number;
  dhtQueriesIn: DhtQueryCounts;
  dhtQueriesOut: DhtQueryCounts;
  holepunch: HolepunchCounts;
}

const transports = (): TransportCounts => ({ tcp: 0, utp: 0, webrtc: 0, webseed: 0 });
const dhtQueries = (): DhtQueryCounts => ({ ping: 0, find_node: 0, get_peers: 0, announce_peer: 0, get: 0, put: 0, other: 0 });

export function newTally(): EngineTally {
  return {
    bytesReceived: transports(),
    bytesSent: transports(),
    piecesVerified: 0,
    hashFailures: 0,
    diskErrors: 0,
    announcesOk: 0,
    announcesFailed: 0,
    dhtQueriesIn: dhtQueries(),
    dhtQueriesOut: dhtQueries(),
    holepunch: { rendezvousSent: 0, errorsReceived: 0, rendezvousReceived: 0, introduced: 0, errorsSent: 0, connectsReceived: 0, dials: 0, connected: 0, ignored: 0 },
  };
}

/** Counts one DHT query of KRPC method `q` (a string off the wire: unknown names are "other"). */
export function countDhtQuery(into: DhtQueryCounts, q: unknown): void {
  switch (q) {
    case 'ping':
    case 'find_node':
    case 'get_peers':
    case 'announce_peer':
    case 'get':
    case 'put':
      into[q]++;
      return;
    default:
      into.other++;
  }
}

/** A copy of the totals plus the gauges the session reads at the time (peers, DHT nodes). */
export function snapshot(t: EngineTally, peers: TransportCounts, dhtNodes: number): SessionCounters {
  return {
    bytesReceived: { ...t.bytesReceived },
    bytesSent: { ...t.bytesSent },
    piecesVerified: t.piecesVerified,
    hashFailures: t.hashFailures,
    diskErrors: t.diskErrors,
    announces: { ok: t.announcesOk, error: t.announcesFailed },
    dhtQueries: { in: { ...t.dhtQueriesIn }, out: { ...t.dhtQueriesOut } },
    peers,
    dhtNodes,
    holepunch: { ...t.holepunch },
  };
}

/** Whether `err` came from the operating system's file calls (an errno code such as EIO, ENOSPC). */
export function isDiskError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}
