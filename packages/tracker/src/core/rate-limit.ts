// Per-IP token buckets shared by HTTP, UDP and WebSocket. A real client announces each torrent
// every half hour; a seedbox starting up bursts, so the bucket is deep and the rate modest.

export interface RateLimitOptions {
  /** Sustained requests per second per IP; 0 turns limiting off. */
  perSecond: number;
  /** Requests an idle IP may make at once. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

// A spoofed-source UDP flood could create a bucket per fake address: past this, start over.
const MAX_BUCKETS = 500_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly sweeper: ReturnType<typeof setInterval> | undefined;
  readonly enabled: boolean;

  constructor(opts: RateLimitOptions) {
    this.enabled = opts.perSecond > 0;
    this.perMs = opts.perSecond / 1000;
    this.burst = Math.max(1, opts.burst);
    if (this.enabled) {
      this.sweeper = setInterval(() => this.sweep(), 10_000);
      this.sweeper.unref();
    }
  }

  /** Takes one token for `ip`; false means refuse the request. */
  allow(ip: string, now?: number): boolean {
    if (!this.enabled) return true;
    now ??= Date.now();
    let b = this.buckets.get(ip);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      this.buckets.set(ip, (b = { tokens: this.burst, at: now }));
    } else {
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.buckets.clear();
  }

  // A bucket that has refilled is indistinguishable from a new one: forget it.
  private sweep(now = Date.now()): void {
    for (const [ip, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(ip);
    }
  }
}
