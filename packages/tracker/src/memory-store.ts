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

interface Peer extends PeerRecord {
  left: number;
  seenAt: number;
  uploaded: number;
  downloaded: number;
  /** Position in its PeerSet's array. */
  slot: number;
}

/** Array + id index with swap-remove: O(1) add, remove and random access. */
class PeerSet {
  readonly list: Peer[] = [];
  private readonly index = new Map<string, Peer>();

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
  }
  remove(p: Peer): void {
    const last = this.list.pop()!;
    if (last !== p) {
      this.list[p.slot] = last;
      last.slot = p.slot;
    }
    this.index.delete(p.peerIdHex);
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
      p = { peerIdHex: a.peerIdHex, host: a.host, port: a.port, owner: a.owner, left: a.left, seenAt: now, uploaded: 0, downloaded: 0, slot: 0 };
      (seed ? group.seeds : group.leeches).add(p);
      this.peers++;
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
    return { peers: this.sample(group, p, a.numwant, now), counts: this.countsOf(swarm) };
  }

  counts(infoHashHex: string): SwarmCounts {
    const swarm = this.swarms.get(infoHashHex);
    return swarm ? this.countsOf(swarm) : { complete: 0, incomplete: 0, downloaded: 0 };
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
   */
  private sample(group: Group, self: Peer, numwant: number, now: number): PeerRecord[] {
    if (numwant <= 0) return [];
    const leeches = group.leeches.list;
    const seeds = self.left === 0 ? [] : group.seeds.list;
    const n = leeches.length + seeds.length;
    const at = (i: number): Peer => (i < leeches.length ? leeches[i]! : seeds[i - leeches.length]!);
    const cutoff = now - this.ttlMs;
    const out: PeerRecord[] = [];
    const take = (p: Peer) => {
      if (p !== self && p.seenAt >= cutoff && out.length < numwant) out.push(p);
    };
    const k = Math.min(n, numwant + 1);
    if (k === n) {
      for (let i = 0; i < n; i++) take(at(i));
      return out;
    }
    const chosen = new Set<number>();
    for (let j = n - k; j < n; j++) {
      const t = Math.floor(Math.random() * (j + 1));
      const pick = chosen.has(t) ? j : t;
      chosen.add(pick);
      take(at(pick));
    }
    return out;
  }

  private sweep(now: number): void {
    const cutoff = now - this.ttlMs;
    // Empty swarms keep their completion count a while for scrapes, then go.
    const idleCutoff = now - Math.max(this.ttlMs, 3_600_000);
    for (const [hash, swarm] of this.swarms) {
      for (const g of swarm.ws ? [swarm.ip, swarm.ws] : [swarm.ip]) {
        for (const set of [g.seeds, g.leeches]) {
          // Backwards: swap-remove only moves already-visited entries.
          for (let i = set.list.length - 1; i >= 0; i--) {
            const p = set.list[i]!;
            if (p.seenAt < cutoff) this.drop(g, p);
          }
        }
      }
      if (swarm.peerCount === 0 && (swarm.downloaded === 0 || swarm.touchedAt < idleCutoff)) this.swarms.delete(hash);
    }
  }
}
