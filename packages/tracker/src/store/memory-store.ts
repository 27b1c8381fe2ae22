// The in-process store: one tracker process, no dependencies. IP peers are packed records
// (packed-peers.ts: about 60–95 bytes a peer, and no JavaScript object per peer or per swarm), seeds
// and leechers apart so a random sample costs O(numwant), not O(swarm); totals are running
// counters so /stats and /metrics never walk the swarms. Browser (WebSocket) peers are few and
// carry more (the process holding their socket): they stay objects, counted apart.

import type {
  AnnounceInput,
  AnnounceResult,
  PeerKind,
  PeerRecord,
  Refusal,
  RelayMessage,
  StoreTotals,
  SwarmCounts,
  TrackerStore,
  UserRecord,
} from './store.ts';
import { transferDelta } from './store.ts';
import { PackedSwarms, pickedSlots, stratifiedPick } from './packed-peers.ts';
import { formatIpv6, isMapped4, parseIp16 } from './ip16.ts';

/** A browser peer (WebSocket): few per swarm, so an object each, with the process that holds its socket. */
interface WsPeer extends PeerRecord {
  left: number;
  seenAt: number;
  uploaded: number;
  downloaded: number;
  /** Position in its WsPeerSet's list. */
  slot: number;
}

/** Array + id index with swap-remove: O(1) add, remove and random access. Small sets (most: a
 *  node's own swarms hold one browser peer, itself) are scanned and have no index: 10,000 swarms
 *  with a Map each held some 3 MB for nothing. */
class WsPeerSet {
  /** The shared empty list until the first peer: then a literal of one (a list grown by push
   *  reserves 17 slots; a node's own swarms hold one peer each, 10,000 of them). */
  list: WsPeer[] = NO_WS_PEERS;
  private index: Map<string, WsPeer> | undefined;

  get size(): number {
    return this.list.length;
  }
  get(id: string): WsPeer | undefined {
    if (this.index) return this.index.get(id);
    for (const p of this.list) if (p.peerIdHex === id) return p;
    return undefined;
  }
  add(p: WsPeer): void {
    p.slot = this.list.length;
    if (this.list === NO_WS_PEERS) this.list = [p];
    else this.list.push(p);
    if (this.index) this.index.set(p.peerIdHex, p);
    else if (this.list.length > INDEX_FROM) this.index = new Map(this.list.map((x) => [x.peerIdHex, x]));
  }
  remove(p: WsPeer): void {
    const last = this.list.pop()!;
    if (last !== p) {
      this.list[p.slot] = last;
      last.slot = p.slot;
    }
    this.index?.delete(p.peerIdHex);
  }
}

/** The list of every empty WsPeerSet (never added to: add() replaces it). */
const NO_WS_PEERS: WsPeer[] = [];

/** Peers a WsPeerSet scans before it keeps an index. */
const INDEX_FROM = 8;

/** The set of every group's side that never had a peer (never added to: WsGroup.adding() makes one). */
const NO_WS_SET = new WsPeerSet();

class WsGroup {
  /** Made at their first peer: a node's own swarms hold one seed each and no leecher (10,000 empty
   *  sets of leechers were 0.4 MB). */
  seeds = NO_WS_SET;
  leeches = NO_WS_SET;

  /** The side a peer is added to, made if it is still the shared empty one. */
  adding(seed: boolean): WsPeerSet {
    if (seed) return this.seeds === NO_WS_SET ? (this.seeds = new WsPeerSet()) : this.seeds;
    return this.leeches === NO_WS_SET ? (this.leeches = new WsPeerSet()) : this.leeches;
  }
}

export interface MemoryStoreOptions {
  /** Peers that stop announcing vanish after this long (a couple of announce intervals). */
  peerTtlMs: number;
}

export interface StoreMemory {
  swarms: number;
  ipPeers: number;
  wsPeers: number;
  /** Live segments: the IP peers' records and id indexes (and private-mode credits). */
  packedBytes: number;
  /** Per-swarm arrays and the infohash index. */
  swarmBytes: number;
  /** Chunks reserved for segments, free parts included. */
  slabBytes: number;
  /** (packedBytes + swarmBytes) / ipPeers. */
  bytesPerIpPeer: number;
}

export class MemoryStore implements TrackerStore {
  readonly pinsLocalPeers = true;
  private readonly sw = new PackedSwarms();
  /** Browser peers, by swarm number, for the swarms that have any. */
  private readonly ws = new Map<number, WsGroup>();
  private readonly ttlMs: number;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private peers = 0;
  private seeders = 0;
  /** No peer, packed or browser, was last seen before this (a lower bound: re-announces move
   *  peers later without raising it; each full sweep sets it exactly). */
  private earliestSeen = Infinity;
  /** A peer left or a swarm was made since the last full sweep: some swarm may now be empty. */
  private mayHaveEmptied = false;
  /** The first time an empty swarm the last full sweep kept (for scrapes) may go. */
  private nextEmptyDrop = Infinity;
  /** Browser peers among `peers`. */
  private wsPeers = 0;
  private readonly userMap = new Map<string, UserRecord>();
  private readonly registered = new Set<string>();
  private readonly relayHandlers = new Map<string, (msg: RelayMessage) => void>();
  // Scratch for ids and addresses as bytes: no allocation per announce.
  private readonly ihBuf = Buffer.alloc(20);
  private readonly idBuf = Buffer.alloc(20);
  private readonly ipBuf = Buffer.alloc(16);
  private readonly dupBuf = Buffer.alloc(20);
  /** The result of every announce with `into` (AnnounceInput.into: read before the next announce). */
  private readonly intoResult: AnnounceResult = { peers: NO_PEERS, counts: { complete: 0, incomplete: 0, downloaded: 0 }, written: 0 };

  constructor(opts: MemoryStoreOptions) {
    this.ttlMs = opts.peerTtlMs;
    // An announce or scrape expires its own swarm's peers as it comes; the sweep is for swarms
    // nobody touches. A quarter of the ttl keeps their counts close enough (a peer is counted up to
    // a ttl after its last announce anyway), at most every 2 minutes: a sweep visits every swarm,
    // some 80 ms at 10,000 of them, which every 30 s was a quarter of an idle node's CPU.
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(1000, Math.min(this.ttlMs / 4, 120_000)));
    this.sweeper.unref();
  }

  announce(a: AnnounceInput): AnnounceResult {
    const now = a.now ?? Date.now();
    const sw = this.sw;
    const ih = a.infoHash ?? this.hex20(a.infoHashHex, this.ihBuf);
    const ihOff = a.infoHash ? (a.infoHashOffset ?? 0) : 0;
    let s = sw.find(ih, ihOff);
    if (s < 0) {
      if (a.event === 'stopped') return { peers: [], counts: { complete: 0, incomplete: 0, downloaded: 0 } };
      // Not a reason for a full sweep (mayHaveEmptied): the announce adds its peer to it ('stopped'
      // returned above), and a start wave's 10,000 new swarms made the first sweep visit them all.
      s = sw.create(ih, ihOff);
    }
    sw.touchedAt[s] = now;
    this.expire(s, now);
    if (a.kind === 'ws') return this.announceWs(s, a, now);

    const id = a.peerId ?? this.hex20(a.peerIdHex, this.idBuf);
    const idOff = a.peerId ? (a.peerIdOffset ?? 0) : 0;
    let slot = sw.findPeer(s, id, idOff);
    if (a.passkey !== undefined) this.credit(s, slot, a);
    if (a.event === 'stopped') {
      if (slot >= 0) this.dropPacked(s, slot);
      return { peers: [], counts: this.countsOf(s) };
    }
    const seed = a.left === 0;
    // Count a completion once per peer, however many times a client repeats the event.
    if (a.event === 'completed' && (slot < 0 || !sw.isSeed(s, slot))) sw.downloaded[s]!++;
    let ip: Uint8Array = this.ipBuf;
    let ipOff = 0;
    let v6: boolean;
    if (a.hostBytes) {
      ip = a.hostBytes;
      ipOff = a.hostBytesOffset ?? 0;
      v6 = !isMapped4(ip, ipOff);
    } else v6 = parseIp16(a.host, ip, 0) === 6;
    if (now < this.earliestSeen) this.earliestSeen = now;
    if (slot < 0) {
      slot = sw.add(s, id, idOff, ip, ipOff, v6, a.port, seed, now);
      this.peers++;
      if (seed) this.seeders++;
      // Growing swarms leave outgrown segments behind: pack when a quarter of the slab is such.
      const waste = sw.wasteBytes;
      if (waste > COMPACT_MIN_BYTES && waste * 4 > sw.chunkBytes) sw.compact();
    } else {
      if (sw.isSeed(s, slot) !== seed) this.seeders += seed ? 1 : -1;
      slot = sw.setSeed(s, slot, seed);
      sw.write(s, slot, ip, ipOff, v6, a.port, now);
    }
    if (a.passkey !== undefined) {
      const c = sw.ensureCredits(s);
      c[2 * slot] = a.uploaded;
      c[2 * slot + 1] = a.downloaded;
    }
    return this.samplePacked(s, slot, a);
  }

  counts(infoHashHex: string): SwarmCounts {
    const s = this.sw.find(this.hex20(infoHashHex, this.ihBuf), 0);
    if (s < 0) return { complete: 0, incomplete: 0, downloaded: 0 };
    this.expire(s, Date.now());
    return this.countsOf(s);
  }

  findPeer(infoHashHex: string, peerIdHex: string, kind: PeerKind): PeerRecord | undefined {
    const s = this.sw.find(this.hex20(infoHashHex, this.ihBuf), 0);
    if (s < 0) return undefined;
    const cutoff = Date.now() - this.ttlMs;
    if (kind === 'ws') {
      const g = this.ws.get(s);
      const p = g?.seeds.get(peerIdHex) ?? g?.leeches.get(peerIdHex);
      return p && p.seenAt >= cutoff ? p : undefined;
    }
    const slot = this.sw.findPeer(s, this.hex20(peerIdHex, this.idBuf), 0);
    return slot >= 0 && this.sw.seenAt(s, slot) >= cutoff ? this.record(s, slot) : undefined;
  }

  totals(): StoreTotals {
    return { torrents: this.sw.count, peers: this.peers, seeders: this.seeders, leechers: this.peers - this.seeders };
  }

  /** What the store holds, counted from its arrays (see StoreMemory). */
  memoryUsage(): StoreMemory {
    const ipPeers = this.peers - this.wsPeers;
    const packedBytes = this.sw.segmentBytes;
    const swarmBytes = this.sw.tableBytes;
    return {
      swarms: this.sw.count,
      ipPeers,
      wsPeers: this.wsPeers,
      packedBytes,
      swarmBytes,
      slabBytes: this.sw.chunkBytes,
      bytesPerIpPeer: ipPeers === 0 ? 0 : (packedBytes + swarmBytes) / ipPeers,
    };
  }

  /** Packs the segments together now (PackedSwarms.compact); announces and sweeps do it when worth it. */
  compact(): void {
    this.sw.compact();
  }

  // --- registry ---

  addUser(user: { passkey: string; name: string }): void {
    if (!this.userMap.has(user.passkey)) this.userMap.set(user.passkey, { ...user, uploaded: 0, downloaded: 0 });
  }
  user(passkey: string): UserRecord | undefined {
    const u = this.userMap.get(passkey);
    return u && { ...u };
  }
  users(): UserRecord[] {
    return [...this.userMap.values()].map((u) => ({ ...u }));
  }
  addTorrent(infoHashHex: string): void {
    this.registered.add(infoHashHex);
  }
  torrentRegistered(infoHashHex: string): boolean {
    return this.registered.has(infoHashHex);
  }
  authorize(passkey: string, infoHashHex: string): Refusal {
    if (!this.userMap.has(passkey)) return 'unknown passkey';
    if (!this.registered.has(infoHashHex)) return 'unregistered torrent';
    return undefined;
  }

  // --- relay: one process, so delivery is a local call (deferred, as a remote one would be) ---

  relay(owner: string, msg: RelayMessage): void {
    const h = this.relayHandlers.get(owner);
    if (h) queueMicrotask(() => h(msg));
  }
  onRelay(owner: string, handler: (msg: RelayMessage) => void): void {
    this.relayHandlers.set(owner, handler);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const s of [...this.sw.all()]) this.sw.delete(s);
    this.sw.compact();
    this.ws.clear();
    this.relayHandlers.clear();
  }

  /** 40 hex digits into 20 bytes of `out`; anything else reads as zeros (such ids never reach here). */
  private hex20(hex: string, out: Buffer): Buffer {
    if (out.write(hex, 0, 20, 'hex') !== 20) out.fill(0);
    return out;
  }

  private credit(s: number, slot: number, a: AnnounceInput): void {
    const u = this.userMap.get(a.passkey!);
    if (!u) return;
    const c = slot >= 0 ? this.sw.credits(s) : undefined;
    u.uploaded += transferDelta(c ? c[2 * slot] : undefined, a.uploaded, a.event);
    u.downloaded += transferDelta(c ? c[2 * slot + 1] : undefined, a.downloaded, a.event);
  }

  private countsOf(s: number): SwarmCounts {
    return this.countsInto(s, { complete: 0, incomplete: 0, downloaded: 0 });
  }

  private countsInto(s: number, c: SwarmCounts): SwarmCounts {
    // Most trackers have no browser peers at all: no map look-up per announce then.
    const ws = this.ws.size === 0 ? undefined : this.ws.get(s);
    c.complete = this.sw.seeds(s) + (ws ? this.wsOnly(s, ws.seeds) : 0);
    c.incomplete = this.sw.leechers(s) + (ws ? this.wsOnly(s, ws.leeches) : 0);
    c.downloaded = this.sw.downloaded[s]!;
    return c;
  }

  /** WebSocket peers not also announced over IP under the same peer id: a hybrid client (a
   *  Cascade node: TCP and WebRTC) is one peer of the swarm, counted as its IP record says. The
   *  sets are small (a node's own swarm: itself), the IP peers already expired by the caller. */
  private wsOnly(s: number, set: WsPeerSet): number {
    let n = 0;
    for (const p of set.list) if (this.sw.findPeer(s, this.hex20(p.peerIdHex, this.dupBuf), 0) < 0) n++;
    return n;
  }

  private dropPacked(s: number, slot: number): void {
    this.mayHaveEmptied = true;
    if (this.sw.isSeed(s, slot)) this.seeders--;
    this.sw.remove(s, slot);
    this.peers--;
  }

  /** A peer as an object, for dictionary replies and findPeer. */
  private record(s: number, slot: number): PeerRecord {
    const a = this.sw.address(s, slot);
    const host = this.sw.isV6(s, slot) ? formatIpv6(a, 0) : `${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
    return { peerIdHex: this.sw.peerIdHex(s, slot), host, port: this.sw.port(s, slot), owner: '' };
  }

  /**
   * Up to numwant other peers (see PackedSwarms.pick). With `compact`, they come out as BEP 23
   * (compact4) and BEP 7 (compact6) bytes copied from the records, with no object per peer, or
   * straight into the caller's buffer (`into`); otherwise as objects.
   */
  private samplePacked(s: number, self: number, a: AnnounceInput): AnnounceResult {
    const sw = this.sw;
    const k = sw.pick(s, self, a.numwant);
    if (a.into && a.compact === true) {
      // The caller reads the result before it announces again (AnnounceInput.into): one object,
      // reused, rather than three per datagram.
      const r = this.intoResult;
      this.countsInto(s, r.counts);
      r.written = sw.writePicked(s, k, a.into.family, a.into.buf, a.into.offset);
      return r;
    }
    const counts = this.countsOf(s);
    const slots = pickedSlots();
    if (a.compact !== true) {
      const peers: PeerRecord[] = [];
      for (let i = 0; i < k; i++) peers.push(this.record(s, slots[i]!));
      return { peers, counts };
    }
    let k6 = 0;
    if (sw.ipv6Peers(s) > 0) for (let i = 0; i < k; i++) if (sw.isV6(s, slots[i]!)) k6++;
    const compact4 = Buffer.allocUnsafe((k - k6) * 6);
    sw.writePicked(s, k, 4, compact4, 0);
    if (k6 === 0) return { peers: [], counts, compact4 };
    const compact6 = Buffer.allocUnsafe(k6 * 18);
    sw.writePicked(s, k, 6, compact6, 0);
    return { peers: [], counts, compact4, compact6 };
  }

  // --- browser peers: objects, few per swarm ---

  private announceWs(s: number, a: AnnounceInput, now: number): AnnounceResult {
    let group = this.ws.get(s);
    if (!group) this.ws.set(s, (group = new WsGroup()));
    const prev = group.seeds.get(a.peerIdHex) ?? group.leeches.get(a.peerIdHex);
    if (a.passkey !== undefined) {
      const u = this.userMap.get(a.passkey);
      if (u) {
        u.uploaded += transferDelta(prev?.uploaded, a.uploaded, a.event);
        u.downloaded += transferDelta(prev?.downloaded, a.downloaded, a.event);
      }
    }
    if (a.event === 'stopped') {
      if (prev) this.dropWs(group, prev);
      return { peers: [], counts: this.countsOf(s) };
    }
    const seed = a.left === 0;
    if (a.event === 'completed' && (!prev || prev.left > 0)) this.sw.downloaded[s]!++;
    let p = prev;
    if (!p) {
      p = { peerIdHex: a.peerIdHex, host: a.host, port: a.port, owner: a.owner, left: a.left, seenAt: a.pinned ? Infinity : now, uploaded: 0, downloaded: 0, slot: 0 };
      group.adding(seed).add(p);
      this.peers++;
      this.wsPeers++;
      if (seed) this.seeders++;
    } else if ((p.left === 0) !== seed) {
      (seed ? group.leeches : group.seeds).remove(p);
      group.adding(seed).add(p);
      this.seeders += seed ? 1 : -1;
    }
    p.host = a.host;
    p.port = a.port;
    p.owner = a.owner;
    p.left = a.left;
    // A pinned peer never ages out: its connection's close removes it (ws.ts).
    p.seenAt = a.pinned ? Infinity : now;
    if (p.seenAt < this.earliestSeen) this.earliestSeen = p.seenAt;
    p.uploaded = a.uploaded;
    p.downloaded = a.downloaded;
    // Leechers, then seeds unless we are one, never ourselves; drawn like PackedPeers.pick.
    const pool = seed ? group.leeches.list : [...group.leeches.list, ...group.seeds.list];
    const others = pool.filter((x) => x !== p);
    const k = stratifiedPick(others.length, a.numwant);
    const slots = pickedSlots();
    const peers: PeerRecord[] = [];
    for (let i = 0; i < k; i++) peers.push(others[slots[i]!]!);
    return { peers, counts: this.countsOf(s) };
  }

  private dropWs(group: WsGroup, p: WsPeer): void {
    this.mayHaveEmptied = true;
    (p.left === 0 ? group.seeds : group.leeches).remove(p);
    this.peers--;
    this.wsPeers--;
    if (p.left === 0) this.seeders--;
  }

  /** Drops the swarm's peers whose last announce is older than the ttl; O(1) unless one may have. */
  private expire(s: number, now: number): void {
    const cutoff = now - this.ttlMs;
    const gone = this.sw.expire(s, cutoff);
    if (gone > 0) {
      this.mayHaveEmptied = true;
      this.peers -= gone;
      this.seeders -= this.sw.expiredSeeds;
    }
    const ws = this.ws.size === 0 ? undefined : this.ws.get(s);
    if (!ws) return;
    // Browser peers are few per swarm: a scan is cheap (and makes no array: sweeps run it for
    // every swarm, 10,000 at a time).
    this.expireWs(ws, ws.seeds, cutoff);
    this.expireWs(ws, ws.leeches, cutoff);
    if (ws.seeds.size + ws.leeches.size === 0) this.ws.delete(s);
  }

  private expireWs(ws: WsGroup, set: WsPeerSet, cutoff: number): void {
    for (let i = set.list.length - 1; i >= 0; i--) {
      const p = set.list[i]!;
      if (p.seenAt < cutoff) this.dropWs(ws, p);
    }
  }

  // Swarms nobody announces to or scrapes still have to let go of their peers, and then go.
  // A visit of every swarm costs ~80 ms at 10,000 of them: an idle node's own seeds, re-announced
  // well within the ttl, give it nothing to do, so it is skipped until some peer may be overdue, a
  // peer left, or a kept empty swarm's time is up.
  private sweep(now: number): void {
    if (this.earliestSeen >= now - this.ttlMs && !this.mayHaveEmptied && now < this.nextEmptyDrop) return;
    // Empty swarms keep their completion count a while for scrapes.
    const idleSpan = Math.max(this.ttlMs, 3_600_000);
    const idleCutoff = now - idleSpan;
    const sw = this.sw;
    let earliest = Infinity;
    let nextDrop = Infinity;
    for (const s of [...sw.all()]) {
      this.expire(s, now);
      const ws = this.ws.size === 0 ? undefined : this.ws.get(s);
      if (sw.n(s) === 0 && !ws && (sw.downloaded[s] === 0 || sw.touchedAt[s]! < idleCutoff)) {
        sw.delete(s);
        continue;
      }
      if (sw.n(s) === 0 && !ws) nextDrop = Math.min(nextDrop, sw.touchedAt[s]! + idleSpan);
      earliest = Math.min(earliest, sw.oldestSeen(s));
      if (ws) for (const list of [ws.seeds.list, ws.leeches.list]) for (const p of list) if (p.seenAt < earliest) earliest = p.seenAt;
    }
    this.earliestSeen = earliest;
    this.nextEmptyDrop = nextDrop;
    this.mayHaveEmptied = false;
    // At rest, keep less waste than announces tolerate.
    const waste = sw.wasteBytes;
    if (waste > COMPACT_MIN_BYTES && waste * 10 > sw.chunkBytes) sw.compact();
  }
}

/** The peer list of results whose peers went elsewhere (compact forms): never added to. */
const NO_PEERS: PeerRecord[] = [];

/** Below this much waste the slab is left alone (two chunks). */
const COMPACT_MIN_BYTES = 2 << 20;
