// Where swarms live. Behind an interface so a shared store (e.g. redis) can replace memory later;
// methods may return promises for that reason, and callers always await them.

export type Awaitable<T> = T | Promise<T>;

export interface PeerRecord {
  peerIdHex: string;
  host: string;
  port: number;
  left: number;
  seenAt: number;
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
  host: string;
  port: number;
  left: number;
  event?: 'started' | 'completed' | 'stopped';
  numwant: number;
}

export interface SwarmStore {
  /** Records the peer (or drops it on `stopped`) and returns up to numwant other peers. */
  announce(a: AnnounceInput): Awaitable<{ peers: PeerRecord[]; counts: SwarmCounts }>;
  counts(infoHashHex: string): Awaitable<SwarmCounts>;
  close(): Awaitable<void>;
}

interface Swarm {
  peers: Map<string, PeerRecord>;
  downloaded: number;
}

export class MemoryStore implements SwarmStore {
  private readonly swarms = new Map<string, Swarm>();
  private readonly ttlMs: number;
  private readonly sweeper: ReturnType<typeof setInterval>;

  /** Peers that stop announcing vanish after ttlMs (a couple of announce intervals). */
  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(ttlMs, 60_000));
    this.sweeper.unref();
  }

  announce(a: AnnounceInput): { peers: PeerRecord[]; counts: SwarmCounts } {
    const now = Date.now();
    let swarm = this.swarms.get(a.infoHashHex);
    if (a.event === 'stopped') {
      swarm?.peers.delete(a.peerIdHex);
      if (swarm && swarm.peers.size === 0 && swarm.downloaded === 0) this.swarms.delete(a.infoHashHex);
      return { peers: [], counts: this.counts(a.infoHashHex) };
    }
    if (!swarm) this.swarms.set(a.infoHashHex, (swarm = { peers: new Map(), downloaded: 0 }));
    const prev = swarm.peers.get(a.peerIdHex);
    // Count a completion once per peer, however many times a client repeats the event.
    if (a.event === 'completed' && (!prev || prev.left > 0)) swarm.downloaded++;
    swarm.peers.set(a.peerIdHex, { peerIdHex: a.peerIdHex, host: a.host, port: a.port, left: a.left, seenAt: now });
    return { peers: this.pick(swarm, a, now), counts: this.counts(a.infoHashHex) };
  }

  counts(infoHashHex: string): SwarmCounts {
    const swarm = this.swarms.get(infoHashHex);
    let complete = 0;
    let incomplete = 0;
    const cutoff = Date.now() - this.ttlMs;
    for (const p of swarm?.peers.values() ?? []) {
      if (p.seenAt < cutoff) continue;
      if (p.left === 0) complete++;
      else incomplete++;
    }
    return { complete, incomplete, downloaded: swarm?.downloaded ?? 0 };
  }

  close(): void {
    clearInterval(this.sweeper);
    this.swarms.clear();
  }

  // Random sample so every peer gets introduced to different parts of a big swarm.
  private pick(swarm: Swarm, a: AnnounceInput, now: number): PeerRecord[] {
    const cutoff = now - this.ttlMs;
    const all: PeerRecord[] = [];
    for (const p of swarm.peers.values()) {
      if (p.peerIdHex === a.peerIdHex || p.seenAt < cutoff) continue;
      // A seed has no use for other seeds.
      if (a.left === 0 && p.left === 0) continue;
      all.push(p);
    }
    for (let i = 0; i < Math.min(a.numwant, all.length); i++) {
      const j = i + Math.floor(Math.random() * (all.length - i));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, a.numwant);
  }

  private sweep(now: number): void {
    const cutoff = now - this.ttlMs;
    for (const [hash, swarm] of this.swarms) {
      for (const [id, p] of swarm.peers) if (p.seenAt < cutoff) swarm.peers.delete(id);
      if (swarm.peers.size === 0 && swarm.downloaded === 0) this.swarms.delete(hash);
    }
  }
}
