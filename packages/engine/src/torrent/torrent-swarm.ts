// The part of a torrent that deals with peers as connections: which addresses it knows, dialling,
// admitting, the handshake, and the periodic work the session's scheduler asks of it (session/scheduler.ts).
// torrent.ts extends it with the data path (what to request, verifying, storage) and the lifecycle.
//
// Everything here exists only once needed: a seeded torrent with nobody connected holds no maps,
// meters, choker or abort controller, and the scheduler does not tick it (see nextTick()).

import { fromHex, toHex } from '../encoding/hex.ts';
import { Emitter } from '../events/emitter.ts';
import type { AddTorrentOptions, TorrentState, TorrentStats } from '../api.ts';
import type { Bitfield } from '../pieces/bitfield.ts';
import type { Connection } from '../platform.ts';
import type { Scheduled } from '../session/scheduler.ts';
import { crossedDrop, duplicateToDrop, longestUseless, type ConnectionSide } from '../swarm/admission.ts';
import { Candidates, type Candidate } from '../swarm/candidates.ts';
import { Choker } from '../swarm/choker.ts';
import { DiscoveryLog } from '../swarm/discovery-log.ts';
import { ExtensionHub } from '../swarm/extensions.ts';
import { Holepunch, listenAddresses, RENDEZVOUS_AFTER_MS } from '../swarm/holepunch.ts';
import { MetadataExchange } from '../swarm/metadata.ts';
import { Peer, type PeerHost } from '../swarm/peer.ts';
import { PexSender } from '../swarm/pex.ts';
import type { Picker } from '../swarm/picker.ts';
import { expireRequests, shrinkQueue } from '../swarm/pipeline.ts';
import { EtaEstimator, SpeedMeter } from '../swarm/speed.ts';
import { SUPER_SEED_OFF, SuperSeedSwitch } from '../swarm/super-seed.ts';
import type { SeedSuggester } from '../swarm/seed-suggest.ts';
import type { TorrentContext } from '../session/torrent-context.ts';
import { addressKey, parseAddress, type Metainfo, type PeerAddress } from '../types.ts';
import { learnAddresses } from '../swarm/own-address.ts';
import { greet } from '../swarm/greeting.ts';
import type { HashRequest } from '../wire/protocol.ts';
import { clock } from '../clock.ts';

const RECHOKE_TICKS = 10;
const PEX_TICKS = 3; // PEX looks every few seconds whether a peer is due its first message (pex.ts)
const KEEPALIVE_TICKS = 60;
/** A TCP peer neither side has wanted anything from for this long is let go while we download (and
 *  dialled again later): it may be a seeder that was still checking and never sent its haves. */
const USELESS_PEER_MS = 20_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Shared by every torrent with no peer: read-only (only addPeerEntry replaces it with its own). */
const NO_PEERS: ReadonlyMap<string, Peer> = new Map();
/** Meters of a torrent that never moved a byte: always 0, shared. */
const IDLE_METERS = { down: new SpeedMeter(), up: new SpeedMeter(), eta: new EtaEstimator() };

export abstract class TorrentSwarm extends Emitter implements PeerHost, Scheduled {
  readonly infoHashHex: string;
  /** BEP 52: the SHA-256 infohash (hex) of a v2 or hybrid torrent, from its metainfo or magnet. */
  infoHashV2Hex: string | undefined;
  metainfo: Metainfo | undefined;
  /** Set while move() has the data in flight: peers are turned away meanwhile. */
  moving = false;
  protected readonly ctx: TorrentContext;
  protected readonly opts: AddTorrentOptions;
  protected picker: Picker | undefined;
  protected peersByKey = NO_PEERS as Map<string, Peer>;
  protected candidates: Candidates | undefined;
  protected dialing: Set<string> | undefined;
  /** Started and not stopped: discovery runs and the scheduler may tick it. */
  protected running = false;
  protected closed = false;
  protected ticks = 0;
  /** One shared switch, off, until super-seeding is first switched on (setSuperSeeding): 10,000
   *  seeds held one each. */
  protected superSeed = SUPER_SEED_OFF;
  /** Made at the first unchoke or request while seeding (torrent-pieces.ts suggester()). */
  protected seedSuggester: SeedSuggester | undefined;
  private abort: AbortController | undefined;
  private choker: Choker | undefined;
  private pex: PexSender | undefined;
  private extensionHub: ExtensionHub | undefined;
  private holepunchState: Holepunch | undefined;
  /** BEP 55 dials in flight (uTP only, beside any plain dial to the same address). */
  private punching: Set<string> | undefined;
  private metadataExchange: MetadataExchange | undefined;
  private log: DiscoveryLog | undefined;
  private ownMeters: typeof IDLE_METERS | undefined;
  private currentState: TorrentState = 'metadata';
  private changes = 0;
  /** The session's change log keeps it here (events/change-log.ts). */
  changeEpoch = 0;

  constructor(ctx: TorrentContext, infoHashHex: string, opts: AddTorrentOptions) {
    super();
    this.ctx = ctx;
    this.opts = opts;
    this.infoHashHex = infoHashHex;
    if (opts.superSeeding === true) (this.superSeed = new SuperSeedSwitch()).on = true;
  }

  // The data path's part (torrent.ts).
  protected abstract fillRequests(peer: Peer): void;
  protected abstract startWebSeeds(): void;
  protected abstract releaseRequests(peer: Peer): void;
  protected abstract peerGotMetadata(peer: Peer): void;
  protected abstract gotMetadata(info: Uint8Array): Promise<void>;
  protected abstract hasWebSeedsRunning(): boolean;
  abstract stats(): TorrentStats;
  abstract dhtRound(): void;
  // PeerHost's data-path callbacks, answered by torrent.ts.
  abstract pieceCount(): number | undefined;
  abstract pieceSize(index: number): number;
  abstract onHave(peer: Peer, index: number | 'all' | Bitfield): void;
  abstract onChoke(peer: Peer, choked: boolean): void;
  abstract onInterested(peer: Peer): void;
  abstract onBlock(peer: Peer, index: number, begin: number, block: Uint8Array): void;
  abstract onRequest(peer: Peer, index: number, begin: number, length: number): void;
  abstract onCancel(peer: Peer, index: number, begin: number, length: number): void;
  abstract onReject(peer: Peer, index: number, begin: number): void;
  abstract onExtended(peer: Peer, name: string, payload: Uint8Array): void;
  abstract onHashRequest(peer: Peer, req: HashRequest): void;
  abstract onHashes(peer: Peer, req: HashRequest, hashes: Uint8Array): void;
  abstract onHashReject(peer: Peer, req: HashRequest): void;

  get infoHash(): Uint8Array {
    return Uint8Array.from(this.infoHashHex.match(/../g)!, (h) => parseInt(h, 16));
  }

  get infoHashV2Short(): Uint8Array | undefined {
    return this.infoHashV2Hex ? fromHex(this.infoHashV2Hex.slice(0, 40)) : undefined;
  }

  /** The ids a peer may name this torrent by in its handshake: a hybrid has two (BEP 52). */
  handshakeIds(): Uint8Array[] {
    const v2 = this.infoHashV2Hex?.slice(0, 40);
    return v2 && v2 !== this.infoHashHex ? [this.infoHash, fromHex(v2)] : [this.infoHash];
  }

  get state(): TorrentState {
    return this.currentState;
  }

  set state(s: TorrentState) {
    if (s === this.currentState) return;
    this.currentState = s;
    this.changed();
  }

  /** See TorrentHandle.revision: events, state changes and each tick of an active torrent count. */
  get revision(): number {
    return this.changes;
  }

  /** Something a report shows changed without an event (a tracker's reply, a limit, a selection). */
  protected touch(): void {
    this.changed();
  }

  protected changed(): void {
    this.changes++;
    // ctx is unset only while the constructor runs; the session notes every torrent it adds anyway.
    this.ctx?.scheduler.changes.note(this);
  }

  override emit(event: string, ...args: unknown[]): boolean {
    this.changed();
    const tapped = this.ctx?.torrentEvents?.emit(event, this, ...args) ?? false;
    return super.emit(event, ...args) || tapped;
  }

  protected get meters(): typeof IDLE_METERS {
    return (this.ownMeters ??= { down: new SpeedMeter(), up: new SpeedMeter(), eta: new EtaEstimator() });
  }

  /** Meters to read (shared zeros until this torrent moved a byte). */
  protected get readMeters(): typeof IDLE_METERS {
    return this.ownMeters ?? IDLE_METERS;
  }

  protected get discoveryLog(): DiscoveryLog {
    return (this.log ??= new DiscoveryLog());
  }

  protected get metadata(): MetadataExchange {
    return (this.metadataExchange ??= new MetadataExchange(this.infoHashHex, this.metainfo?.infoBytes, (info) => void this.gotMetadata(info), this.infoHashV2Hex));
  }

  protected get extensions(): ExtensionHub {
    return (this.extensionHub ??= new ExtensionHub(this.ctx.extensions ?? [], this.infoHash, this.ctx.peerId, {
      onError: (message) => this.emit('warning', message),
      onPriority: (peer) => this.onInterested(peer),
    }));
  }

  /** BEP 55 (swarm/holepunch.ts): made when a peer first sends ut_holepunch or PEX flags it. */
  protected get holepunch(): Holepunch {
    return (this.holepunchState ??= new Holepunch({
      peers: () => this.peersByKey.values(),
      busy: (key) => this.peersByKey.has(key) || !!this.punching?.has(key),
      isBanned: (key) => this.ctx.isBanned(key),
      dial: (addr) => this.dialOne(addressKey(addr), addr, 'holepunch', true),
      log: (key, result) => this.discoveryLog.attempt(key, 'holepunch', result),
      counts: this.ctx.tally?.holepunch,
      now: () => clock.now(),
    }));
  }

  /** Metadata is known now: the exchange only serves it from here on, and goes once no peer uses it. */
  protected metadataKnown(info: Uint8Array): void {
    if (this.metadataExchange) this.metadataExchange.infoBytes = info;
  }

  protected tryUnchoke(peer: Peer): void {
    (this.choker ??= new Choker()).tryUnchoke(peer, [...this.peersByKey.values()], this.picker?.done ?? false);
  }

  // ---- the scheduler's side: wake() ticks it from the next second on ----
  protected wake(): void {
    if (this.running && !this.closed) this.ctx.scheduler.wake(this);
  }

  tick(now: number): boolean | number {
    this.ticks++;
    const peers = [...this.peersByKey.values()];
    if (!this.metainfo && peers.length > 0) this.metadata.tick();
    for (const p of peers) {
      expireRequests(p, now, (index, begin) => this.picker?.released(index, begin));
      shrinkQueue(p);
      if (p.amInterested || p.peerInterested) p.usefulAt = now;
      if (now - p.lastMessageAt > 120_000) p.destroy('idle');
      // Only TCP and uTP: they can be dialled again at once, where a WebRTC peer would wait for the next
      // WebSocket-tracker announce (minutes) and a slow-growing partial seed would be lost for that long.
      else if (this.state === 'downloading' && p.conn.transport !== 'webrtc' && now - p.usefulAt > USELESS_PEER_MS) p.destroy('nothing to trade');
      else if (this.ticks % KEEPALIVE_TICKS === 0) p.keepAlive();
      this.fillRequests(p);
    }
    if (this.ticks % RECHOKE_TICKS === 0 && this.picker && peers.length > 0) (this.choker ??= new Choker()).rechoke(peers, this.picker.done, this.metainfo?.pieceLength, now);
    if (this.ticks % PEX_TICKS === 0 && !this.metainfo?.private && peers.length > 0) (this.pex ??= new PexSender()).send(peers, now);
    this.startWebSeeds();
    this.connectMore();
    // Each tick of an active torrent is a change (bytes, rates, peers); stats are built only for
    // a listener.
    if (this.listenerCount('stats') > 0) this.emit('stats', this.stats());
    else this.touch();
    return this.nextTick(now);
  }

  /** Ticks again? true while busy; a time when only a back-off is pending; false when idle. */
  private nextTick(now: number): boolean | number {
    if (this.closed) return false;
    if (this.peersByKey.size > 0 || (this.dialing?.size ?? 0) > 0) return true;
    // Rates decaying to 0 still change what stats() reads: the revision must follow them down.
    const m = this.ownMeters;
    if (m && (m.down.rate(now) > 0 || m.up.rate(now) > 0)) return true;
    if (!this.running || this.state === 'paused' || this.state === 'error') return this.idleNow();
    if (this.state === 'downloading' || this.state === 'checking' || this.state === 'metadata' || this.hasWebSeedsRunning()) return true;
    let next = Infinity;
    if (this.candidates) for (const [, c] of this.candidates.entries()) next = Math.min(next, c.nextTry);
    if (next === Infinity) return this.idleNow();
    if (next <= now + 1000) return true;
    // Nothing connected nor moving, only a redial seconds or minutes away (a dead address from the
    // DHT or a tracker keeps one for as long as it is known): open files and buffers go meanwhile and
    // come back on demand. Before, such a seed held its files for ever (issue 63, bench/soak).
    this.idle();
    return next;
  }

  /** Leaving the active set: objects only a connected swarm needs go (they come back on demand). */
  private idleNow(): false {
    this.choker = undefined;
    this.holepunchState = undefined;
    this.pex = undefined;
    this.ownMeters = undefined;
    if (this.metainfo) this.metadataExchange = undefined;
    if (this.candidates?.size === 0) this.candidates = undefined;
    this.idle();
    return false;
  }

  /** Hook for torrent.ts: the torrent went idle (nothing connected, nothing moving). */
  protected idle(): void {}

  // ---- discovery & connections ----
  /** Whether the address is new to this torrent (known, banned or invalid ones are not). */
  addPeer(addr: PeerAddress | string, source = 'manual'): boolean {
    let a: PeerAddress;
    try {
      a = typeof addr === 'string' ? parseAddress(addr) : addr;
    } catch {
      return false;
    }
    const key = addressKey(a);
    if (this.candidates?.has(key) || this.peersByKey.has(key) || this.ctx.isBanned(key)) return false;
    if (!(this.candidates ??= new Candidates()).add(key, a, source)) return false;
    if (this.running) {
      queueMicrotask(() => this.connectMore());
      this.wake();
    }
    return true;
  }

  // ---- BEP 14 local service discovery (discovery/lsd.ts) ----
  /** Announced on the LAN: running, not private (BEP 27), not hidden behind private discovery. */
  lsdAllowed(): boolean {
    return this.running && !this.closed && !this.metainfo?.private && this.opts.privateDiscovery !== true;
  }

  lsdPeer(addr: PeerAddress): boolean {
    const added = this.addPeer(addr, 'lsd');
    if (added) this.discoveryLog.lsdPeers(1);
    return added;
  }

  protected connectMore(): void {
    if (this.closed || !this.running || this.state === 'paused' || this.state === 'error' || !this.candidates) return;
    if (this.picker?.done && this.peersByKey.size > 0) return; // seeding: let leechers come to us
    const now = clock.now();
    let reached: Set<string> | undefined;
    for (const [key, c] of this.candidates.entries()) {
      if (this.peersByKey.size + (this.dialing?.size ?? 0) >= this.ctx.maxConnections || this.ctx.canConnect?.() === false) break;
      if (this.dialing?.has(key) || this.peersByKey.has(key) || c.nextTry > now) continue;
      if ((reached ??= listenAddresses(this.peersByKey.values())).has(key)) continue;
      this.dialOne(key, c.addr, c.source, false, c);
    }
  }

  /** A plain dial (of a candidate), or a BEP 55 one (uTP only, at a broker's word). */
  private dialOne(key: string, addr: PeerAddress, source: string, punch: boolean, c?: Candidate): void {
    const inFlight = punch ? (this.punching ??= new Set()) : (this.dialing ??= new Set());
    inFlight.add(key);
    const abort = (this.abort ??= new AbortController());
    this.wake();
    // A peer a broker could introduce us to gets a rendezvous if it does not answer in time.
    const hp = punch ? undefined : this.holepunchState;
    const stuck = hp?.hasBroker(key) ? setTimeout(() => this.dialing?.has(key) && hp.dialStuck(key), RENDEZVOUS_AFTER_MS) : undefined;
    this.ctx.dialer.dial(addr, abort.signal, punch ? { holepunch: true } : undefined).then(
      (conn) => {
        clearTimeout(stuck);
        inFlight.delete(key);
        if (this.closed || abort.signal.aborted || !this.admitDialled(key, conn)) return conn.close();
        if (punch && this.ctx.tally) this.ctx.tally.holepunch.connected++;
        const peer = new Peer(conn, { source, host: this });
        this.addPeerEntry(key, peer);
        this.watchHandshake(peer);
      },
      (err: Error) => {
        clearTimeout(stuck);
        inFlight.delete(key);
        if (c) this.candidates?.dialFailed(key, c);
        if (abort.signal.aborted) return;
        this.discoveryLog.attempt(key, source, err.message);
        if (!punch) this.holepunchState?.dialStuck(key);
      },
    );
  }

  /** Not when one to that address is there already, unless they crossed and the shared rule keeps ours. */
  private admitDialled(key: string, conn: Connection): boolean {
    const existing = this.peersByKey.get(key);
    if (!existing) return true;
    const ours: ConnectionSide = { conn, outgoing: true, key, remoteId: undefined };
    if (crossedDrop<ConnectionSide>(existing, ours, this.ctx.port(), this.ctx.peerId) !== existing) return false;
    existing.destroy('duplicate connection: the crossed one we dialled stays');
    return true;
  }

  /** Stops dialling and drops every connection (pause, error, recheck, move, close). */
  protected disconnectAll(): void {
    this.abort?.abort();
    this.abort = undefined;
    for (const p of [...this.peersByKey.values()]) p.destroy('torrent stopped');
    this.peersByKey = NO_PEERS as Map<string, Peer>;
  }

  private addPeerEntry(key: string, peer: Peer): void {
    if (this.peersByKey === NO_PEERS) this.peersByKey = new Map();
    this.peersByKey.set(key, peer);
    this.touch();
    this.wake();
  }

  // ---- WebRTC (issue 5): connections made for this torrent by a WebSocket tracker ----
  /** A connection known to be this torrent's (a WebRTC data channel): both ends handshake at once. */
  addConnection(conn: Connection, source = 'webrtc'): void {
    const key = conn.remote;
    if (this.closed || this.state === 'paused' || this.state === 'error' || this.peersByKey.has(key) || this.ctx.isBanned(key)) return conn.close();
    if (this.peersByKey.size >= this.ctx.maxConnections + 5 && !this.evictFor(undefined)) return conn.close();
    const peer = new Peer(conn, { source, host: this });
    this.addPeerEntry(key, peer);
    this.watchHandshake(peer);
  }

  /** A remote that never answers our handshake would otherwise hold the slot until the idle check. */
  private watchHandshake(peer: Peer): void {
    const timer = setTimeout(() => {
      if (!peer.remoteId) peer.destroy('no handshake in time');
    }, this.ctx.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    timer.unref?.();
    peer.onceClosed(() => clearTimeout(timer));
  }

  /** At the limit: the peer useless longest gives its slot to `newcomer`. False if all trade. */
  private evictFor(newcomer: Peer | undefined): boolean {
    const victim = longestUseless([this.peersByKey.values()], newcomer);
    victim?.destroy('evicted: nothing to trade, its slot went to a newcomer');
    return !!victim;
  }

  /** Connected peers (what stats().peers counts, without making the stats). */
  peerCount(): number {
    return this.peersByKey.size;
  }

  /** Live connections and dials in progress: they count against the node-wide limit. */
  connectionCount(): number {
    return this.peersByKey.size + (this.dialing?.size ?? 0);
  }

  /** The connected peers (the session looks for the longest-useless one when the node is full). */
  connectedPeers(): Iterable<Peer> {
    return this.peersByKey.values();
  }

  /** Whether a peer with this id (hex) is connected over TCP or uTP: WebRTC need not reach it again. */
  hasTcpPeer(peerIdHex: string): boolean {
    for (const p of this.peersByKey.values()) if (p.conn.transport !== 'webrtc' && p.remoteId && toHex(p.remoteId) === peerIdHex) return true;
    return false;
  }

  /** Room for more peers (used to decide how many WebRTC offers to make). */
  wantsPeers(): number {
    return Math.max(0, this.ctx.maxConnections - this.connectionCount());
  }
  // ---- end WebRTC ----

  /** An incoming connection whose handshake named this torrent. */
  acceptIncoming(conn: Connection, resolve: (infoHash: Uint8Array) => PeerHost | undefined): void {
    new Peer(conn, { source: 'incoming', resolve });
  }

  get peerId(): Uint8Array {
    return this.ctx.peerId;
  }

  dhtPort(): number | undefined {
    return this.metainfo?.private ? undefined : this.ctx.dhtPort();
  }

  onReady(peer: Peer): void {
    if (this.ctx.isBanned(peer.address, peer.remoteId) || this.state === 'paused' || this.state === 'error' || this.closed || this.moving) return peer.destroy('not accepting');
    const existing = this.peersByKey.get(peer.key);
    if (existing && existing !== peer) {
      // Two uTP connections crossed (a BEP 55 punch): the one both ends keep (admission.ts).
      if (crossedDrop(existing, peer, this.ctx.port(), this.ctx.peerId) !== existing) return peer.destroy('duplicate connection');
      existing.destroy('duplicate connection: the crossed one accepted stays');
    }
    const drop = duplicateToDrop(this.peersByKey.values(), peer, this.ctx.peerId);
    if (drop === peer) return peer.destroy('duplicate peer id');
    drop?.retire('duplicate peer id');
    // Incoming peers get a few slots beyond what we dial, and past those the newcomer takes the slot
    // of a peer that has been useless longest: idle connections must not lock honest peers out.
    if (this.peersByKey.size >= this.ctx.maxConnections + 5 && !peer.outgoing && !this.evictFor(peer)) return peer.destroy('too many connections');
    this.addPeerEntry(peer.key, peer);
    this.discoveryLog.attempt(peer.address, peer.source, 'connected');
    const superSeeder = this.superSeed.active(this.picker);
    greet(peer, {
      metadataSize: this.metainfo?.infoBytes.length,
      port: this.ctx.port(),
      client: this.ctx.client,
      extensions: this.extensions.names(),
      holepunch: this.ctx.canHolepunch?.() === true,
      ownAddresses: this.ctx.ownAddresses,
      picker: this.picker,
      superSeeder,
      dhtPort: this.dhtPort(),
    });
    if (this.metainfo) peer.applyPieceCount(this.metainfo.pieceCount);
    superSeeder?.refresh(peer);
  }

  onDhtPort(peer: Peer, port: number): void {
    const host = peer.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (!this.metainfo?.private) this.ctx.dht?.addNode({ host, port });
  }

  onExtHandshake(peer: Peer): void {
    const v6 = peer.ext && learnAddresses(peer.ext, peer.conn.remote, peer.outgoing, this.ctx.ownAddresses);
    if (v6 && !this.metainfo?.private) this.addPeer(v6, 'pex');
    if (!this.metainfo) this.metadata.peerReady(peer);
    this.extensions.handshake(peer);
  }

  localExtension(id: number): string | undefined {
    return this.extensions.localName(id);
  }

  onClose(peer: Peer, reason: string): void {
    if (this.peersByKey.get(peer.key) === peer) this.peersByKey.delete(peer.key);
    if (!peer.remoteId && reason !== 'torrent stopped') this.discoveryLog.attempt(peer.address, peer.source, reason);
    this.releaseRequests(peer);
    this.superSeed.forget(peer);
    this.seedSuggester?.release(peer, true);
    this.pex?.forget(peer);
    this.extensionHub?.closed(peer);
    this.candidates?.closed(peer.key, reason === 'both seeding' || reason === 'nothing to trade' ? reason : 'other');
    this.emit('peer-closed', { address: peer.address, reason });
    if (!this.closed) queueMicrotask(() => this.connectMore());
  }

  /** Peers told what we have once our check ended (they may have arrived during it). */
  protected peersGotMetadata(): void {
    const now = clock.now();
    for (const p of this.peersByKey.values()) {
      p.usefulAt = now; // the time spent checking does not count against them
      this.peerGotMetadata(p);
    }
  }
}
