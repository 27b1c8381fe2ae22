// A TrackerClient that also speaks to WebSocket (WebTorrent) trackers. HTTP/UDP tiers go to the
// regular client; ws:// and wss:// URLs go to a WsTrackerClient whose WebRTC connections are handed
// to the torrent. The torrent sees one tracker client, as before.

import type { TrackerStatus } from '../api.ts';
import type { Connection } from '../platform.ts';
import { TrackerClient, type TrackerClientOptions } from './tracker-client.ts';
import { WsTrackerClient, type SwarmView } from './tracker-ws.ts';
import { isWsTracker, type WsTrackerPool } from './ws-pool.ts';
import { sharedTiers } from './shared-tiers.ts';

export interface HybridTrackerOptions {
  pool: WsTrackerPool;
  onConnection: (conn: Connection, info: { peerIdHex: string; url: string; initiator: boolean }) => void;
  wantOffers?: (swarm: SwarmView) => number;
  acceptOffer?: () => boolean;
  connectedOverTcp?: (peerIdHex: string) => boolean;
  minInterval?: number;
  /** false drops the HTTP/UDP tiers (a browser cannot reach the TCP peers they return). */
  ipTrackers?: boolean;
}

export class HybridTrackerClient extends TrackerClient {
  private readonly ws: WsTrackerClient | undefined;

  constructor(opts: TrackerClientOptions, hybrid: HybridTrackerOptions) {
    const wsUrls = opts.tiers.flat().filter(isWsTracker);
    const getStats = opts.getStats;
    const ipTiers = hybrid.ipTrackers === false ? [] : opts.tiers.map((t) => t.filter((u) => !isWsTracker(u))).filter((t) => t.length > 0);
    // The caller's options object, with the IP tiers only (not a copy: one per torrent).
    opts.tiers = sharedTiers(ipTiers);
    super(opts);
    if (wsUrls.length > 0) {
      this.ws = new WsTrackerClient({
        pool: hybrid.pool,
        urls: wsUrls,
        infoHash: opts.infoHash,
        getStats,
        onConnection: hybrid.onConnection,
        wantOffers: hybrid.wantOffers,
        acceptOffer: hybrid.acceptOffer,
        connectedOverTcp: hybrid.connectedOverTcp,
        minInterval: hybrid.minInterval,
        pacer: opts.pacer,
        tally: opts.tally,
      });
    }
  }

  override start(): void {
    super.start();
    this.ws?.start();
  }

  override completed(): void {
    super.completed();
    this.ws?.completed();
  }

  override announce(): void {
    super.announce();
    this.ws?.announce();
  }

  override async stop(): Promise<void> {
    await Promise.all([super.stop(), this.ws?.stop()]);
  }

  override status(): TrackerStatus[] {
    const ip = super.status();
    const tiers = ip.reduce((n, s) => Math.max(n, s.tier + 1), 0);
    return [...ip, ...(this.ws?.status() ?? []).map((s) => ({ ...s, tier: tiers + s.tier }))];
  }
}
