// What the tracker keeps: swarms, the private-mode registry and the WebSocket relay. All behind one
// interface so one process can keep it in memory and several can share it through Redis. Methods
// may return promises (Redis) or plain values (memory, so the UDP hot path never yields); callers
// handle both.

export type Awaitable<T> = T | Promise<T>;

/**
 * `ip` peers are reached by address (HTTP/UDP announces); `ws` peers are browsers reachable only
 * through the WebSocket they announced on, so the two never appear in each other's peer lists.
 */
export type PeerKind = 'ip' | 'ws';

export interface PeerRecord {
  peerIdHex: string;
  /** IP peers: the address others connect to. WebSocket peers: '' (they have no reachable address). */
  host: string;
  port: number;
  /** WebSocket peers: id of the tracker process holding the socket, so offers can be relayed there. */
  owner: string;
  /** IPv4 address as a 32-bit number, when the store keeps it precomputed (saves parsing per reply). */
  ip4?: number;
}

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  /** Completed events seen (the scrape `downloaded` field). */
  downloaded: number;
}

export interface AnnounceInput {
  infoHashHex: string;
  peerIdHex: string;
  kind: PeerKind;
  host: string;
  port: number;
  /** WebSocket peers only; '' otherwise. */
  owner: string;
  left: number;
  /** Totals the client reports since its `started`; private mode turns their growth into user totals. */
  uploaded: number;
  downloaded: number;
  event?: 'started' | 'completed' | 'stopped';
  numwant: number;
  /** When the request came, in ms since the epoch, if the front end read the clock already (else the store does). */
  now?: number;
  /** Private mode: the passkey whose user gets credited. */
  passkey?: string;
  /** The caller wants peers in BEP 23 / BEP 7 form: a store may then answer with `compact4` and `compact6`. */
  compact?: boolean;
  /** The peer id as raw bytes (20 at `peerIdOffset`), when the front end has them: saves the store parsing `peerIdHex`. */
  peerId?: Uint8Array;
  peerIdOffset?: number;
  /** Likewise `host` as 16 bytes at `hostBytesOffset` (IPv4 mapped into IPv6). */
  hostBytes?: Uint8Array;
  hostBytesOffset?: number;
  /** Likewise the infohash (20 bytes at `infoHashOffset`). */
  infoHash?: Uint8Array;
  infoHashOffset?: number;
  /**
   * With `compact`: a store that answers synchronously may write the peers of `family` in
   * compact form straight into `buf` at `offset` (no buffer per reply) and report the byte count
   * as `written`. A store that answers later must leave `buf` alone (the caller reuses it). A
   * synchronous result of such an announce may be an object the store reuses: the caller reads it
   * before it announces again.
   */
  into?: CompactSink;
  /**
   * A WebSocket peer of this process's own connection (ws.ts connectLocal): it stays until it
   * stops or that connection closes, without re-announcing. Honoured by stores that say
   * `pinsLocalPeers`; others keep their ttl (and the tracker then asks for re-announces as usual).
   */
  pinned?: boolean;
}

/** Where a synchronous store may write compact peers of one family (AnnounceInput.into). */
export interface CompactSink {
  buf: Uint8Array;
  offset: number;
  family: 4 | 6;
}

export interface AnnounceResult {
  peers: PeerRecord[];
  counts: SwarmCounts;
  /** When present, the IPv4 peers in BEP 23 compact form; `peers` then holds only the others. */
  compact4?: Buffer;
  /** When present, IPv6 peers in BEP 7 compact form (18 bytes each), likewise not in `peers`. */
  compact6?: Buffer;
  /** When present, the bytes of peers written into AnnounceInput.into; `peers` then holds only the others. */
  written?: number;
}

export interface StoreTotals {
  torrents: number;
  peers: number;
  seeders: number;
  leechers: number;
}

export interface UserRecord {
  passkey: string;
  name: string;
  uploaded: number;
  downloaded: number;
}

/** Why a private-mode announce is refused; undefined when it is allowed. */
export type Refusal = 'unknown passkey' | 'unregistered torrent' | undefined;

/** A message for one WebSocket peer, wherever its socket lives. */
export interface RelayMessage {
  toPeerIdHex: string;
  infoHashHex: string;
  /** The JSON text to send as is. */
  payload: string;
}

export interface SwarmStore {
  /** Records the peer (or drops it on `stopped`), credits its user, returns up to numwant other peers of its kind. */
  announce(a: AnnounceInput): Awaitable<AnnounceResult>;
  counts(infoHashHex: string): Awaitable<SwarmCounts>;
  /** The live peer with this id in the swarm, if any (to route a WebSocket answer). */
  findPeer(infoHashHex: string, peerIdHex: string, kind: PeerKind): Awaitable<PeerRecord | undefined>;
  totals(): Awaitable<StoreTotals>;
}

export interface Registry {
  addUser(user: { passkey: string; name: string }): Awaitable<void>;
  user(passkey: string): Awaitable<UserRecord | undefined>;
  users(): Awaitable<UserRecord[]>;
  addTorrent(infoHashHex: string): Awaitable<void>;
  /** One call for the announce path: is this passkey known, and this torrent registered? */
  authorize(passkey: string, infoHashHex: string): Awaitable<Refusal>;
  torrentRegistered(infoHashHex: string): Awaitable<boolean>;
}

export interface PeerRelay {
  /** Delivers to the process `owner`, which hands the payload to its local socket for that peer. */
  relay(owner: string, msg: RelayMessage): Awaitable<void>;
  /** Called with messages other processes (or this one) relay to peers owned by `owner`. */
  onRelay(owner: string, handler: (msg: RelayMessage) => void): Awaitable<void>;
}

export interface TrackerStore extends SwarmStore, Registry, PeerRelay {
  /** Whether AnnounceInput.pinned is honoured. */
  readonly pinsLocalPeers?: boolean;
  close(): Awaitable<void>;
}

/** Runs `f` on a value that may or may not be a promise, without yielding when it is not. */
export function then<T, R>(v: Awaitable<T>, f: (x: T) => Awaitable<R>): Awaitable<R> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/**
 * Growth of a client's reported totals since its last announce. A client restarts its counters
 * with `started`, so that announce's figures are all new; a drop means it restarted without one.
 * A peer we have no record of (expired, or a tracker restart) sets a baseline and is credited
 * nothing, since crediting its full total again would count the same bytes twice.
 */
export function transferDelta(prev: number | undefined, now: number, event: AnnounceInput['event']): number {
  if (prev === undefined) return event === 'started' ? now : 0;
  return now >= prev ? now - prev : now;
}
