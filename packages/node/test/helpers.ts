// Shared test helpers: temp state dirs and a fake engine session (also used by the CLI's tests).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type {
  SessionHandle,
  TorrentHandle,
  TorrentStats,
  PeerStats,
  TrackerStatus,
  AddTorrentOptions,
  TorrentSource,
  SessionHealth,
  Metainfo,
  RateLimits,
  DiscoveryReport,
} from '../src/core/engine.ts';

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-server-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const HASH_A = 'aa'.repeat(20);
export const HASH_B = 'ab'.repeat(20);

/** A torrent handle with settable stats; records the calls verbs make on it. */
export class FakeTorrent extends EventEmitter implements TorrentHandle {
  readonly infoHashHex: string;
  metainfo: Metainfo | undefined;
  state: TorrentStats['state'] = 'downloading';
  progress = 0.5;
  addedPeers: string[] = [];
  announced = 0;
  peerList: PeerStats[] = [];

  name: string | undefined;
  #reads = 0;
  /** Tests set fields directly: every read is a new revision, so nothing is ever taken as unchanged. */
  get revision(): number {
    return ++this.#reads;
  }

  constructor(infoHashHex: string, name: string | undefined) {
    super();
    this.infoHashHex = infoHashHex;
    this.name = name;
  }

  stats(): TorrentStats {
    return {
      infoHashHex: this.infoHashHex,
      name: this.name,
      state: this.state,
      progress: this.progress,
      length: 1000,
      pieceCount: 4,
      verifiedPieces: Math.floor(this.progress * 4),
      downloaded: 500,
      uploaded: 0,
      downloadSpeed: 100,
      uploadSpeed: 0,
      eta: 5,
      peers: this.peerList.length,
      seeds: 0,
    };
  }
  peers(): PeerStats[] {
    return this.peerList;
  }
  trackers(): TrackerStatus[] {
    return [{ url: 'http://127.0.0.1:1/announce', tier: 0, status: 'ok', peers: 1 }];
  }
  addPeer(addr: string | { host: string; port: number }): void {
    this.addedPeers.push(typeof addr === 'string' ? addr : `${addr.host}:${addr.port}`);
  }
  async pause(): Promise<void> {
    this.state = 'paused';
  }
  async resume(): Promise<void> {
    this.state = 'downloading';
  }
  selectFiles(): void {}
  fetchPieces(): () => void {
    return () => {};
  }
  announce(): void {
    this.announced++;
  }
  async recheck(): Promise<void> {
    this.state = 'checking';
  }
  limits: RateLimits = { download: 0, upload: 0 };
  setRateLimits(l: Partial<RateLimits>): void {
    this.limits = { ...this.limits, ...l };
  }
  rateLimits(): RateLimits {
    return { ...this.limits };
  }
  savePath = '/tmp/fake';
  moves: string[] = [];
  async move(p: string): Promise<void> {
    this.moves.push(p);
    this.savePath = p;
  }
  discovery(): DiscoveryReport {
    return { trackers: this.trackers(), dht: { enabled: false, nodes: 0, lookups: 0, peersFound: 0, lastLookupAt: null }, peersTried: [] };
  }
}

/** A plain-object SessionHandle: enough to drive the control RPC layer without the engine. */
export function fakeSession(torrents: FakeTorrent[] = []) {
  const map = new Map(torrents.map((t) => [t.infoHashHex, t]));
  const calls: { add: [TorrentSource, AddTorrentOptions][]; remove: [string, unknown][]; closed: number } = {
    add: [],
    remove: [],
    closed: 0,
  };
  const limits: RateLimits = { download: 0, upload: 0 };
  const session: SessionHandle = {
    port: 6881,
    peerIdHex: '2d435330313030' + '00'.repeat(13),
    async add(source, opts) {
      calls.add.push([source, opts]);
      const ih = typeof source === 'string' ? (/[0-9a-f]{40}/.exec(source)?.[0] ?? HASH_B) : HASH_B;
      const t = map.get(ih) ?? new FakeTorrent(ih, typeof source === 'string' ? undefined : 'from-bytes');
      map.set(ih, t);
      return t;
    },
    get: (ih) => map.get(ih),
    list: () => [...map.values()],
    async remove(ih, opts) {
      calls.remove.push([ih, opts]);
      map.delete(ih);
    },
    health: (): SessionHealth => ({ port: 6881, torrents: map.size, peers: 0, dhtNodes: 3, dhtEnabled: true }),
    setRateLimits(l) {
      Object.assign(limits, l);
    },
    rateLimits: () => ({ ...limits }),
    async close() {
      calls.closed++;
    },
  };
  return { session, calls, map };
}
