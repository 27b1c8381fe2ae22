// A TrackerClient that also speaks to WebSocket (WebTorrent) trackers. HTTP/UDP tiers go to the
// regular client; ws:// and wss:// URLs go to a WsTrackerClient whose WebRTC connections are handed
// to the torrent. The torrent sees one tracker client, as before.

import type { TrackerStatus } from '../api.ts';
import type { Connection } from '../platform.ts';
import { TrackerClient, type TrackerClientOptions } from './tracker-client.ts';
import { DEFAULT_OFFERS, offerCount, WsTrackerClient, type SwarmView, type WsTrackerClientOptions, type WsTrackerStats } from './tracker-ws.ts';
import { isWsTracker, type WsTrackerPool } from './ws-pool.ts';
import type { AnnouncePacer } from './announce-pacer.ts';
import type { EngineTally } from '../events/counters.ts';
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
    // One frozen list shared by every torrent with the same WebSocket URLs (the node's own
    // tracker's): an array filtered per torrent cost ~180 bytes each (1.8 MB at 10,000).
    const wsUrls = sharedTiers([opts.tiers.flat().filter(isWsTracker)])[0] ?? [];
    const ipTiers = hybrid.ipTrackers === false ? [] : opts.tiers.map((t) => t.filter((u) => !isWsTracker(u))).filter((t) => t.length > 0);
    const wsOpts = wsUrls.length > 0 ? new WsOptions(opts, hybrid, wsUrls) : undefined;
    // The caller's options object, with the IP tiers only (not a copy: one per torrent).
    opts.tiers = sharedTiers(ipTiers);
    super(opts);
    if (wsOpts) this.ws = new WsTrackerClient(wsOpts);
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

  override firstUrl(): string | undefined {
    return super.firstUrl() ?? this.ws?.firstUrl();
  }

  override status(): TrackerStatus[] {
    const ip = super.status();
    const tiers = ip.reduce((n, s) => Math.max(n, s.tier + 1), 0);
    return [...ip, ...(this.ws?.status() ?? []).map((s) => ({ ...s, tier: tiers + s.tier }))];
  }
}

/** The WebSocket client's options, read through the torrent's (its stats) and the hybrid ones (its
 *  hooks): methods, where copying the functions out would make an object of 11 fields per torrent. */
class WsOptions implements WsTrackerClientOptions {
  readonly urls: string[];
  private readonly ip: TrackerClientOptions;
  private readonly hybrid: HybridTrackerOptions;

  constructor(ip: TrackerClientOptions, hybrid: HybridTrackerOptions, urls: string[]) {
    this.ip = ip;
    this.hybrid = hybrid;
    this.urls = urls;
  }

  get pool(): WsTrackerPool {
    return this.hybrid.pool;
  }

  get infoHash(): Uint8Array {
    return this.ip.infoHash;
  }

  get minInterval(): number | undefined {
    return this.hybrid.minInterval;
  }

  get pacer(): AnnouncePacer | undefined {
    return this.ip.pacer;
  }

  get tally(): EngineTally | undefined {
    return this.ip.tally;
  }

  getStats(): WsTrackerStats {
    return this.ip.getStats();
  }

  onConnection(conn: Connection, info: { peerIdHex: string; url: string; initiator: boolean }): void {
    this.hybrid.onConnection(conn, info);
  }

  wantOffers(swarm: SwarmView): number {
    return this.hybrid.wantOffers ? this.hybrid.wantOffers(swarm) : DEFAULT_OFFERS;
  }

  acceptOffer(): boolean {
    return this.hybrid.acceptOffer ? this.hybrid.acceptOffer() : true;
  }

  connectedOverTcp(peerIdHex: string): boolean {
    return this.hybrid.connectedOverTcp ? this.hybrid.connectedOverTcp(peerIdHex) : false;
  }
}

/** What a session needs to tell its torrents' WebRTC hooks (TorrentRtcHooks): one per session. */
export interface RtcHookEnv {
  minInterval?: number;
  /** Offers per announce at most (WebTorrent: 5). */
  maxOffers: number;
  /** false: no HTTP/UDP tiers (a browser). */
  ipTrackers?: boolean;
  /** The session's torrent by hex infohash, while it is in the session. */
  find(hex: string): RtcTorrent | undefined;
}

export interface RtcTorrent {
  readonly state: string;
  wantsPeers(): number;
  addConnection(conn: Connection, transport: 'webrtc'): void;
  hasTcpPeer(peerIdHex: string): boolean;
}

/** A torrent's WebRTC hooks: its infohash and the session's env, looked up at each call, so a
 *  torrent removed from the session gets no more connections (one small object per torrent). */
export class TorrentRtcHooks implements HybridTrackerOptions {
  readonly pool: WsTrackerPool;
  private readonly env: RtcHookEnv;
  private readonly hex: string;

  constructor(env: RtcHookEnv, pool: WsTrackerPool, hex: string) {
    this.env = env;
    this.pool = pool;
    this.hex = hex;
  }

  get minInterval(): number | undefined {
    return this.env.minInterval;
  }

  get ipTrackers(): boolean | undefined {
    return this.env.ipTrackers;
  }

  onConnection(conn: Connection): void {
    const t = this.env.find(this.hex);
    if (t) t.addConnection(conn, 'webrtc');
    else conn.close();
  }

  wantOffers(swarm: SwarmView): number {
    return offerCount(this.env.find(this.hex), this.env.maxOffers, swarm);
  }

  acceptOffer(): boolean {
    return (this.env.find(this.hex)?.wantsPeers() ?? 0) > 0;
  }

  connectedOverTcp(peerIdHex: string): boolean {
    return this.env.find(this.hex)?.hasTcpPeer(peerIdHex) ?? false;
  }
}
