// What a torrent gives its tracker client: one object whose methods call back into the torrent.
// An options literal held three closures and their context, and each session wrapped them in more
// (stats, WebRTC hooks, the UDP transport): 10,000 seeds kept some 90,000 small objects for it.
// The sessions fill in the session-wide fields (http, udp, local, tally) on this same object.

import type { LocalTracker } from '../api.ts';
import type { EngineTally } from '../events/counters.ts';
import type { PeerAddress } from '../types.ts';
import type { AnnouncePacer } from './announce-pacer.ts';
import type { TrackerClientOptions, TrackerStats } from './tracker-client.ts';
import type { TrackerTransport } from './tracker-types.ts';

/** The torrent side: what its announces report, and where their answers go. */
export interface AnnouncingTorrent {
  trackerStats(): TrackerStats;
  addPeer(addr: PeerAddress, source: string): void;
  trackerStatusChanged(): void;
  /** The port to announce (it follows the gateway's port mapping). */
  announcePort(): number;
}

export class TorrentTrackerOptions implements TrackerClientOptions {
  readonly infoHash: Uint8Array;
  readonly infoHashHex: string | undefined;
  readonly peerId: Uint8Array;
  tiers: string[][];
  readonly pacer: AnnouncePacer | undefined;
  // Named up front so the session's setting them adds no property (no new shape per object).
  http: TrackerTransport | undefined = undefined;
  udp: (() => TrackerTransport) | undefined = undefined;
  local: LocalTracker | undefined = undefined;
  tally: EngineTally | undefined = undefined;
  private readonly torrent: AnnouncingTorrent;
  /** A hidden torrent announces port 0 (Cascade trackers then list no one). */
  private readonly hidden: boolean;

  constructor(torrent: AnnouncingTorrent, o: { infoHash: Uint8Array; infoHashHex?: string; peerId: Uint8Array; hidden: boolean; tiers: string[][]; pacer?: AnnouncePacer }) {
    this.torrent = torrent;
    this.infoHash = o.infoHash;
    this.infoHashHex = o.infoHashHex;
    this.peerId = o.peerId;
    this.hidden = o.hidden;
    this.tiers = o.tiers;
    this.pacer = o.pacer;
  }

  port(): number {
    return this.hidden ? 0 : this.torrent.announcePort();
  }

  getStats(): TrackerStats {
    return this.torrent.trackerStats();
  }

  onPeers(peers: PeerAddress[], source: string): void {
    for (const p of peers) this.torrent.addPeer(p, source);
  }

  onStatus(): void {
    this.torrent.trackerStatusChanged();
  }
}
