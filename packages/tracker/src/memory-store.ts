// The in-process store: one tracker process, no dependencies. A swarm's IP peers are packed
// records in one Buffer (packed-peers.ts: about 60 bytes a peer, no object per peer), seeds and
// leechers apart so a random sample costs O(numwant), not O(swarm); totals are running counters
// so /stats and /metrics never walk the swarms.

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
import { CHUNK_BYTES, PackedPeers, Slab, parseIp16, pickedSlots, stratifiedPick } from './packed-peers.ts';

/** A browser peer (WebSocket): few per swarm, so an object each, with the process that holds its socket. */
interface WsPeer extends PeerRecord {
  left: number;
  seenAt: number;
  uploaded: number;
  downloaded: number;
  /** Position in its WsPeerSet's list. */
  slot: number;
}

/** Array + id index with swap-remove: O(1) add, remove and random access. */
class WsPeerSet {
  readonly list: WsPeer[] = [];
  private readonly index = new Map<string, WsPeer>();

  get size(): number {
    return this.list.length;
  }
  get(id: string): WsPeer | undefined {
    return this.index.get(id);
  }
  add(p: WsPeer): void {
    p.slot = this.list.length;
    this.list.push(p);
    this.index.set(p.peerIdHex, p);
  }
  remove(p: WsPeer): void {
    const last = this.list.pop()!;
    if (last !== p) {
      this.list[p.slot] = last;
      last.slot = p.slot;
    }
    this.index.delete(p.peerIdHex);
  }
}

class WsGroup {
  readonly seeds = new WsPeerSet();
  readonly leeches = new WsPeerSet();
}

/** One torrent: its IP peers packed (PackedPeers), its browser peers as objects. One object per swarm. */
class Swarm extends PackedPeers {
  ws: WsGroup | undefined;
  downloaded = 0;
  touchedAt = 0;
  get peerCount(): number {
    return this.n + (this.ws ? this.ws.seeds.size + this.ws.leeches.size : 0);
  }
}

export interface MemoryStoreOptions {
  /** Peers that stop announcing vanish after this long (a couple of announce intervals). */
  peerTtlMs: number;
}

export class MemoryStore implements TrackerStore {
  private readonly swarms = new Map<string, Swarm>();
  private readonly slab = new Slab();
  private readonly ttlMs: number;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private peers = 0;
  private seeders = 0;
  /** Browser peers among `peers` (they are objects, not packed records). */
  private wsPeers = 0;
  private readonly userMap = new Map<string, UserRecord>();
  private readonly registered = new Set<string>();
  private readonly relayHandlers = new Map<string, (msg: RelayMessage) => void>();
  // Scratch for the announcer's id and address as bytes: no allocation per announce.
  private readonly idBuf = Buffer.alloc(20);
  private readonly ipBuf = Buffer.alloc(16);

  constructor(opts: MemoryStoreOptions) {
    this.ttlMs = opts.peerTtlMs;
    // Sweeping often keeps counts close to the truth; a sweep costs O(1) for swarms with nothing due.
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(1000, Math.min(this.ttlMs / 4, 30_000)));
    this.sweeper.unref();
  }

  announce(a: AnnounceInput): AnnounceResult {
    const now = Date.now();
    let swarm = this.swarms.get(a.infoHashHex);
    if (!swarm) {
      if (a.event === 'stopped') return { peers: [], counts: { complete: 0, incomplete: 0, downloaded: 0 } };
      this.swarms.set(a.infoHashHex, (swarm = new Swarm(this.slab)));
    }
    swarm.touchedAt = now;
    this.expire(swarm, now);
    if (a.kind === 'ws') return this.announceWs(swarm, a, now);

    const id = a.peerId ?? this.hexId(a.peerIdHex);
    const idOff = a.peerId ? (a.peerIdOffset ?? 0) : 0;
    let slot = swarm.find(id, idOff);
    if (a.passkey !== undefined) this.credit(swarm, slot, a);
    if (a.event === 'stopped') {
      if (slot >= 0) this.dropPacked(swarm, slot);
      return { peers: [], counts: this.countsOf(swarm) };
    }
    const seed = a.left === 0;
    // Count a completion once per peer, however many times a client repeats the event.
    if (a.event === 'completed' && (slot < 0 || !swarm.isSeed(slot))) swarm.downloaded++;
    const family = parseIp16(a.host, this.ipBuf, 0);
    if (slot < 0) {
      slot = swarm.add(id, idOff, this.ipBuf, 0, family === 6, a.port, seed, now);
      this.peers++;
      if (seed) this.seeders++;
      if (this.slab.wasteful()) this.compact();
    } else {
      if (swarm.isSeed(slot) !== seed) this.seeders += seed ? 1 : -1;
      slot = swarm.setSeed(slot, seed);
      swarm.write(slot, this.ipBuf, 0, family === 6, a.port, now);
    }
    if (a.passkey !== undefined) {
      const c = swarm.ensureCredits();
      c[2 * slot] = a.uploaded;
      c[2 * slot + 1] = a.downloaded;
    }
    return this.samplePacked(swarm, slot, a.numwant, a.compact === true);
  }

  counts(infoHashHex: string): SwarmCounts {
    const swarm = this.swarms.get(infoHashHex);
    if (!swarm) return { complete: 0, incomplete: 0, downloaded: 0 };
    this.expire(swarm, Date.now());
    return this.countsOf(swarm);
  }

  findPeer(infoHashHex: string, peerIdHex: string, kind: PeerKind): PeerRecord | undefined {
    const swarm = this.swarms.get(infoHashHex);
    if (!swarm) return undefined;
    const cutoff = Date.now() - this.ttlMs;
    if (kind === 'ws') {
      const g = swarm.ws;
      const p = g?.seeds.get(peerIdHex) ?? g?.leeches.get(peerIdHex);
      return p && p.seenAt >= cutoff ? p : undefined;
    }
    const slot = swarm.find(this.hexId(peerIdHex), 0);
    return slot >= 0 && swarm.seenAt(slot) >= cutoff ? this.record(swarm, slot) : undefined;
  }

  totals(): StoreTotals {
    return { torrents: this.swarms.size, peers: this.peers, seeders: this.seeders, leechers: this.peers - this.seeders };
  }

  /**
   * What the swarms hold, counted from their arrays: `packedBytes` is the live segments (records
   * and id indexes of the IP peers) and private-mode credits, `slabBytes` the chunks reserved for
   * segments, `swarmBytes` an estimate of the one object, Map entry and key each swarm adds.
   * Browser peers are objects and counted apart (`wsPeers`).
   */
  memoryUsage(): { swarms: number; ipPeers: number; wsPeers: number; packedBytes: number; slabBytes: number; swarmBytes: number; bytesPerIpPeer: number } {
    let packed = 0;
    for (const s of this.swarms.values()) packed += s.byteLength;
    const ipPeers = this.peers - this.wsPeers;
    const swarmBytes = this.swarms.size * SWARM_OVERHEAD_BYTES;
    return {
      swarms: this.swarms.size,
      ipPeers,
      wsPeers: this.wsPeers,
      packedBytes: packed,
      slabBytes: this.slab.chunkBytes,
      swarmBytes,
      bytesPerIpPeer: ipPeers === 0 ? 0 : (packed + swarmBytes) / ipPeers,
    };
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
    this.swarms.clear();
    this.slab.compact([]);
    this.relayHandlers.clear();
  }

  /**
   * Packs the swarms' segments together (Slab.compact): growing swarms leave segments of the
   * sizes they outgrew, which only other swarms of that size can reuse. Runs when a third of the
   * slab is such waste (at rest, an eighth), so its cost is amortized over the frees before it.
   */
  compact(): void {
    this.slab.compact(this.swarms.values());
  }

  private hexId(peerIdHex: string): Buffer {
    this.idBuf.fill(0);
    this.idBuf.write(peerIdHex, 0, 20, 'hex');
    return this.idBuf;
  }

  private credit(swarm: Swarm, slot: number, a: AnnounceInput): void {
    const u = this.userMap.get(a.passkey!);
    if (!u) return;
    const c = slot >= 0 ? swarm.credits : undefined;
    u.uploaded += transferDelta(c ? c[2 * slot] : undefined, a.uploaded, a.event);
    u.downloaded += transferDelta(c ? c[2 * slot + 1] : undefined, a.downloaded, a.event);
  }

  private countsOf(swarm: Swarm): SwarmCounts {
    const ws = swarm.ws;
    return {
      complete: swarm.seeds + (ws ? ws.seeds.size : 0),
      incomplete: swarm.nl + (ws ? ws.leeches.size : 0),
      downloaded: swarm.downloaded,
    };
  }

  private dropPacked(swarm: Swarm, slot: number): void {
    if (swarm.isSeed(slot)) this.seeders--;
    swarm.remove(slot);
    this.peers--;
  }

  /** A peer as an object, for dictionary replies and findPeer. */
  private record(swarm: Swarm, slot: number): PeerRecord {
    return { peerIdHex: swarm.peerIdHex(slot), host: swarm.host(slot), port: swarm.port(slot), owner: '' };
  }

  /**
   * Up to numwant other peers (see PackedPeers.pick). With `compact`, they come out as BEP 23
   * (compact4) and BEP 7 (compact6) bytes copied from the records, with no object per peer;
   * otherwise as objects.
   */
  private samplePacked(swarm: Swarm, self: number, numwant: number, compact: boolean): AnnounceResult {
    const counts = this.countsOf(swarm);
    const k = swarm.pick(self, numwant);
    const slots = pickedSlots();
    if (!compact) {
      const peers: PeerRecord[] = [];
      for (let i = 0; i < k; i++) peers.push(this.record(swarm, slots[i]!));
      return { peers, counts };
    }
    let k6 = 0;
    if (swarm.n6 > 0) for (let i = 0; i < k; i++) if (swarm.isV6(slots[i]!)) k6++;
    const compact4 = Buffer.allocUnsafe((k - k6) * 6);
    const compact6 = k6 > 0 ? Buffer.allocUnsafe(k6 * 18) : undefined;
    let o4 = 0;
    let o6 = 0;
    for (let i = 0; i < k; i++) {
      const s = slots[i]!;
      if (compact6 && swarm.isV6(s)) o6 += swarm.copyCompact(s, compact6, o6);
      else o4 += swarm.copyCompact(s, compact4, o4);
    }
    return compact6 ? { peers: [], counts, compact4, compact6 } : { peers: [], counts, compact4 };
  }

  // --- browser peers: objects, few per swarm ---

  private announceWs(swarm: Swarm, a: AnnounceInput, now: number): AnnounceResult {
    const group = (swarm.ws ??= new WsGroup());
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
      return { peers: [], counts: this.countsOf(swarm) };
    }
    const seed = a.left === 0;
    if (a.event === 'completed' && (!prev || prev.left > 0)) swarm.downloaded++;
    let p = prev;
    if (!p) {
      p = { peerIdHex: a.peerIdHex, host: a.host, port: a.port, owner: a.owner, left: a.left, seenAt: now, uploaded: 0, downloaded: 0, slot: 0 };
      (seed ? group.seeds : group.leeches).add(p);
      this.peers++;
      this.wsPeers++;
      if (seed) this.seeders++;
    } else if ((p.left === 0) !== seed) {
      (seed ? group.leeches : group.seeds).remove(p);
      (seed ? group.seeds : group.leeches).add(p);
      this.seeders += seed ? 1 : -1;
    }
    p.host = a.host;
    p.port = a.port;
    p.owner = a.owner;
    p.left = a.left;
    p.seenAt = now;
    p.uploaded = a.uploaded;
    p.downloaded = a.downloaded;
    // Leechers, then seeds unless we are one, never ourselves; drawn like PackedPeers.pick.
    const pool = seed ? group.leeches.list : [...group.leeches.list, ...group.seeds.list];
    const others = pool.filter((x) => x !== p);
    const k = stratifiedPick(others.length, a.numwant);
    const slots = pickedSlots();
    const peers: PeerRecord[] = [];
    for (let i = 0; i < k; i++) peers.push(others[slots[i]!]!);
    return { peers, counts: this.countsOf(swarm) };
  }

  private dropWs(group: WsGroup, p: WsPeer): void {
    (p.left === 0 ? group.seeds : group.leeches).remove(p);
    this.peers--;
    this.wsPeers--;
    if (p.left === 0) this.seeders--;
  }

  /** Drops the swarm's peers whose last announce is older than the ttl; O(1) unless one may have. */
  private expire(swarm: Swarm, now: number): void {
    const cutoff = now - this.ttlMs;
    const gone = swarm.expire(cutoff);
    if (gone > 0) {
      this.peers -= gone;
      this.seeders -= swarm.expiredSeeds;
    }
    const ws = swarm.ws;
    if (!ws) return;
    // Browser peers are few per swarm: a scan is cheap.
    for (const set of [ws.seeds, ws.leeches]) {
      for (let i = set.list.length - 1; i >= 0; i--) {
        const p = set.list[i]!;
        if (p.seenAt < cutoff) this.dropWs(ws, p);
      }
    }
  }

  // Swarms nobody announces to or scrapes still have to let go of their peers, and then go.
  private sweep(now: number): void {
    // Empty swarms keep their completion count a while for scrapes.
    const idleCutoff = now - Math.max(this.ttlMs, 3_600_000);
    for (const [hash, swarm] of this.swarms) {
      this.expire(swarm, now);
      if (swarm.peerCount === 0 && (swarm.downloaded === 0 || swarm.touchedAt < idleCutoff)) this.swarms.delete(hash);
    }
    // Between sweeps the slab may carry up to a third of waste (see announce); at rest, less.
    const waste = this.slab.wasteBytes;
    if (waste > 2 * CHUNK_BYTES && waste * 8 > this.slab.liveBytes) this.compact();
  }
}

/**
 * Estimated cost of one swarm beyond its segment: the Swarm object (a dozen fields), the Map entry
 * and the 40-character hex key. For memoryUsage(); measured figures are in
 * bench/tracker.
 */
const SWARM_OVERHEAD_BYTES = 360;
