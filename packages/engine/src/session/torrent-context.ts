// What a torrent needs from the session that owns it: identity, network, hashing, storage,
// discovery, limits and policy hooks. The Node and browser sessions each build one (node/session.ts,
// browser/session.ts); the torrent never reaches past it.
import type { PrivateDiscovery, ResumeStore, WireExtension } from '../api.ts';
import type { TrackerClient, TrackerClientOptions } from '../discovery/tracker-client.ts';
import type { Dialer, Hasher, StorageFactory } from '../platform.ts';
import type { Metainfo, PeerAddress } from '../types.ts';
import type { RateLimitPair } from '../swarm/rate-limiter.ts';
import type { Scheduler } from './scheduler.ts';
import type { EngineTally } from '../events/counters.ts';
import type { RangeRead } from '../swarm/range-read.ts';
import type { Emitter } from '../events/emitter.ts';
import type { LsdTorrent } from '../discovery/lsd.ts';
import type { SlabSource } from '../pieces/buffer-pool.ts';
import type { OwnAddresses } from '../swarm/own-address.ts';
import type { CheckGate } from '../pieces/check-gate.ts';

export interface TorrentContext {
  peerId: Uint8Array;
  port(): number;
  dialer: Dialer;
  hasher: Hasher;
  createStorage: StorageFactory;
  resumeStore?: ResumeStore;
  createTracker(opts: TrackerClientOptions, privateDiscovery?: boolean): TrackerClient;
  /** Discovery through circuits for torrents added with privateDiscovery (see PrivateDiscovery). */
  privateDiscovery?: PrivateDiscovery;
  dht?: {
    lookup(infoHashHex: string, onPeers: (p: PeerAddress[]) => void): void;
    announce(infoHashHex: string, port: number): Promise<void>;
    addNode(addr: PeerAddress): void;
    nodeCount?(): number;
  };
  dhtPort(): number | undefined;
  extraTrackers: string[];
  /** Readers for mirror URL schemes beyond http(s) (SessionOptions.rangeReaders). */
  rangeReaders?: Record<string, RangeRead>;
  /** Web seeds' reads when SessionOptions.urlGuard is set: http(s) through its fetch, other
   *  schemes checked first. Omitted = the plain readers. */
  guardedRead?: (scheme: string) => RangeRead | undefined;
  maxConnections: number;
  /** Room for one more connection node-wide (checked before dialling); omitted = no such limit. */
  canConnect?(): boolean;
  /** A peer whose BitTorrent handshake has not arrived this long after connecting is dropped. */
  handshakeTimeoutMs?: number;
  /** SessionOptions.stopWhenDataGone. */
  stopWhenDataGone?: boolean;
  /** Whose check reads the disk now (SessionOptions.maxActiveChecks); omitted = every check at once. */
  checkGate?: CheckGate;
  client: string;
  /** Piece buffers; the platform may hand out uninitialised memory (every byte gets written). */
  allocate?: (n: number) => Uint8Array;
  /** Memory to carve the first piece buffers from (Node: page-aligned, for direct I/O writes), in
   *  one slab or slab by slab as they are needed (BufferPool's SlabSource). */
  pieceSlab?: (pieceLength: number) => SlabSource | undefined;
  /** Copies a block into a piece buffer from pieceSlab (shared memory, which `set` copies slowly). */
  copyIntoPiece?: (piece: Uint8Array, block: Uint8Array, at: number) => void;
  isBanned(address: string, peerId?: Uint8Array): boolean;
  ban(address: string, peerId: Uint8Array | undefined): void;
  extensions?: readonly WireExtension[];
  /** Claims the torrent's files on disk (throws when another torrent owns one); returns the release. */
  claimFiles?(meta: Metainfo, savePath: string): () => void;
  /** The session's speed limits, shared by all its torrents; omitted = none. */
  rateLimits?: RateLimitPair;
  /** The session's one clock: ticks torrents that have something to do, paces announces. */
  scheduler: Scheduler;
  /** Moves a torrent's files between save paths (Node: rename, or copy + delete across file
   *  systems); omitted = this platform cannot move data. */
  storageMover?: StorageMover;
  /** The session's running totals (bytes by transport, pieces, errors); omitted = not counted. */
  tally?: EngineTally;
  /** Every torrent's events once more, as (torrent, ...args): one listener here follows all the
   *  session's torrents, where one per torrent would cost closures and arrays on each of 10,000. */
  torrentEvents?: Emitter;
  /** BEP 14 local service discovery: a torrent joins when it starts and leaves when it stops;
   *  whether it is announced (not private, LSD on) is asked each time (discovery/lsd.ts). */
  lsd?: { join(t: LsdTorrent): void; leave(t: LsdTorrent): void; enabled(): boolean };
  /** BEP 55: whether we can answer a hole-punch connect (uTP runs); omitted = no. */
  canHolepunch?(): boolean;
  /** Our IPv6 address as peers report it (BEP 10 yourip), sent to IPv4 peers as `ipv6`. */
  ownAddresses?: OwnAddresses;
}

export interface StorageMover {
  /** The absolute form of a save path, as the session keeps them. */
  resolve(savePath: string): string;
  /** Moves every (non-pad) file of `meta` from one save path to another (to the paths `toMeta`
   *  gives them when renamed); on failure puts back what it moved and rejects with the reason. */
  move(meta: Metainfo, from: string, to: string, toMeta?: Metainfo): Promise<void>;
}
