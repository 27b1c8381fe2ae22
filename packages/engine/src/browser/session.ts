// The engine in a browser tab: the same Torrent core as Node, with WebRTC data channels as the only
// peer transport (peers found through WebSocket trackers) plus HTTP web seeds, pieces in memory (or
// read from the user's own Files when seeding), SHA-1 through WebCrypto. Nothing here may import node:*.

import { makePeerId } from '../wire/peer-id.ts';
import type {
  AddTorrentOptions, IceServer, RateLimits, ResumeData, ResumeStore, SessionHandle, SessionHealth, TorrentSource,
  PrivateDiscovery,
} from '../api.ts';
import { Scheduler } from '../session/scheduler.ts';
import type { ChangeFeed } from '../events/change-log.ts';
import { RateLimitPair } from '../swarm/rate-limiter.ts';
import { Bitfield } from '../pieces/bitfield.ts';
import { HybridTrackerClient, TorrentRtcHooks, type RtcHookEnv } from '../discovery/tracker-hybrid.ts';
import type { TrackerClientOptions } from '../discovery/tracker-client.ts';
import { DEFAULT_ICE_SERVERS, WsTrackerPool, type RTCPeerConnectionCtor } from '../discovery/ws-pool.ts';
import { toHex } from '../encoding/hex.ts';
import { parseTorrentId, toMagnet } from '../metainfo/magnet.ts';
import { MetainfoError, parseTorrent } from '../metainfo/metainfo.ts';
import type { Dialer } from '../platform.ts';
import { Torrent, type TorrentContext } from '../torrent/torrent.ts';
import { CheckGate } from '../pieces/check-gate.ts';
import type { CandidatePairInfo } from '../webrtc/webrtc-connection.ts';
import { createTorrentFromFiles, type CreateFromFilesOptions, type NamedBlob } from './create-torrent.ts';
import { createBrowserHasher } from './hasher.ts';
import { IdbResumeStore, IdbStorage, openCascadeDb } from './idb-storage.ts';
import { MemoryStorage } from './storage.ts';

export const BROWSER_CLIENT_NAME = 'Cascade 0.1.0 (browser)';

export interface BrowserSessionOptions {
  /** Extra WebSocket tracker URLs (ws:// or wss://) added to every torrent. */
  trackers?: string[];
  /** STUN/TURN servers; omitted = one public STUN server. Tests pass []. */
  iceServers?: IceServer[];
  peerId?: Uint8Array;
  maxConnectionsPerTorrent?: number;
  /** WebRTC offers per announce (WebTorrent: 5). */
  offers?: number;
  /** Floor on the announce interval, seconds. Default 30. */
  minAnnounceInterval?: number;
  /** Default: the page's RTCPeerConnection. */
  RTCPeerConnection?: RTCPeerConnectionCtor;
  /** Where downloaded pieces live: 'memory' (default; gone with the page) or 'indexeddb' (kept on
   *  disk by the browser, with resume data, so a torrent added again after a reload picks up). */
  storage?: 'memory' | 'indexeddb';
  /** IndexedDB database name for storage 'indexeddb'. Default 'cascade'. */
  databaseName?: string;
  /** For torrents added with `privateDiscovery`: their WebSocket trackers through `WebSocket` (an
   *  onion tunnel that strips this page's addresses from its offers). Omitted: such adds refused. */
  privateDiscovery?: PrivateDiscovery;
}

export interface SeedResult {
  infoHash: string;
  magnet: string;
  /** The .torrent file's bytes (offer it for download, or hand it to another page). */
  torrent: Uint8Array;
  handle: Torrent;
}

/** No TCP in a browser: addresses learnt from PEX or magnets cannot be dialled. */
const noDialer: Dialer = { dial: () => Promise.reject(new Error('TCP peers are not reachable from a browser')) };

/** Resume data for this page's lifetime: what lets a seeded torrent skip re-hashing its files. */
class MemoryResumeStore implements ResumeStore {
  private map = new Map<string, ResumeData>();
  async load(h: string) {
    return this.map.get(h);
  }
  async save(h: string, d: ResumeData) {
    this.map.set(h, d);
  }
  async delete(h: string) {
    this.map.delete(h);
  }
}

export class BrowserSession implements SessionHandle {
  readonly port = 0;
  readonly peerIdHex: string;
  private readonly peerId: Uint8Array;
  private readonly opts: BrowserSessionOptions;
  private readonly pool: WsTrackerPool;
  /** Private-discovery torrents' trackers: tunnelled, under a peer id of their own. */
  private hiddenPool: WsTrackerPool | undefined;
  private readonly rtc: RTCPeerConnectionCtor;
  private readonly hasher = createBrowserHasher();
  private readonly resume: ResumeStore;
  private readonly db: Promise<IDBDatabase> | undefined;
  private torrents = new Map<string, Torrent>();
  private storages = new Map<string, MemoryStorage | IdbStorage>();
  /** Files of torrents being seeded from the page, until their storage is made. */
  private seedBlobs = new Map<string, Blob[]>();
  private banned = new Set<string>();

  constructor(opts: BrowserSessionOptions = {}) {
    this.opts = opts;
    this.peerId = opts.peerId ?? makePeerId();
    this.peerIdHex = toHex(this.peerId);
    const RTC = opts.RTCPeerConnection ?? (globalThis as { RTCPeerConnection?: RTCPeerConnectionCtor }).RTCPeerConnection;
    if (!RTC) throw new Error('this browser has no WebRTC (RTCPeerConnection)');
    if (opts.storage === 'indexeddb') {
      this.db = openCascadeDb(opts.databaseName);
      this.db.catch(() => {});
      this.resume = new IdbResumeStore(this.db);
    } else {
      this.resume = new MemoryResumeStore();
    }
    this.rtc = RTC;
    this.pool = new WsTrackerPool(this.peerId, { RTCPeerConnection: RTC, config: this.rtcConfig() });
  }

  /** Same shape as Session.create. */
  static async create(opts: BrowserSessionOptions = {}): Promise<BrowserSession> {
    return new BrowserSession(opts);
  }

  /** The one clock of every torrent of this session (session/scheduler.ts). */
  private readonly scheduler = new Scheduler();
  private sharedContext: TorrentContext | undefined;

  /** One context for every torrent (it holds nothing of any one torrent). */
  private context(): TorrentContext {
    return (this.sharedContext ??= {
      scheduler: this.scheduler,
      peerId: this.peerId,
      port: () => 0,
      dhtPort: () => undefined,
      dialer: noDialer,
      hasher: this.hasher,
      createStorage: (meta) => {
        const blobs = this.seedBlobs.get(meta.infoHashHex);
        // The user's own files are read in place; downloads go to IndexedDB when asked for.
        const s = this.db && !blobs ? new IdbStorage(meta, this.db) : new MemoryStorage(meta, blobs);
        this.seedBlobs.delete(meta.infoHashHex);
        this.storages.set(meta.infoHashHex, s);
        return s;
      },
      resumeStore: this.resume,
      createTracker: (o, hidden) => this.createTracker(o, hidden),
      privateDiscovery: this.opts.privateDiscovery,
      extraTrackers: this.opts.trackers ?? [],
      maxConnections: this.opts.maxConnectionsPerTorrent ?? 30,
      client: BROWSER_CLIENT_NAME,
      checkGate: new CheckGate(1), // a page's torrents reloaded from IndexedDB check one by one, as a node's do
      isBanned: (address, peerId) => this.banned.has(address) || (!!peerId && this.banned.has(toHex(peerId))),
      ban: (address, peerId) => {
        this.banned.add(address);
        if (peerId) this.banned.add(toHex(peerId));
      },
      rateLimits: this.limitBuckets,
    });
  }

  /** Speed limits for every torrent of the page (bytes/s, 0 = none). */
  private readonly limitBuckets = new RateLimitPair();

  setRateLimits(limits: Partial<RateLimits>): void {
    this.limitBuckets.set(limits);
    for (const t of this.torrents.values()) t.setRateLimits({});
  }

  rateLimits(): RateLimits {
    return this.limitBuckets.get();
  }

  private rtcConfig(): RTCConfiguration & Record<string, unknown> {
    return { iceServers: (this.opts.iceServers ?? DEFAULT_ICE_SERVERS) as RTCIceServer[] };
  }

  private createTracker(opts: TrackerClientOptions, hidden = false) {
    const ws = this.opts.privateDiscovery?.WebSocket;
    if (hidden && !ws) throw new Error('private discovery is not configured');
    const pool = hidden ? (this.hiddenPool ??= new WsTrackerPool(makePeerId(), { RTCPeerConnection: this.rtc, config: this.rtcConfig(), WebSocket: ws })) : this.pool;
    return new HybridTrackerClient(opts, new TorrentRtcHooks((this.rtcHookEnv ??= this.hookEnv()), pool, opts.infoHashHex ?? toHex(opts.infoHash)));
  }

  /** The WebRTC hooks' session-wide part (the main and the hidden pool alike). */
  private rtcHookEnv: RtcHookEnv | undefined;

  private hookEnv(): RtcHookEnv {
    return { ipTrackers: false, minInterval: this.opts.minAnnounceInterval, maxOffers: this.opts.offers ?? 5, find: (hex) => this.torrents.get(hex) };
  }

  /** A .torrent's bytes, a magnet URI or an infohash. `savePath` means nothing here and may be omitted. */
  async add(source: TorrentSource, opts: Partial<AddTorrentOptions> = {}): Promise<Torrent> {
    if (opts.privateDiscovery && !this.opts.privateDiscovery?.WebSocket) throw new Error('private discovery needs onion relays (a directory) in this page');
    const addOpts: AddTorrentOptions = { ...opts, savePath: '' };
    let t: Torrent;
    if (typeof source === 'string') {
      const m = parseTorrentId(source);
      const existing = this.torrents.get(m.infoHashHex);
      if (existing) return existing;
      // BEP 19 web seeds (ws=) work here too, through fetch, where the server allows CORS.
      t = new Torrent(this.context(), { infoHashHex: m.infoHashHex, infoHashV2Hex: m.infoHashV2Hex, name: m.name, trackers: m.trackers, peers: m.peers, webSeeds: m.webSeeds, selectOnly: m.selectOnly }, addOpts);
    } else {
      const meta = parseTorrent(source);
      const existing = this.torrents.get(meta.infoHashHex);
      if (existing) return existing;
      t = new Torrent(this.context(), { infoHashHex: meta.infoHashHex, metainfo: meta }, addOpts);
    }
    this.torrents.set(t.infoHashHex, t);
    this.scheduler.changes.note(t);
    await t.start();
    return t;
  }

  /** Makes a torrent of the user's files and seeds it from this page (the files are read on demand). */
  async seedFiles(files: NamedBlob[], opts: CreateFromFilesOptions & { announce: string[] }): Promise<SeedResult> {
    const { torrent, metainfo, blobs } = await createTorrentFromFiles(files, opts);
    const hex = metainfo.infoHashHex;
    const existing = this.torrents.get(hex);
    if (!existing) {
      // We just hashed every piece: tell the torrent so, instead of hashing it all again.
      const have = new Bitfield(metainfo.pieceCount);
      have.setAll();
      await this.resume.save(hex, { have: have.bytes, infoBytes: metainfo.infoBytes, files: blobs.map((b) => ({ length: b.size, mtimeMs: 0 })) });
      this.seedBlobs.set(hex, blobs);
    }
    const handle = existing ?? (await this.add(torrent));
    const trackers = metainfo.announce.flat();
    return { infoHash: hex, magnet: toMagnet({ infoHashHex: hex, infoHashV2Hex: metainfo.infoHashV2Hex, name: metainfo.name, trackers }), torrent, handle };
  }

  /** A file of a torrent as a Blob, once all its pieces are here (for `URL.createObjectURL` + download). */
  async fileBlob(infoHashHex: string, fileIndex: number): Promise<Blob> {
    const t = this.get(infoHashHex);
    const s = t && this.storages.get(t.infoHashHex);
    if (!s) throw new MetainfoError(`no data for torrent ${infoHashHex}`);
    return s.fileBlob(fileIndex);
  }

  /** The ICE candidate pair of every open WebRTC connection. */
  webrtcCandidatePairs(): Promise<CandidatePairInfo[]> {
    return this.pool.candidatePairs();
  }

  get(infoHashHex: string): Torrent | undefined {
    return this.torrents.get(infoHashHex.toLowerCase());
  }

  list(): Torrent[] {
    return [...this.torrents.values()];
  }

  changes(): ChangeFeed<Torrent> {
    return this.scheduler.changes.feed<Torrent>();
  }

  async remove(infoHashHex: string, opts: { deleteData?: boolean } = {}): Promise<void> {
    const t = this.get(infoHashHex);
    if (!t) throw new MetainfoError(`no torrent ${infoHashHex}`);
    this.torrents.delete(t.infoHashHex);
    this.scheduler.changes.note(t);
    await t.close({ deleteData: true, ...opts });
    // Memory is all there is: a removed torrent's pieces go with it.
    this.storages.delete(t.infoHashHex);
    await this.resume.delete(t.infoHashHex);
  }

  health(): SessionHealth {
    let peers = 0;
    for (const t of this.torrents.values()) peers += t.stats().peers;
    return { port: 0, torrents: this.torrents.size, peers, dhtNodes: 0, dhtEnabled: false };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.torrents.values()].map((t) => t.close()));
    this.scheduler.close();
    this.torrents.clear();
    this.storages.clear();
    this.pool.close();
    this.hiddenPool?.close();
    await this.hasher.close();
    (await this.db?.catch(() => undefined))?.close();
  }
}
