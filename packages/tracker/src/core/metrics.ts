// This process's counters. Swarm totals come from the store (shared under Redis); request counts
// and rates are per process, as each process only sees its own traffic.

export type Protocol = 'http' | 'udp' | 'ws';
const PROTOCOLS: Protocol[] = ['http', 'udp', 'ws'];

// Announces per second is averaged over this many whole seconds.
const WINDOW_S = 10;

export class Metrics {
  readonly startedAt = Date.now();
  readonly announces: Record<Protocol, number> = { http: 0, udp: 0, ws: 0 };
  readonly scrapes: Record<Protocol, number> = { http: 0, udp: 0, ws: 0 };
  /** Requests answered with a failure reason or error packet. */
  readonly failures: Record<Protocol, number> = { http: 0, udp: 0, ws: 0 };
  readonly rateLimited: Record<Protocol, number> = { http: 0, udp: 0, ws: 0 };
  /** Announces made in-process by the node that embeds this tracker (RunningTracker.announceLocal):
   *  not requests, so neither in `announces` nor in the rate. */
  localAnnounces = 0;
  udpConnects = 0;
  /** STUN binding requests answered on the UDP port (stun.ts). */
  stunAnswers = 0;
  /** UDP packets ignored unanswered (malformed, oversized, spoofed connect replies), and replies
   *  the kernel would not take (its send buffer full). */
  udpDropped = 0;
  /** How UDP datagrams move (udp/transport.ts): 'mmsg' (batched, Linux) or 'dgram'. */
  udpIo: 'mmsg' | 'dgram' | '' = '';
  wsConnections = 0;
  wsRelayed = 0;
  // Ring of per-second announce counts for the rate.
  private readonly ring = new Uint32Array(WINDOW_S + 1);
  private ringSecond = Math.floor(Date.now() / 1000);

  announced(p: Protocol, now?: number): void {
    this.announces[p]++;
    now ??= Date.now();
    const sec = Math.floor(now / 1000);
    if (sec !== this.ringSecond) this.advance(sec);
    this.ring[sec % this.ring.length]!++;
  }

  /** Mean over the last WINDOW_S seconds, the current partial second included (or since start, if sooner). */
  announcesPerSecond(now = Date.now()): number {
    const sec = Math.floor(now / 1000);
    if (sec !== this.ringSecond) this.advance(sec);
    let sum = 0;
    for (let s = sec - WINDOW_S + 1; s <= sec; s++) sum += this.ring[s % this.ring.length]!;
    const span = Math.min(WINDOW_S - 1 + (now % 1000) / 1000, (now - this.startedAt) / 1000);
    return sum / Math.max(span, 0.1);
  }

  totalAnnounces(): number {
    return PROTOCOLS.reduce((n, p) => n + this.announces[p], 0);
  }

  // Zero the buckets of seconds that passed with no announce.
  private advance(sec: number): void {
    const gap = Math.min(sec - this.ringSecond, this.ring.length);
    for (let i = 1; i <= gap; i++) this.ring[(this.ringSecond + i) % this.ring.length] = 0;
    this.ringSecond = sec;
  }
}

export { PROTOCOLS };
