// The Node session: one TCP listener, one DHT, one hasher pool, one UDP tracker socket, shared by
// every torrent. Incoming connections are routed to a torrent by the infohash in their handshake.

import type net from 'node:net';
import path from 'node:path';
import type { AddTorrentOptions, IceServer, LocalDiscoveryStatus, LocalTracker, RateLimits, SessionCounters, SessionHandle, SessionHealth, SessionOptions, TorrentHandle, TorrentSource, TransportCounts, UrlGuard } from '../api.ts';
import type { TrackerTransport } from '../discovery/tracker-types.ts';
import { Emitter } from '../events/emitter.ts';
import { newTally, snapshot } from '../events/counters.ts';
import { TrackerClient } from '../discovery/tracker-client.ts';
import { toHex } from '../encoding/hex.ts';
import { parseTorrentId } from '../metainfo/magnet.ts';
import { MetainfoError, parseTorrent } from '../metainfo/metainfo.ts';
import type { Connection, Dialer, Hasher } from '../platform.ts';
import { addressGroup, hostOf, longestUseless } from '../swarm/admission.ts';
import { Peer } from '../swarm/peer.ts';
import { OwnAddresses } from '../swarm/own-address.ts';
import { Torrent, type TorrentContext } from '../torrent/torrent.ts';
import type { DhtQueries } from './dht.ts';
import { openDht, type DualDht } from './dht-dual.ts';
import { listenPeers } from './listen-host.ts';
import { alignedSlabs, copyIntoSlab } from './direct-io.ts';
import { FsStorage } from './fs-storage.ts';
import { FileOwners } from './file-owners.ts';
import { createNodeHasher, hashWorkerWanted, type HashWorkerChoice } from './hasher.ts';
import { tcpDialerFrom } from './tcp.ts';
import { cappedDialer, type OutgoingByGroup } from './capped-dialer.ts';
import { boundFetch } from './bound-fetch.ts';
import { createHttpTransport } from '../discovery/tracker-http.ts';
import { acceptMse, mseDialer } from './mse.ts';
import { UdpTracker } from './tracker-udp.ts';
import { dualStackHttp, dualStackUdp } from './tracker-families.ts';
import { HybridTrackerClient, TorrentRtcHooks, type RtcHookEnv } from '../discovery/tracker-hybrid.ts';
import { WsTrackerPool } from '../discovery/ws-pool.ts';
import type { TrackerClientOptions } from '../discovery/tracker-client.ts';
import { NODE_DEFAULT_ICE_SERVERS, forLibdatachannel, nodeWebRtcEnv } from './webrtc.ts';
import { fsStorageMover, moverWith } from './move-data.ts';
import { Scheduler } from '../session/scheduler.ts';
import type { ChangeFeed } from '../events/change-log.ts';
import { RateLimitPair } from '../swarm/rate-limiter.ts';
import { sharedTiers } from '../discovery/shared-tiers.ts';
import { checkedTransport, guardedReads } from './url-guarded.ts';
import { SessionLsd } from './session-lsd.ts';
import { UtpSocket } from './utp-socket.ts';
import { UtpFirstDialer } from './utp-dialer.ts';

import { CLIENT_NAME, CONNECTION_DEFAULTS, PUBLIC_DHT_ROUTERS } from './session-defaults.ts';
import { makePeerId } from '../wire/peer-id.ts';
import { CheckGate } from '../pieces/check-gate.ts';

export { CLIENT_NAME, CONNECTION_DEFAULTS, PUBLIC_DHT_ROUTERS, makePeerId };

/** Unfinished handshakes one address may hold, as a multiple of maxConnectionsPerAddress: a node
 *  that starts with many torrents from this one dials them all within milliseconds, and those past
 *  a cap of 8 were refused and came back on back-off seconds later (address-limits.test). */
export const HANDSHAKES_PER_ADDRESS_FACTOR = 4;

export class Session implements SessionHandle {
  readonly peerIdHex: string;
  private readonly peerId: Uint8Array;
  private readonly opts: SessionOptions;
  /** Complete pieces are hashed on a worker thread (from shared memory): see SessionOptions.hashWorker. */
  private readonly hashWorker: HashWorkerChoice;
  /** The tracker of this process (SessionOptions.localTracker, or set later by setLocalTracker). */
  private localTracker: LocalTracker | undefined;
  private server: net.Server | undefined;
  private listenPort = 0;
  /** setAnnouncePort: the gateway's external port for listenPort, when it is mapped. */
  private announcePort: number | null = null;
  private dht: DualDht | undefined;
  /** uTP (BEP 29) on the listen port's number over UDP, shared with the IPv4 DHT (SessionOptions.utp). */
  private utp: UtpSocket | undefined;
  private dhtListenPort = 0;
  private hasher: Hasher;
  private udp: UdpTracker | undefined;
  private torrents = new Map<string, Torrent>();
  /** Hybrid torrents (BEP 52) by their second handshake id, the truncated v2 infohash (hex). */
  private byV2Id = new Map<string, Torrent>();
  private banned = new Set<string>();
  private pending = new Set<Peer>();
  /** Inbound connections per remote address group: those still in their handshake under the
   *  group alone, those that joined a torrent under "group infohash" (see accept). */
  private inboundByHost = new Map<string, number>();
  private readonly limits: { maxConnections: number; maxConnectionsPerTorrent: number; maxConnectionsPerAddress: number; maxOutgoingPerAddress: number; handshakeTimeoutMs: number };
  /** The peers we dial or are connected to, by remote address group (addressGroup): the cap on them. */
  private outboundByHost: OutgoingByGroup = new Map();
  /** Files on disk and the torrent that owns each: no two torrents write or delete the same file. */
  private owners = new FileOwners();
  /** WebSocket trackers + WebRTC peers (undefined when `webrtc: false`). */
  private wsPool: WsTrackerPool | undefined;
  /** Private-discovery torrents' WebSocket trackers, reached through circuits (hiddenTracker). */
  private hiddenPool: WsTrackerPool | undefined;
  /** Node-wide speed limits: every torrent's traffic passes these buckets too. */
  private readonly limitBuckets = new RateLimitPair();
  /** Running totals for monitoring (counters()): bytes by transport, pieces, errors, announces, DHT. */
  private readonly tally = newTally();
  /** BEP 14 local service discovery, off until SessionOptions.lsd or setLocalDiscovery. */
  private readonly lsd: SessionLsd;

  /** The concrete --host outgoing connections and datagrams leave from (libtorrent's
   *  outgoing_interfaces); undefined for 0.0.0.0 / :: (the system chooses). */
  private readonly outgoing: string | undefined;
  /** HTTP trackers asked from `outgoing` on node:http (bound-fetch.ts), or through the URL guard. */
  private outgoingHttp: TrackerTransport;
  /** Listening on '::': trackers whose names have both families are announced to over each. */
  private dualStack = false;

  private constructor(opts: SessionOptions) {
    this.opts = opts;
    const host = opts.host;
    this.outgoing = host && host !== '0.0.0.0' && host !== '::' ? host : undefined;
    this.outgoingHttp = opts.urlGuard
      ? createHttpTransport(undefined, opts.urlGuard.trackerFetch ?? opts.urlGuard.fetch)
      : createHttpTransport(undefined, boundFetch(this.outgoing));
    this.localTracker = opts.localTracker;
    this.limits = {
      maxConnections: opts.maxConnections ?? CONNECTION_DEFAULTS.maxConnections,
      maxConnectionsPerTorrent: opts.maxConnectionsPerTorrent ?? CONNECTION_DEFAULTS.maxConnectionsPerTorrent,
      maxConnectionsPerAddress: opts.maxConnectionsPerAddress ?? CONNECTION_DEFAULTS.maxConnectionsPerAddress,
      maxOutgoingPerAddress: opts.maxOutgoingPerAddress ?? CONNECTION_DEFAULTS.maxOutgoingPerAddress,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? CONNECTION_DEFAULTS.handshakeTimeoutMs,
    };
    this.scheduler = new Scheduler({ announces: { perSecond: opts.announcesPerSecond } });
    this.peerId = opts.peerId ?? makePeerId();
    this.peerIdHex = toHex(this.peerId);
    this.hashWorker = opts.hashWorker ?? hashWorkerWanted();
    this.hasher = createNodeHasher({ worker: this.hashWorker });
    this.lsd = new SessionLsd({ host, port: () => this.listenPort, find: (hex) => this.byId(hex), torrents: () => this.torrents.values() });
    if (opts.webrtc !== false) {
      this.wsPool = new WsTrackerPool(this.peerId, nodeWebRtcEnv(opts.webrtc, this.outgoing));
      if (opts.urlGuard) this.wsPool.check = opts.urlGuard.check;
      this.wsPool.setLocal(opts.localTracker?.webSocket);
    }
  }

  static async create(opts: SessionOptions = {}): Promise<Session> {
    const s = new Session(opts);
    // Default '::': IPv6 and IPv4 on one socket (listen-host.ts).
    const listening = await listenPeers(opts.port ?? 0, opts.host, (c) => s.accept(c));
    s.server = listening.server;
    const host = listening.host;
    // Announces over each family (tracker-families.ts); through a URL guard only if it can fetch
    // over one family (each request stays pinned to an address it checked).
    const guard = opts.urlGuard;
    if (host === '::' && (!guard || guard.fetchOver)) {
      s.dualStack = true;
      const fetchOver = guard?.trackerFetchOver?.bind(guard) ?? guard?.fetchOver?.bind(guard);
      s.outgoingHttp = dualStackHttp(opts.resolve, createHttpTransport(undefined, guard ? guard.trackerFetch ?? guard.fetch : boundFetch(undefined)), fetchOver);
    }
    s.listenPort = (s.server.address() as net.AddressInfo).port;
    if (opts.utp !== false) {
      // Taken (UDP) by someone else: the node runs on TCP alone rather than not at all.
      // Dual-stack ('::'): uTP on IPv4, so its socket can be the IPv4 DHT's while the IPv6 DHT keeps
      // its own on the same port number (uTP over IPv6 needs an IPv6 --host).
      s.utp = await UtpSocket.bind(s.listenPort, host === '::' ? '0.0.0.0' : host).catch(() => undefined);
      if (s.utp) s.utp.onAccept = (c) => s.accept(c);
    }
    if (opts.dht !== false) {
      const bootstrap = opts.dht?.bootstrap ?? PUBLIC_DHT_ROUTERS;
      // The uTP socket is the IPv4 DHT's too (one UDP port, as libtorrent); the IPv6 DHT has its own.
      const shared = s.utp && !s.utp.ipv6 ? s.utp.dhtSocket() : undefined;
      ({ dht: s.dht, port: s.dhtListenPort } = await openDht({ bootstrap, host, port: shared ? s.listenPort : s.utp?.ipv6 ? 0 : opts.port ? opts.port : 0, tally: s.tally, socket4: shared }));
    }
    if (opts.lsd) await s.lsd.set(true, typeof opts.lsd === 'object' ? opts.lsd : {});
    return s;
  }

  get port(): number {
    return this.listenPort;
  }

  /** Trackers (at their next announce), the DHT and new peers hear this port instead of the listen
   *  port: the port a gateway mapped to it, so that peers outside the NAT reach us. */
  setAnnouncePort(port: number | null): void {
    this.announcePort = port !== null && Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
  }

  get dhtPort(): number | undefined {
    return this.dht ? this.dhtListenPort : undefined;
  }

  /** Methods of our own on the DHT (records above the engine); undefined without a DHT. */
  get dhtQueries(): DhtQueries | undefined {
    return this.dht?.queries;
  }

  /** The one clock of every torrent of this session (session/scheduler.ts). */
  private readonly scheduler: Scheduler;
  private sharedContext: TorrentContext | undefined;

  /** One context for every torrent (it holds nothing of any one torrent). */
  private context(): TorrentContext {
    return (this.sharedContext ??= {
      scheduler: this.scheduler,
      peerId: this.peerId,
      port: () => this.announcePort ?? this.listenPort,
      dialer: cappedDialer(this.outboundByHost, this.limits.maxOutgoingPerAddress, mseDialer(new UtpFirstDialer(() => this.utp, tcpDialerFrom(this.outgoing), { utpFirstEverywhere: this.opts.utp === 'first', utpOnly: this.opts.utp === 'only' }), this.opts.encryption ?? 'prefer-plaintext')),
      hasher: this.hasher,
      createStorage: (meta, savePath) => {
        const standard = () => new FsStorage(meta, savePath);
        return this.opts.storageFor ? this.opts.storageFor(meta, savePath, standard) : standard();
      },
      resumeStore: this.opts.resumeStore,
      createTracker: (o, hidden) =>
        hidden
          ? this.hiddenTracker(o)
          : this.createTracker(Object.assign(o, { http: this.outgoingHttp ?? o.http, udp: this.udpTransport })),
      privateDiscovery: this.opts.privateDiscovery,
      dht: this.dht,
      dhtPort: () => this.dhtPort,
      extraTrackers: this.opts.trackers ?? [],
      rangeReaders: this.opts.rangeReaders,
      ...(this.opts.urlGuard ? { guardedRead: guardedReads(this.opts.urlGuard, this.opts.rangeReaders) } : {}),
      maxConnections: this.limits.maxConnectionsPerTorrent,
      canConnect: () => this.connectionCount() < this.limits.maxConnections,
      handshakeTimeoutMs: this.limits.handshakeTimeoutMs,
      stopWhenDataGone: this.opts.stopWhenDataGone ?? false,
      checkGate: new CheckGate(this.opts.maxActiveChecks ?? 1),
      client: CLIENT_NAME,
      allocate: (n) => Buffer.allocUnsafeSlow(n),
      // Shared memory only for the worker to read: copies into it cost a native call per block.
      pieceSlab: (pieceLength) => alignedSlabs(pieceLength, undefined, this.hashWorker !== false),
      ...(this.hashWorker !== false ? { copyIntoPiece: copyIntoSlab } : {}), // only slabs the worker shares need it
      isBanned: (address, peerId) => this.banned.has(address) || (!!peerId && this.banned.has(toHex(peerId))),
      ban: (address, peerId) => {
        this.banned.add(address);
        if (peerId) this.banned.add(toHex(peerId));
      },
      extensions: this.opts.extensions,
      claimFiles: (meta, savePath) => this.owners.claim(meta, savePath),
      rateLimits: this.limitBuckets,
      storageMover: this.opts.moveData ? moverWith(this.opts.moveData) : fsStorageMover,
      tally: this.tally,
      torrentEvents: this.torrentEvents,
      lsd: this.lsd.hooks,
      ownAddresses: new OwnAddresses(),
      canHolepunch: () => this.utp !== undefined,
    });
  }

  private readonly torrentEvents = new Emitter();

  /** Follows one event of every torrent of this session (see SessionHandle.onTorrentEvent). */
  onTorrentEvent(event: string, fn: (t: TorrentHandle, ...args: any[]) => void): () => void {
    this.torrentEvents.on(event, fn);
    return () => void this.torrentEvents.off(event, fn);
  }

  /** What the scheduler holds now: torrents ticked each second, torrents asleep until a known
   *  moment, and tracker announces waiting for their turn. An idle session reads 0, 0, 0. */
  schedulerState(): { active: number; sleeping: number; announcesWaiting: number } {
    return { active: this.scheduler.activeCount, sleeping: this.scheduler.sleepingCount, announcesWaiting: this.scheduler.announces.waiting };
  }

  setLocalTracker(local: LocalTracker | undefined): void {
    this.localTracker = local;
    // The hidden pool (private discovery) never talks to the in-process tracker: it would list us.
    this.wsPool?.setLocal(local?.webSocket);
  }

  /** A private-discovery torrent's trackers: HTTP and UDP through the private transport only, and
   *  WebSocket trackers only when it brings a WebSocket of its own (tunnelled, addresses stripped)
   *  on a pool of their own under another peer id; never the in-process tracker, which would list
   *  us. Without that WebSocket they are left out: signaling would show the tracker our addresses. */
  private hiddenTracker(opts: TrackerClientOptions): TrackerClient {
    const pd = this.opts.privateDiscovery;
    if (!pd) throw new Error('private discovery is not configured');
    const pool = pd.WebSocket && this.wsPool ? (this.hiddenPool ??= this.hiddenWsPool(pd.WebSocket)) : undefined;
    opts.tiers = sharedTiers(opts.tiers.map((t) => t.filter((u) => /^(https?|udp):\/\//i.test(u) || (pool && /^wss?:\/\//i.test(u)))).filter((t) => t.length > 0));
    opts.http = pd.tracker;
    opts.udp = () => pd.tracker;
    return this.createTracker(opts, pool, true);
  }

  /** HTTP/UDP trackers, plus WebSocket trackers whose WebRTC peers join the torrent's swarm. */
  private createTracker(opts: TrackerClientOptions, pool = this.wsPool, hidden = false): TrackerClient {
    // The torrent's own options object, amended (a copy per torrent cost 10,000 copies).
    opts.local = hidden ? undefined : this.localTracker;
    opts.tally = this.tally;
    if (!pool) return new TrackerClient(opts);
    return new HybridTrackerClient(opts, new TorrentRtcHooks((this.rtcHookEnv ??= this.hookEnv()), pool, opts.infoHashHex ?? toHex(opts.infoHash)));
  }

  /** The WebRTC hooks' session-wide part (the main and the hidden pool alike). */
  private rtcHookEnv: RtcHookEnv | undefined;

  private hookEnv(): RtcHookEnv {
    const rtc = this.opts.webrtc || {};
    return { minInterval: rtc.minAnnounceInterval, maxOffers: rtc.offers ?? 5, find: (hex) => this.byId(hex) };
  }

  /** One function for every torrent's UDP announces (the transport is made on first use). */
  private readonly udpTransport = (): TrackerTransport => {
    const udp = (this.udp ??= new UdpTracker({ ...(this.outgoing ? { bindAddress: this.outgoing } : {}), ...(this.opts.resolve ? { resolve: this.opts.resolve } : {}) }));
    const guard = this.opts.urlGuard;
    const front = this.dualStack ? dualStackUdp(udp, this.opts.resolve) : udp;
    return guard ? (this.udpFront ??= checkedTransport(front, guard)) : this.dualStack ? (this.udpFront ??= front) : udp;
  };
  private udpFront: TrackerTransport | undefined;

  private connectionCount(): number {
    let n = this.pending.size;
    for (const t of this.torrents.values()) n += t.connectionCount();
    return n;
  }

  private accept(raw: Connection): void {
    // One address may hold only a few connections per torrent (a client opens one per torrent it
    // shares with us), and a few times that in unfinished handshakes (a node that restarts with many
    // torrents from us dials them all at once), so a flood from one host cannot fill a torrent or
    // the handshake queue; a flood from many hosts, or over many torrents, meets the
    // node-wide limit, where the connection useless longest (often a handshake still unfinished)
    // makes room. Not a few connections over all torrents: a peer sharing many torrents with us
    // (a seedbox, a cluster member) would reach only that many of them at once.
    const host = addressGroup(hostOf(raw.remote));
    const fromHost = this.inboundByHost.get(host) ?? 0;
    if (fromHost >= this.limits.maxConnectionsPerAddress * HANDSHAKES_PER_ADDRESS_FACTOR) return raw.close();
    if (this.connectionCount() >= this.limits.maxConnections) {
      const victim = longestUseless([this.pending, ...[...this.torrents.values()].map((t) => t.connectedPeers())]);
      if (!victim) return raw.close();
      victim.destroy('evicted: node at its connection limit');
    }
    // MSE handshakes are answered here; Peer sees the plaintext BitTorrent stream either way.
    const conn = acceptMse(raw, {
      policy: this.opts.encryption ?? 'prefer-plaintext',
      infoHashes: () => [...this.torrents.values()].flatMap((t) => t.handshakeIds()),
      timeoutMs: this.limits.handshakeTimeoutMs,
    });
    // Until its handshake names a torrent, the peer belongs to the session.
    // The count this connection is under: its address group while in its handshake, then
    // "group infohash" once it names a torrent (undefined once it holds no budget).
    let countedAs: string | undefined = host;
    const uncount = () => {
      if (countedAs === undefined) return;
      const n = (this.inboundByHost.get(countedAs) ?? 1) - 1;
      if (n > 0) this.inboundByHost.set(countedAs, n);
      else this.inboundByHost.delete(countedAs);
      countedAs = undefined;
    };
    const peer = new Peer(conn, {
      source: 'incoming',
      resolve: (infoHash) => {
        this.pending.delete(peer);
        uncount();
        const torrent = this.byId(toHex(infoHash));
        if (!torrent) return undefined;
        const key = `${host} ${torrent.infoHashHex}`;
        const inTorrent = this.inboundByHost.get(key) ?? 0;
        // Refused like a torrent we do not have: the peer holds its share of this torrent already.
        if (inTorrent >= this.limits.maxConnectionsPerAddress) return undefined;
        this.inboundByHost.set(key, inTorrent + 1);
        countedAs = key;
        return torrent;
      },
    });
    this.pending.add(peer);
    this.inboundByHost.set(host, fromHost + 1);
    // One deadline for the whole exchange, MSE included: a half-sent handshake must not hold a slot.
    const timer = setTimeout(() => {
      if (this.pending.has(peer)) peer.destroy('no handshake in time');
    }, this.limits.handshakeTimeoutMs);
    timer.unref();
    peer.onceClosed(() => {
      clearTimeout(timer);
      this.pending.delete(peer);
      uncount();
    });
  }

  async add(source: TorrentSource, opts: AddTorrentOptions): Promise<Torrent> {
    // Failing closed: without circuits a private-discovery torrent would announce from our address.
    if (opts.privateDiscovery && !this.opts.privateDiscovery) throw new Error('private discovery needs relays: give the node a directory (--directory URL)');
    let t: Torrent;
    const savePath = sharedPath(path.resolve(opts.savePath));
    if (typeof source === 'string') {
      const m = parseTorrentId(source);
      const existing = this.torrents.get(m.infoHashHex);
      if (existing) return existing;
      t = new Torrent(this.context(), { infoHashHex: m.infoHashHex, infoHashV2Hex: m.infoHashV2Hex, name: m.name, trackers: m.trackers, peers: m.peers, webSeeds: m.webSeeds, selectOnly: m.selectOnly }, {
        ...opts,
        savePath,
      });
    } else {
      const meta = parseTorrent(source);
      const existing = this.torrents.get(meta.infoHashHex);
      if (existing) return existing;
      t = new Torrent(this.context(), { infoHashHex: meta.infoHashHex, metainfo: meta }, { ...opts, savePath });
    }
    this.torrents.set(t.infoHashHex, t);
    this.noteV2Id(t);
    if (!t.metainfo) t.once('metadata', () => this.torrents.get(t.infoHashHex) === t && this.noteV2Id(t));
    this.scheduler.changes.note(t);
    await t.start();
    return t;
  }

  /** The torrent a 20-byte id (hex) names: its infohash, or a hybrid's truncated v2 hash. */
  private byId(hex: string): Torrent | undefined {
    return this.torrents.get(hex) ?? this.byV2Id.get(hex);
  }

  /** A hybrid torrent is reached by its truncated v2 infohash too (a v2-only one already is). */
  private noteV2Id(t: Torrent): void {
    for (const id of t.handshakeIds().slice(1)) this.byV2Id.set(toHex(id), t);
  }

  /** By torrent id (40 hex), or by v2 infohash (64 hex: a v2-only or hybrid torrent). */
  get(infoHashHex: string): Torrent | undefined {
    const hex = infoHashHex.toLowerCase();
    if (hex.length !== 64) return this.torrents.get(hex);
    const t = this.torrents.get(hex.slice(0, 40)) ?? this.byV2Id.get(hex.slice(0, 40));
    return t?.infoHashV2Hex === hex ? t : undefined;
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
    for (const id of t.handshakeIds().slice(1)) if (this.byV2Id.get(toHex(id)) === t) this.byV2Id.delete(toHex(id));
    this.scheduler.changes.note(t);
    await t.close(opts);
  }

  /** The ICE candidate pair of every open WebRTC connection ("address:port" of each end). */
  async webrtcCandidatePairs(): Promise<{ local: string; remote: string }[]> {
    return this.wsPool ? this.wsPool.candidatePairs() : [];
  }

  health(): SessionHealth {
    let peers = 0;
    // A count per torrent, not its stats (10,000 of those cost ~15 ms for each health check).
    for (const t of this.torrents.values()) peers += t.peerCount();
    return { port: this.listenPort, torrents: this.torrents.size, peers, dhtNodes: this.dht?.nodeCount() ?? 0, dhtEnabled: !!this.dht, dhtPort: this.dhtPort };
  }

  /** Totals since the session started and the current peers and DHT nodes: one pass over the
   *  torrents, each adding its connected peers (nothing for one without any). */
  counters(): SessionCounters {
    const peers: TransportCounts = { tcp: 0, utp: 0, webrtc: 0, webseed: 0 };
    for (const t of this.torrents.values()) t.countPeers(peers);
    const l = this.lsd.counters;
    const utp = this.utp ? { ...this.utp.counters, connections: this.utp.connectionCount } : undefined;
    return { ...snapshot(this.tally, peers, this.dht?.nodeCount() ?? 0), lsd: { sent: l.lsdSent, received: l.lsdReceived, dropped: l.lsdDropped, peers: l.lsdPeers, peerHosts: [...l.lsdPeerHosts], peersByHost: Object.fromEntries(l.lsdPeersByHost) }, ...(utp ? { utp } : {}) };
  }

  setLocalDiscovery(on: boolean, opts: { intervalMs?: number | undefined } = {}): Promise<void> {
    return this.lsd.set(on, opts);
  }

  localDiscovery(): LocalDiscoveryStatus {
    return this.lsd.status();
  }

  private hiddenWsPool(WebSocket: typeof globalThis.WebSocket): WsTrackerPool {
    const env = nodeWebRtcEnv(this.opts.webrtc || undefined, this.outgoing);
    // The ICE servers in force now (setIceServers may have changed them since the start).
    env.config = { ...env.config, iceServers: this.wsPool!.env.config?.iceServers ?? NODE_DEFAULT_ICE_SERVERS, iceTransportPolicy: this.wsPool!.env.config?.iceTransportPolicy ?? 'all' };
    return new WsTrackerPool(makePeerId(), { ...env, WebSocket });
  }

  /** STUN/TURN servers for WebRTC connections made from now on (settings change at run time);
   *  undefined = the default. Connections already up keep theirs. */
  setIceServers(iceServers: IceServer[] | undefined, opts: { relayOnly?: boolean } = {}): void {
    const list = forLibdatachannel((iceServers ?? NODE_DEFAULT_ICE_SERVERS) as RTCIceServer[]);
    const iceTransportPolicy: RTCIceTransportPolicy = opts.relayOnly ? 'relay' : 'all';
    for (const pool of [this.wsPool, this.hiddenPool]) {
      if (!pool) continue;
      const before = JSON.stringify([pool.env.config?.iceServers, pool.env.config?.iceTransportPolicy]);
      pool.env.config = { ...pool.env.config, iceServers: list, iceTransportPolicy };
      if (JSON.stringify([list, iceTransportPolicy]) !== before) for (const c of pool.clients) c.iceChanged();
    }
  }

  setMaxActiveChecks(n: number): void {
    this.context().checkGate!.limit = n;
  }

  setRateLimits(limits: Partial<RateLimits>): void {
    this.limitBuckets.set(limits);
    // Lifted or raised: torrents refill their pipelines now rather than at their next tick.
    for (const t of this.torrents.values()) t.setRateLimits({});
  }

  rateLimits(): RateLimits {
    return this.limitBuckets.get();
  }

  async close(): Promise<void> {
    await this.lsd.close();
    for (const p of this.pending) p.destroy('session closing');
    await Promise.allSettled([...this.torrents.values()].map((t) => t.close()));
    this.torrents.clear();
    this.byV2Id.clear();
    this.scheduler.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.wsPool?.close();
    this.hiddenPool?.close();
    await Promise.allSettled([this.dht?.close(), this.udp?.close(), this.hasher.close()]);
    await this.utp?.close();
  }
}

/** Save paths, one string each: 10,000 torrents in one folder hold one copy of its path. */
const savePaths = new Map<string, string>();
function sharedPath(p: string): string {
  const have = savePaths.get(p);
  if (have !== undefined) return have;
  if (savePaths.size < 10_000) savePaths.set(p, p);
  return p;
}
