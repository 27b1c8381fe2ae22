// The in-process store: one tracker process, no dependencies. Peers sit in dense arrays (seeds and
// leechers apart) so a random sample costs O(numwant), not O(swarm), and totals are kept as
// running counters so /stats and /metrics never walk the swarms.

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
import { ipv4Number } from './peers.ts';

interface Peer extends PeerRecord {
  left: number;
  seenAt: number;
  uploaded: number;
  downloaded: number;
  /** Position in its PeerSet's array. */
  slot: number;
  /** Neighbours in its PeerSet's age order (oldest first). */
  older: Peer | undefined;
  newer: Peer | undefined;
  /** The sample() call that last picked it: an O(1) "already chosen?" without allocating. */
  mark: number;
}

/**
 * Array + id index with swap-remove, for O(1) add, remove and random access; plus a list in
 * announce order, so expired peers are always at its head and expiry is amortized O(1).
 */
class PeerSet {
  readonly list: Peer[] = [];
  private readonly index = new Map<string, Peer>();
  private oldest: Peer | undefined;
  private newest: Peer | undefined;
  /**
   * Each slot's peer in BEP 23 form (IPv4 + port), side by side: a UDP or compact HTTP reply is
   * assembled from here without touching 50 scattered peer objects (their cache misses were the
   * largest cost of an announce). Port 0 marks a slot with no IPv4 form (IPv6 or WebSocket peer).
   */
  compact = Buffer.alloc(8 * 6);
  /** Per slot: the sample that last drew it (see MemoryStore.sample). */
  marks = new Uint32Array(8);

  get size(): number {
    return this.list.length;
  }
  get(id: string): Peer | undefined {
    return this.index.get(id);
  }
  add(p: Peer): void {
    p.slot = this.list.length;
    this.list.push(p);
    this.index.set(p.peerIdHex, p);
    this.append(p);
    if (this.marks.length < this.list.length) {
      const compact = Buffer.alloc(this.marks.length * 2 * 6);
      this.compact.copy(compact);
      this.compact = compact;
      const marks = new Uint32Array(this.marks.length * 2);
      marks.set(this.marks);
      this.marks = marks;
    }
    this.writeCompact(p);
  }
  remove(p: Peer): void {
    const last = this.list.pop()!;
    if (last !== p) {
      this.list[p.slot] = last;
      last.slot = p.slot;
      this.compact.copy(this.compact, p.slot * 6, this.list.length * 6, this.list.length * 6 + 6);
      this.marks[p.slot] = this.marks[this.list.length]!;
    }
    this.index.delete(p.peerIdHex);
    this.unlink(p);
  }
  /** Refreshes the slot's compact form after the peer's address or port changed. */
  writeCompact(p: Peer): void {
    const off = p.slot * 6;
    if (p.ip4 === undefined) {
      this.compact.writeUInt16BE(0, off + 4);
    } else {
      this.compact.writeUInt32BE(p.ip4, off);
      this.compact.writeUInt16BE(p.port, off + 4);
    }
  }
  /** Marks `p` as the most recently announced. */
  touch(p: Peer): void {
    if (this.newest === p) return;
    this.unlink(p);
    this.append(p);
  }
  /** The least recently announced peer, if it announced before `cutoff`. */
  expired(cutoff: number): Peer | undefined {
    return this.oldest && this.oldest.seenAt < cutoff ? this.oldest : undefined;
  }
  private append(p: Peer): void {
    p.older = this.newest;
    p.newer = undefined;
    if (this.newest) this.newest.newer = p;
    else this.oldest = p;
    this.newest = p;
  }
  private unlink(p: Peer): void {
    if (p.older) p.older.newer = p.newer;
    else this.oldest = p.newer;
    if (p.newer) p.newer.older = p.older;
    else this.newest = p.older;
    p.older = p.newer = undefined;
  }
}

class Group {
  readonly seeds = new PeerSet();
  readonly leeches = new PeerSet();
}

class Swarm {
  readonly ip = new Group();
  ws: Group | undefined;
  downloaded = 0;
  touchedAt = 0;
  group(kind: PeerKind, create: boolean): Group | undefined {
    if (kind === 'ip') return this.ip;
    if (!this.ws && create) this.ws = new Group();
    return this.ws;
  }
  get peerCount(): number {
    return this.ip.seeds.size + this.ip.leeches.size + (this.ws ? this.ws.seeds.size + this.ws.leeches.size : 0);
  }
}

export interface MemoryStoreOptions {
  /** Peers that stop announcing vanish after this long (a couple of announce intervals). */
  peerTtlMs: number;
}

export class MemoryStore implements TrackerStore {
  private readonly swarms = new Map<string, Swarm>();
  private readonly ttlMs: number;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private peers = 0;
  private seeders = 0;
  private sampleMark = 0;
  private readonly userMap = new Map<string, UserRecord>();
  private readonly registered = new Set<string>();
  private readonly relayHandlers = new Map<string, (msg: RelayMessage) => void>();

  constructor(opts: MemoryStoreOptions) {
    this.ttlMs = opts.peerTtlMs;
    // Sweeping often keeps counts close to the truth; each sweep is one pass over the peers.
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(1000, Math.min(this.ttlMs / 4, 30_000)));
    this.sweeper.unref();
  }

  announce(a: AnnounceInput): AnnounceResult {
    const now = Date.now();
    let swarm = this.swarms.get(a.infoHashHex);
    if (!swarm) {
      if (a.event === 'stopped') return { peers: [], counts: { complete: 0, incomplete: 0, downloaded: 0 } };
      this.swarms.set(a.infoHashHex, (swarm = new Swarm()));
    }
    swarm.touchedAt = now;
    this.expire(swarm, now);
    const group = swarm.group(a.kind, true)!;
    const prev = group.seeds.get(a.peerIdHex) ?? group.leeches.get(a.peerIdHex);
    if (a.passkey !== undefined) this.credit(a, prev);

    if (a.event === 'stopped') {
      if (prev) this.drop(group, prev);
      return { peers: [], counts: this.countsOf(swarm) };
    }

    const seed = a.left === 0;
    // Count a completion once per peer, however many times a client repeats the event.
    if (a.event === 'completed' && (!prev || prev.left > 0)) swarm.downloaded++;
    let p = prev;
    if (!p) {
      p = { peerIdHex: a.peerIdHex, host: a.host, ip4: ipv4Number(a.host), port: a.port, owner: a.owner, left: a.left, seenAt: now, uploaded: 0, downloaded: 0, slot: 0, older: undefined, newer: undefined, mark: 0 };
      (seed ? group.seeds : group.leeches).add(p);
      this.peers++;
      if (seed) this.seeders++;
    } else if ((p.left === 0) !== seed) {
      (seed ? group.leeches : group.seeds).remove(p);
      (seed ? group.seeds : group.leeches).add(p);
      this.seeders += seed ? 1 : -1;
    } else {
      (seed ? group.seeds : group.leeches).touch(p);
    }
    if (p.host !== a.host || p.port !== a.port) {
      p.host = a.host;
      p.ip4 = ipv4Number(a.host);
      p.port = a.port;
      (seed ? group.seeds : group.leeches).writeCompact(p);
    }
    p.owner = a.owner;
    p.left = a.left;
    p.seenAt = now;
    p.uploaded = a.uploaded;
    p.downloaded = a.downloaded;
    return this.sample(group, p, a.numwant, a.compact === true, this.countsOf(swarm));
  }

  counts(infoHashHex: string): SwarmCounts {
    const swarm = this.swarms.get(infoHashHex);
    if (!swarm) return { complete: 0, incomplete: 0, downloaded: 0 };
    this.expire(swarm, Date.now());
    return this.countsOf(swarm);
  }

  findPeer(infoHashHex: string, peerIdHex: string, kind: PeerKind): PeerRecord | undefined {
    const g = this.swarms.get(infoHashHex)?.group(kind, false);
    const p = g?.seeds.get(peerIdHex) ?? g?.leeches.get(peerIdHex);
    return p && p.seenAt >= Date.now() - this.ttlMs ? p : undefined;
  }

  totals(): StoreTotals {
    return { torrents: this.swarms.size, peers: this.peers, seeders: this.seeders, leechers: this.peers - this.seeders };
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
    this.relayHandlers.clear();
  }

  private credit(a: AnnounceInput, prev: Peer | undefined): void {
    const u = this.userMap.get(a.passkey!);
    if (!u) return;
    u.uploaded += transferDelta(prev?.uploaded, a.uploaded, a.event);
    u.downloaded += transferDelta(prev?.downloaded, a.downloaded, a.event);
  }

  private countsOf(swarm: Swarm): SwarmCounts {
    const ws = swarm.ws;
    return {
      complete: swarm.ip.seeds.size + (ws ? ws.seeds.size : 0),
      incomplete: swarm.ip.leeches.size + (ws ? ws.leeches.size : 0),
      downloaded: swarm.downloaded,
    };
  }

  private drop(group: Group, p: Peer): void {
    (p.left === 0 ? group.seeds : group.leeches).remove(p);
    this.peers--;
    if (p.left === 0) this.seeders--;
  }

  /**
   * A uniform random sample (Floyd's algorithm) over leechers, plus seeds when the announcer is
   * not one itself: a seed has no use for other seeds. One extra draw covers skipping ourselves.
   * Every peer in the sets is live: announce() expired the stale ones just before.
   * With `compact`, IPv4 peers come out as one BEP 23 buffer copied from the sets' compact arrays,
   * and `peers` holds only the rest.
   */
  private sample(group: Group, self: Peer, numwant: number, compact: boolean, counts: SwarmCounts): AnnounceResult {
    const peers: PeerRecord[] = [];
    const leeches = group.leeches;
    const seeds = group.seeds;
    const nl = leeches.size;
    const n = numwant <= 0 ? 0 : nl + (self.left === 0 ? 0 : seeds.size);
    const k = Math.min(n, numwant + 1);
    const out = compact ? Buffer.allocUnsafe(Math.min(k, numwant) * 6) : undefined;
    let written = 0;
    let taken = 0;
    // Wraps while still a small integer; a stale equal mark a billion samples on costs one peer.
    const mark = (this.sampleMark = this.sampleMark >= 0x3fffffff ? 1 : this.sampleMark + 1);
    for (let j = n - k; j < n && taken < numwant; j++) {
      let pick = k === n ? j : Math.floor(Math.random() * (j + 1));
      let set = pick < nl ? leeches : seeds;
      let slot = pick < nl ? pick : pick - nl;
      if (set.marks[slot] === mark) {
        // Floyd: a repeat draw takes j, which no earlier step could have drawn.
        pick = j;
        set = pick < nl ? leeches : seeds;
        slot = pick < nl ? pick : pick - nl;
      }
      set.marks[slot] = mark;
      if (set === (self.left === 0 ? seeds : leeches) && slot === self.slot) continue;
      taken++;
      const off = slot * 6;
      const c = set.compact;
      if (out && (c[off + 4]! | c[off + 5]!) !== 0) {
        // Six byte moves: Buffer#copy for 6 bytes costs a native call and was a third of sample().
        out[written] = c[off]!;
        out[written + 1] = c[off + 1]!;
        out[written + 2] = c[off + 2]!;
        out[written + 3] = c[off + 3]!;
        out[written + 4] = c[off + 4]!;
        out[written + 5] = c[off + 5]!;
        written += 6;
      } else {
        peers.push(set.list[slot]!);
      }
    }
    return out ? { peers, counts, compact4: written === out.length ? out : out.subarray(0, written) } : { peers, counts };
  }

  /** Drops the swarm's peers whose last announce is older than the ttl. Runs on every announce: no allocations. */
  private expire(swarm: Swarm, now: number): void {
    const cutoff = now - this.ttlMs;
    this.expireGroup(swarm.ip, cutoff);
    if (swarm.ws) this.expireGroup(swarm.ws, cutoff);
  }

  private expireGroup(g: Group, cutoff: number): void {
    let p;
    while ((p = g.seeds.expired(cutoff))) this.drop(g, p);
    while ((p = g.leeches.expired(cutoff))) this.drop(g, p);
  }

  // Swarms nobody announces to or scrapes still have to let go of their peers, and then go.
  private sweep(now: number): void {
    // Empty swarms keep their completion count a while for scrapes.
    const idleCutoff = now - Math.max(this.ttlMs, 3_600_000);
    for (const [hash, swarm] of this.swarms) {
      this.expire(swarm, now);
      if (swarm.peerCount === 0 && (swarm.downloaded === 0 || swarm.touchedAt < idleCutoff)) this.swarms.delete(hash);
    }
  }
}
