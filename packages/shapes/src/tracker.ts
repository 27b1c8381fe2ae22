// Trackers: a tracker's status as a torrent sees it, what a torrent did to find peers, and the announce
// request in its forms (binary ids for the engine's transports, hex for the tracker in this process).

export interface TrackerStatus {
  url: string;
  tier: number;
  status: 'idle' | 'working' | 'ok' | 'error';
  message?: string;
  /** Peers it gave in its last answer. */
  peers: number;
  /** The swarm's seeders and leechers as its last answer counted them (BEP 3 `complete` /
   *  `incomplete`); absent when it never said. */
  seeders?: number;
  leechers?: number;
  /** ms since the epoch. */
  lastAnnounce?: number;
  /** When the tracker last answered (ms since the epoch). */
  lastReplyAt?: number;
  /** Its last failure, and when (kept after a later success, so a flaky tracker shows both). */
  lastError?: string;
  lastErrorAt?: number;
  /** Announces that failed in a row since its last answer (0 or absent once it answers), and when
   *  the first of them failed. */
  failures?: number;
  failingSince?: number;
}

/** One connection attempt, for the discovery report ("connection refused", "handshake timeout",
 *  "infohash mismatch", "connected" …). */
export interface PeerAttempt {
  address: string;
  /** Where the address came from: "tracker URL", "dht", "pex", "manual", "incoming", "webrtc". */
  source: string;
  result: string;
  /** ms since the epoch */
  at: number;
}

/** What a torrent did to find peers and what answered: trackers, the DHT, the last peers tried. */
export interface DiscoveryReport {
  trackers: TrackerStatus[];
  dht: { enabled: boolean; nodes: number; lookups: number; peersFound: number; lastLookupAt: number | null };
  /** BEP 14 local service discovery: whether it announces this torrent on the LAN, and the peers
   *  heard there (absent from engines without it). */
  lsd?: { enabled: boolean; peersFound: number };
  /** The last 20 attempts, oldest first. */
  peersTried: PeerAttempt[];
}

export type AnnounceEvent = 'started' | 'completed' | 'stopped';

/** What every announce tells a tracker, whatever names the torrent and the peer. */
export interface AnnounceCounts {
  /** Our listen port. */
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event?: AnnounceEvent;
  numwant?: number;
}

/** An announce to a tracker, ids as bytes: what the engine hands a tracker transport (HTTP, UDP, or
 *  private discovery's circuits). */
export interface AnnounceParams extends AnnounceCounts {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Lets the tracker recognise us across IP changes (BEP 3 `key`, BEP 15 `key`). */
  key?: number;
  /** Echoed back when an HTTP tracker handed us one. */
  trackerId?: string;
  signal?: AbortSignal;
}

/** An announce from the process that runs the tracker (a Cascade node's own torrents), ids in hex:
 *  the engine's LocalTracker gets it, the tracker's announceLocal takes it. */
export interface LocalAnnounceRequest extends AnnounceCounts {
  infoHashHex: string;
  peerIdHex: string;
}

/** The tracker's answer to a local announce. */
export interface LocalAnnounceReply {
  /** Seconds until the next regular announce. */
  interval: number;
  complete?: number;
  incomplete?: number;
  peers: { host: string; port: number }[];
}
