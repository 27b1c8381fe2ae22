// The engine's public surface as the CLI, the server and the browser app see it.
// Session and Torrent implement these interfaces (src/node/session.ts and src/browser/session.ts, src/torrent/torrent.ts).

import type { Metainfo, PeerAddress } from './types.ts';
import type { RangeRead } from './swarm/range-read.ts';
import type { Storage } from './platform.ts';
import type { TrackerTransport } from './discovery/tracker-types.ts';
import type { TrackerFetch } from './discovery/tracker-http.ts';
export type { TrackerFetch, TrackerResponse } from './discovery/tracker-http.ts';
import type { DhtQueries } from './discovery/dht-types.ts';
import type {
  DiscoveryReport,
  ExtensionPeer,
  IceServer,
  LocalAnnounceReply,
  LocalAnnounceRequest,
  PeerAttempt,
  PeerStats,
  SourceBytes,
  TrackerStatus,
  TransportCounts,
} from '@cascade/shapes';

// Shapes the node, its HTTP API and the web app share with the engine: defined once in
// @cascade/shapes, part of the engine's surface as before.
export type { DiscoveryReport, ExtensionPeer, IceServer, LocalAnnounceReply, LocalAnnounceRequest, PeerAttempt, PeerStats, SourceBytes, TrackerStatus, TransportCounts };

/**
 * A BEP 10 extension plugged in from outside the engine (the Cascade identity hello lives with the
 * identity code): the engine advertises `name` in every extended handshake and passes its messages
 * through, knowing nothing of what they carry.
 */
export interface WireExtension {
  readonly name: string;
  /** The peer advertised `name` too (called once, after both extended handshakes). */
  onPeer?(peer: ExtensionPeer): void;
  onMessage(peer: ExtensionPeer, payload: Uint8Array): void;
  /** The connection is gone. */
  onClose?(peer: ExtensionPeer): void;
}

/** SessionOptions.urlGuard: the session's doors for URLs that come with a torrent. */
export interface UrlGuard {
  /** For http(s) web seeds and HTTP trackers: each hop checked, and pinned to the address checked. */
  fetch: typeof fetch;
  /** Rejects when `url` may not be contacted: UDP and WebSocket trackers, web seeds of other
   *  schemes (checked before each connection; the name is resolved again to connect). */
  check(url: string): Promise<void>;
  /** `fetch` over one address family (the name's addresses of that family, checked and pinned):
   *  with it a dual-stack session announces to a tracker whose name has both over each; without
   *  it, once. */
  fetchOver?(family: 4 | 6): typeof fetch;
  /** HTTP trackers' side of `fetch` (and of `fetchOver`): status and body only, so a node that
   *  announces need not load Node's fetch implementation. Without it trackers use `fetch`. */
  trackerFetch?: TrackerFetch;
  trackerFetchOver?(family: 4 | 6): TrackerFetch;
}

export interface SessionOptions {
  /** TCP listen port; 0 = any free port (read it back from `session.port`). Default 0. */
  port?: number;
  /** Address to bind the TCP listener and DHT to. Default '::' (IPv6 and IPv4 on one socket, and a
   *  DHT for each family: BEP 32), or '0.0.0.0' on a machine without IPv6. '0.0.0.0' or an IPv4
   *  address: IPv4 only; an IPv6 address: IPv6 only. */
  host?: string;
  /** false disables the DHT; otherwise its bootstrap nodes ("host:port"); omitted = public routers. */
  dht?: false | { bootstrap?: string[] };
  /** Extra tracker URLs added to every torrent. */
  trackers?: string[];
  /** How tracker names resolve (Node): every address of a name, each with its family. A
   *  dual-stack session announces over IPv4 and over IPv6 to a name that has both, as libtorrent
   *  does once per listen socket. Default the system's resolver; tests give `localhost` both
   *  loopbacks with it. */
  resolve?: (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;
  /** Range readers for web seed / mirror URL schemes beyond http(s), by scheme without the colon
   *  (`{ ftp: … }`): how a mirror given as ftp:// is read. */
  rangeReaders?: Record<string, RangeRead>;
  /** A tracker running in this very process (a node's built-in one): see LocalTracker. */
  localTracker?: LocalTracker;
  /** Where the URLs a torrent or magnet names (web seeds, trackers) may lead; omitted = anywhere.
   *  A node that strangers can hand torrents to keeps them off its own machine and LAN with it. */
  urlGuard?: UrlGuard;
  /** Where a torrent's pieces live, chosen when its metadata is known (Node only): `standard()` (its
   *  files under the save path) or a Storage of your own, such as one that keeps a private share's
   *  plaintext and hands out the ciphertext made from it. The engine knows nothing more of it. */
  storageFor?: (meta: Metainfo, savePath: string, standard: () => Storage) => Storage;
  /** How torrent.move() carries a torrent's data (Node only), called while it is suspended (its
   *  storage closed): `standard()` moves its files; a node that keeps more beside them (a private
   *  share's plaintext) moves that too, and on failure puts back what it moved and rejects. */
  moveData?: (meta: Metainfo, from: string, to: string, standard: () => Promise<void>) => Promise<void>;
  /** 20-byte peer id; generated when omitted. */
  peerId?: Uint8Array;
  /** A torrent whose resume data saw data in files that are all gone at its start (a drive not
   *  mounted) stops in error ("No data found") instead of fetching them again; resume() fetches them. */
  stopWhenDataGone?: boolean;
  /** Torrents whose pieces are hashed at once (checks, rechecks); the rest wait their turn (pieces/check-gate.ts). Default 1; 0 = no limit. */
  maxActiveChecks?: number;
  /** Connections per torrent, dialled and accepted (incoming peers get 5 more). Default 50, as
   *  before; past it an incoming peer takes the slot of the peer useless longest, if any. */
  maxConnectionsPerTorrent?: number;
  /** Connections for the whole node, every torrent and unfinished handshakes included. At the
   *  limit we dial no more, and a newcomer takes the slot of the connection that has been useless
   *  longest (neither side interested), or is refused. Default 200 (libtorrent's connections_limit). */
  maxConnections?: number;
  /** Inbound connections one remote address may hold at once in each torrent (and 4× that in
   *  unfinished handshakes: a node starting with many torrents from us dials them all at once).
   *  A client opens one per torrent it shares with us; more in one torrent is a flood (over many
   *  torrents the node-wide limit and its eviction hold). IPv6 addresses count by their /64 (one
   *  subscriber's prefix). Default 8. */
  maxConnectionsPerAddress?: number;
  /** Peers (host:port) at one remote address (IPv6: one /64) we dial or hold connections to at
   *  once, over all torrents: peer lists (a tracker's, PEX, a torrent's) naming one host at many
   *  ports must not make us flood it. One peer sharing many torrents with us counts once (a
   *  connection per torrent). Default 8. */
  maxOutgoingPerAddress?: number;
  /** Milliseconds a connection has to finish its handshake (MSE and BitTorrent, in or out) before
   *  it is closed. Default 10 000 (libtorrent's handshake_timeout). */
  handshakeTimeoutMs?: number;
  /** Tracker announces the session begins per second at most, all torrents together (those that
   *  want data first; `announce()` is never held). Default 40, with at most 50 in flight. A node
   *  whose every torrent also announces to its own tracker may want fewer: each announce costs
   *  CPU on both ends, and 10,000 torrents × 2 tiers take 10,000 × 2 / this many seconds. */
  announcesPerSecond?: number;
  /** Where resume data goes; omitted = no fast resume. */
  resumeStore?: ResumeStore;
  /** WebRTC peers (browsers, WebTorrent) found through WebSocket trackers: torrents with ws:// or
   *  wss:// trackers (in the torrent or in `trackers`) announce there and trade pieces over data
   *  channels with the same swarm as TCP peers. false disables it. Default: enabled, public STUN. */
  webrtc?: WebRtcOptions | false;
  /** Message Stream Encryption (MSE/PE) on TCP. 'prefer-plaintext': accept encrypted and plaintext
   *  handshakes, pick the plaintext stream when the peer offers it, dial out in plaintext.
   *  'require': RC4 only, in and out (plaintext handshakes are refused). 'disabled': plaintext only.
   *  Default 'prefer-plaintext'. */
  encryption?: 'prefer-plaintext' | 'require' | 'disabled';
  /** BEP 10 extensions spoken with every peer that advertises them (see WireExtension). */
  extensions?: WireExtension[];
  /** How torrents added with `privateDiscovery` find peers (onion circuits, from outside the
   *  engine); omitted = such adds are refused. */
  privateDiscovery?: PrivateDiscovery;
  /** BEP 14 local service discovery: running torrents that are not private are announced by
   *  multicast on the LAN (239.192.152.143 and ff15::efc0:988f, port 6771) and peers announcing
   *  them there are dialled. true or options = on; omitted or false = off (an embedder or a test
   *  never multicasts unless it asks; the node turns it on for `cascade serve`). `intervalMs`:
   *  between a torrent's announces, default 5 minutes (libtorrent's); tests make it short. */
  lsd?: boolean | { intervalMs?: number };
  /** Hash complete pieces on a worker thread (Node): true, false, 'auto' (piece by piece, on the
   *  worker only while the main thread is busy but waiting for a core), or left out for the default,
   *  which is on where the machine has 4 or more cores (on 2 idle cores a worker competes with the
   *  socket thread and measured slower: 1.56 vs 1.49 s and 1.83 vs 1.69 CPU-s per 512 MiB from
   *  libtorrent; on 2 cores shared with other work it measured faster). Forced with
   *  CASCADE_HASH_WORKER=on|off|auto. */
  hashWorker?: boolean | 'auto';
  /** uTP (BEP 29, LEDBAT congestion control) beside TCP: a UDP socket on the listen port's number
   *  (shared with the IPv4 DHT), incoming uTP accepted; outgoing connections try uTP first with TCP
   *  as the fallback, except to loopback and private-network addresses, where TCP goes first (see
   *  node/utp-dialer.ts). On unless false; 'first' dials uTP first to local peers too; 'only'
   *  dials over uTP alone (libtorrent's enable_outgoing_tcp off: a node behind a NAT whose TCP
   *  dials leave from ephemeral ports, which a BEP 55 broker cannot name), TCP still accepted. */
  utp?: boolean | 'first' | 'only';
}

/** session.localDiscovery(): whether LSD runs, on which families, and why a family is missing. */
export interface LocalDiscoveryStatus {
  enabled: boolean;
  families: (4 | 6)[];
  error: string | null;
}

/**
 * Discovery that does not leave from this machine's address: a private-discovery torrent announces
 * and scrapes through `tracker` (HTTP and UDP tracker URLs alike) with port 0 and a peer id of its
 * own, and looks up the DHT through `dhtLookup`; it never uses the session's DHT, its WebSocket
 * trackers, or the in-process tracker, and never announces itself to the DHT. Peers it finds are
 * dialled directly.
 */
export interface PrivateDiscovery {
  tracker: TrackerTransport;
  dhtLookup?(infoHashHex: string): Promise<PeerAddress[]>;
  /** WebSocket trackers (WebRTC signaling) through a tunnel that strips our addresses from the
   *  SDPs; omitted = a private-discovery torrent uses no WebSocket tracker. */
  WebSocket?: typeof WebSocket;
}

/**
 * A tracker in this process. A torrent's HTTP and UDP tiers whose URL is one of `urls` make one call
 * to `announce` instead of network traffic (HTTP and UDP of the same tracker count as one): the
 * tracker learns of us as from an announce over its sockets, so others find us as before, and the
 * URLs others get (.torrent, magnet) do not change. A plain function: the engine knows no tracker code.
 */
export interface LocalTracker {
  /** Its HTTP and UDP announce URLs, exactly as torrents carry them. */
  urls: readonly string[];
  /** Rejects (or throws) with the tracker's failure reason. */
  announce(req: LocalAnnounceRequest): Promise<LocalAnnounceReply> | LocalAnnounceReply;
  /** Its WebSocket announce URL and how to open an in-process connection to it (an object with the
   *  WebSocket members a tracker client uses: readyState, send, close, and 'open', 'message' and
   *  'close' listeners). Torrents' WebSocket tiers with that URL then talk to it without a socket;
   *  the messages, and what browsers see, are the same. */
  webSocket?: { url: string; connect(): WebSocket };
}

export interface WebRtcOptions {
  /** STUN/TURN servers; omitted = one public STUN server. Tests pass []. */
  iceServers?: IceServer[];
  /** Node only: local address ICE binds to (e.g. '127.0.0.1' keeps every candidate on loopback). */
  bindAddress?: string;
  /** Node only: UDP port range for ICE. */
  portRange?: [number, number];
  /** WebRTC offers sent with each WebSocket announce (WebTorrent sends 5). Default 5. */
  offers?: number;
  /** Floor on the WebSocket tracker announce interval, seconds. Default 30. */
  minAnnounceInterval?: number;
}

export interface ResumeData {
  /** Bitfield (BEP 3 bit order) of pieces verified on disk. */
  have: Uint8Array;
  /** The info dictionary, so a magnet resumes without fetching metadata again. */
  infoBytes?: Uint8Array;
  /** Size and mtime (ms) of each file when `have` was saved; a mismatch forces a re-check of that file. */
  files?: { length: number; mtimeMs: number }[];
}

export interface ResumeStore {
  load(infoHashHex: string): Promise<ResumeData | undefined>;
  save(infoHashHex: string, data: ResumeData): Promise<void>;
  delete(infoHashHex: string): Promise<void>;
}

export interface AddTorrentOptions {
  /** Download directory: single-file → `<savePath>/<name>`, multi-file → `<savePath>/<name>/…`. */
  savePath: string;
  /** Explicit peers "host:port" to connect to. */
  peers?: string[];
  /** Indices of files to download; omitted = all. */
  selectedFiles?: number[];
  paused?: boolean;
  /** More trackers for this torrent, each its own tier after its own (and the session's); URLs it
   *  already has are skipped. The node's own tracker goes in this way whichever door a torrent comes through. */
  trackers?: string[];
  /** Announces, scrapes and DHT look-ups through SessionOptions.privateDiscovery only. */
  privateDiscovery?: boolean;
  /** Super-seeding (BEP 16) while it holds every piece: see TorrentHandle.setSuperSeeding. */
  superSeeding?: boolean;
  /** Mirrors of the content, drawn from like BEP 19 web seeds beside the swarm: a single-file
   *  torrent's own file URL, or a folder URL ending in '/' holding `<name>` (multi-file:
   *  `<name>/<path>`). http(s), and any scheme SessionOptions.rangeReaders has (ftp). */
  mirrors?: string[];
  /** Files renamed since the torrent was made (TorrentHandle.rename), applied as its metadata is
   *  known: by file index, its path below the torrent's folder. */
  renamedFiles?: Record<number, string[]>;
  /** Its tracker tiers as edited (TorrentHandle.setTrackers), instead of those the torrent, the
   *  session and `trackers` give it. */
  trackerTiers?: string[][];
}

/** One of: a .torrent file's bytes, a magnet URI, or a bare 40-hex / 32-base32 infohash. */
export type TorrentSource = Uint8Array | string;

export type TorrentState = 'metadata' | 'checking' | 'downloading' | 'seeding' | 'paused' | 'error';

export interface TorrentStats {
  infoHashHex: string;
  name: string | undefined;
  state: TorrentState;
  /** 0..1 of the selected pieces verified. */
  progress: number;
  length: number | undefined;
  pieceCount: number | undefined;
  verifiedPieces: number;
  downloaded: number;
  uploaded: number;
  /** Bytes/second, smoothed over a few seconds. */
  downloadSpeed: number;
  uploadSpeed: number;
  /** Seconds; Infinity when unknown. */
  eta: number;
  peers: number;
  seeds: number;
  error?: string;
}

/** Bytes/second; 0 = no limit. */
export interface RateLimits {
  download: number;
  upload: number;
}

/** Emitted as `torrent.on('transfer', …)` after bytes move; later issues build reputation from it. */
export interface TransferEvent {
  infoHashHex: string;
  peer: string;
  peerId: string | undefined;
  direction: 'up' | 'down';
  bytes: number;
}

export interface TorrentHandle {
  readonly infoHashHex: string;
  readonly metainfo: Metainfo | undefined;
  /** Grows whenever anything stats(), peers() or trackers() report may have changed (state, bytes
   *  moved, peers, rates still decaying, a tracker's reply, an error). Equal revisions mean nothing
   *  to redraw: a client of 10,000 torrents compares numbers instead of building 10,000 stats. */
  readonly revision: number;
  /** Waiting its turn to hash its data (checks take turns: SessionOptions.maxActiveChecks); 'check-waiting' when it starts to. */
  readonly checkWaiting?: boolean;
  stats(): TorrentStats;
  peers(): PeerStats[];
  /** Distributed copies among the connected peers; null without metadata. */
  distributedCopies?(): number | null;
  /** Bytes by source over this run (a peer that left is still counted), most first. */
  sources?(): SourceBytes[];
  trackers(): TrackerStatus[];
  /** The URL trackers()[0] would name, without building every tracker's status (a list of 10,000
   *  rows names each torrent's first tracker). */
  firstTrackerUrl?(): string | undefined;
  addPeer(addr: PeerAddress | string): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  selectFiles(indices: number[] | undefined): void;
  /** True while every file is wanted (no selection narrows it): cheap, for list polls that size torrents. */
  wantsAllFiles?(): boolean;
  /** True once every wanted piece is verified (what stats().progress >= 1 says), in constant time:
   *  for callers that ask per piece, where stats() would walk every piece each time. */
  wantedDone?(): boolean;
  /** Fetches pieces `first`..`last` for a reader (streaming) without changing the file selection;
   *  call the returned function when the reader is done with them. */
  fetchPieces(first: number, last: number): () => void;
  /** Forces a tracker + DHT announce now. */
  announce(): void;
  /** What a resume record's claims (`have`, saved with the file stats `saved`) hold on disk now, before
   *  this torrent checks its data: pieces of files gone, short or changed go (`files`; `missing`: gone). */
  claimsOnDisk?(have: Uint8Array, saved: ResumeData['files']): Promise<{ have: Uint8Array; files: number[]; missing: number[] } | undefined>;
  /** Hashes every piece on disk again (state "checking" meanwhile), trusting no resume data; what
   *  fails is downloaded again. Resolves when the check is over. A paused torrent stays paused. */
  recheck(): Promise<void>;
  /** Per-torrent speed limits in bytes/s (0 = none), applied at once; unset fields keep their
   *  value. The session's limits apply too: the tighter one wins. Throws a RangeError on a value
   *  that is not a finite number >= 0. */
  setRateLimits(limits: Partial<RateLimits>): void;
  rateLimits(): RateLimits;
  /** Where the torrent's data lives (the directory given as `savePath` when added, or moved to). */
  readonly savePath: string;
  /** Moves the torrent's files under `newSavePath` (a rename on one filesystem, copy then delete
   *  across), keeping verified pieces; transfers continue from the new place. Rejects with an Error
   *  saying why, leaving the data where it was. */
  move(newSavePath: string): Promise<void>;
  /** Trackers' last replies, DHT lookups, the last peers tried and how each attempt ended. */
  discovery(): DiscoveryReport;
  /** The tracker tiers it announces to (those of the torrent, the session's, added ones), whether
   *  it runs or not. */
  trackerList?(): string[][];
  /** Replaces its tracker tiers: the old trackers are told it stopped, the new ones announced to at
   *  once when it runs. Tiers are lists of URLs; empty tiers are dropped. */
  setTrackers?(tiers: string[][]): Promise<void>;
  /** Renames files (by index: the new path below the torrent's folder; a single-file torrent's
   *  file is its name; index -1: a multi-file torrent's folder, `[name]`), moving them on disk with the torrent's data kept, as move() does. Rejects
   *  with an Error saying why (no metadata, a bad name, a clash), leaving everything as it was. */
  rename?(renames: Record<number, string[]>): Promise<void>;
  /** Names given so far by rename() (and AddTorrentOptions.renamedFiles). */
  renamedFiles?(): Record<number, string[]>;
  /** Per piece: 0 missing, 1 being downloaded, 2 verified; and how many connected peers have
   *  each. Undefined before the metadata is known. A copy, made on each call. */
  pieceStates?(): { states: Uint8Array; availability: Uint16Array } | undefined;
  /** Whether announces and DHT look-ups go through SessionOptions.privateDiscovery only. */
  readonly privateDiscovery?: boolean;
  /** Switches that (rejects when the session has no private discovery). */
  setPrivateDiscovery?(on: boolean): Promise<void>;
  /** Super-seeding (BEP 16): while it holds every piece, peers that connect are told it has none,
   *  then shown one or two of the rarest pieces at a time and served only those, so a first seed's
   *  upload goes to pieces nobody has yet. Peers already told everything stay told; switching it
   *  off tells every peer everything. */
  readonly superSeeding?: boolean;
  setSuperSeeding?(on: boolean): void;
  /** Events: 'metadata', 'verified' (piece, contributor addresses), 'piece-data' (piece, its
   *  verified bytes as downloaded, before they are written: valid only during the call; only for
   *  pieces downloaded, never for data found on disk), 'hash-failed' (piece,
   *  contributor addresses), 'done', 'error' (Error), 'transfer' (TransferEvent),
   *  'peer-banned' ({address, reason}), 'stats' (TorrentStats, once a second while the torrent is
   *  active — peers, a download, rates decaying — and never while it is idle: use `revision`). */
  on(event: string, fn: (...args: any[]) => void): this;
  off(event: string, fn: (...args: any[]) => void): this;
  once(event: string, fn: (...args: any[]) => void): this;
}

export interface SessionHealth {
  port: number;
  torrents: number;
  peers: number;
  dhtNodes: number;
  dhtEnabled: boolean;
  /** UDP port of the DHT node, when enabled. */
  dhtPort?: number;
}

/** DHT (KRPC) queries by method; methods off the wire that are none of these count as `other`. */
export interface DhtQueryCounts {
  ping: number;
  find_node: number;
  get_peers: number;
  announce_peer: number;
  get: number;
  put: number;
  other: number;
}

/** Running totals since the session started (counters) and a few current values (gauges), for
 *  monitoring. Counted as things happen at the cost of an integer increment; read in one call. */
export interface SessionCounters {
  /** Piece data received and sent, in bytes (protocol overhead and metadata not included). */
  bytesReceived: TransportCounts;
  bytesSent: TransportCounts;
  /** Pieces that passed their SHA-1 check after a download (not pieces found on disk at a check). */
  piecesVerified: number;
  /** Downloaded pieces that failed their SHA-1 check. */
  hashFailures: number;
  /** Reads and writes of torrent data that the operating system refused (EIO, ENOSPC, EACCES…). */
  diskErrors: number;
  /** Tracker announces by outcome (HTTP, UDP, WebSocket and the in-process tracker; one per tracker tried). */
  announces: { ok: number; error: number };
  /** DHT queries received from other nodes (`in`) and sent by ours (`out`). */
  dhtQueries: { in: DhtQueryCounts; out: DhtQueryCounts };
  /** Gauge: connected peers by transport now (web seeds: those fetching). */
  peers: TransportCounts;
  /** Gauge: nodes in the DHT routing table now (0 without a DHT). */
  dhtNodes: number;
  /** BEP 14 local service discovery: messages sent (one per family), received, dropped (malformed,
   *  over a budget), peers learned, and the hosts they were learned from (each once, the last 16,
   *  newest last, with the peers each gave; absent from engines without it). */
  lsd?: { sent: number; received: number; dropped: number; peers: number; peerHosts: string[]; peersByHost: Record<string, number> };
  /** uTP (BEP 29) datagrams in and out, those dropped (not uTP, or for no connection of ours),
   *  SYNs refused (over the accept rate or the connection cap), and uTP connections open now
   *  (absent when uTP is off). */
  utp?: { packetsIn: number; packetsOut: number; dropped: number; synDropped: number; connections: number };
  /** BEP 55 hole punching (docs/holepunch.md). */
  holepunch?: HolepunchCounts;
}

export interface HolepunchCounts {
  /** As the one asking: rendezvous messages sent to a broker, error answers heard back. */
  rendezvousSent: number;
  errorsReceived: number;
  /** As broker: rendezvous messages heard, pairs introduced (a connect to each side), errors answered. */
  rendezvousReceived: number;
  introduced: number;
  errorsSent: number;
  /** Connect messages heard, uTP dials they started, and those that connected. */
  connectsReceived: number;
  dials: number;
  connected: number;
  /** Messages ignored: malformed, over a rate budget, or naming an address we will not dial. */
  ignored: number;
}

export interface SessionHandle {
  readonly port: number;
  readonly peerIdHex: string;
  add(source: TorrentSource, opts: AddTorrentOptions): Promise<TorrentHandle>;
  get(infoHashHex: string): TorrentHandle | undefined;
  list(): TorrentHandle[];
  remove(infoHashHex: string, opts?: { deleteData?: boolean }): Promise<void>;
  health(): SessionHealth;
  /** STUN/TURN servers for WebRTC connections made from now on; undefined = the default.
   *  relayOnly: gather and use TURN relay candidates only (behind a symmetric NAT no other kind
   *  works across the internet). */
  setIceServers?(iceServers: IceServer[] | undefined, opts?: { relayOnly?: boolean }): void;
  /** The port told to trackers, the DHT and peers (BEP 10 `p`) instead of the listen port — the
   *  gateway's external port when a port mapping exists; null = the listen port again (Node only). */
  setAnnouncePort?(port: number | null): void;
  /** Node-wide speed limits in bytes/s (0 = none), shared by every torrent, applied at once;
   *  unset fields keep their value. Throws a RangeError on a value that is not a finite number >= 0. */
  setRateLimits(limits: Partial<RateLimits>): void;
  rateLimits(): RateLimits;
  /** SessionOptions.maxActiveChecks while the session runs: a higher limit lets waiting checks in at once. */
  setMaxActiveChecks?(n: number): void;
  /** Totals and current values for monitoring (Node sessions; see SessionCounters). */
  counters?(): SessionCounters;
  setLocalTracker?(local: LocalTracker | undefined): void; // for torrents added from now on (Node; a node starts it after the session)
  /** A feed of the torrents whose revision moved (or that were added or removed) since its last
   *  take(): a client keeping something per torrent reads those instead of every torrent. */
  changes?(): TorrentChangeFeed;
  /** Calls `fn(torrent, ...args)` for `event` of every torrent of the session, added now or later
   *  (the events TorrentHandle.on names); returns how to stop. One listener for all torrents. */
  onTorrentEvent?(event: string, fn: (t: TorrentHandle, ...args: any[]) => void): () => void;
  /** Switches BEP 14 local service discovery on or off while the session runs (Node only; see
   *  SessionOptions.lsd). Resolves once its sockets are open or closed; never rejects: a socket
   *  that cannot open is reported by localDiscovery(). */
  setLocalDiscovery?(on: boolean, opts?: { intervalMs?: number | undefined }): Promise<void>;
  localDiscovery?(): LocalDiscoveryStatus;
  /** KRPC methods of our own on the DHT's routing table (Node sessions with a DHT). */
  readonly dhtQueries?: DhtQueries | undefined;
  close(): Promise<void>;
}

export interface TorrentChangeFeed {
  /** Each torrent that changed since the last take(), once; a removed one too (check get()). */
  take(): ReadonlySet<TorrentHandle>;
  /** Called when a change arrives while none was pending (since the last take()). */
  onChange?: (() => void) | undefined;
  close(): void;
}
