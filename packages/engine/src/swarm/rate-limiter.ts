// Speed limits (issue 20): token buckets shared by every peer of a torrent, and by every torrent
// of a session. Uploads wait for tokens before each block goes out; downloads ask for blocks only
// as fast as the buckets allow (a peer sends what we request, so the rate holds even against a
// fast libtorrent seeder). With no limit set nothing here runs on the data path but one boolean.
//
// A bucket is kept as a "theoretical arrival time" (GCRA): `tat` is when everything granted so far
// will have been paid for at `rate`; a grant may run ahead of the clock by the burst allowance. Over
// any window the bytes granted stay within rate × window + burst, and the burst is kept small
// (a tenth of a second of the rate, at least two blocks) so a 5 s window holds ±10% at 1 MiB/s.
//
// A limited transfer moves in batches of half the burst, not block by block: a bucket that ran dry
// wakes its side once a batch's tokens are in (BATCH_FRACTION). Granting each 16 KiB block as its
// tokens arrived made every block its own request, timer, write and WebRTC message (640 a second
// at 10 MiB/s): a WebRTC seeder under a 10 MiB/s download limit spent 16.8 CPU-s/GiB on its main
// thread and the downloader 12.2, against 1.4 and 2.5 unlimited (bench/nat/README.md, rtc6).

import type { RateLimits } from '../api.ts';
import { clock } from '../clock.ts';

const BURST_MS = 100;
/** A grant of one block must always be possible: the burst is never below two 16 KiB blocks. */
const MIN_BURST_BYTES = 32 * 1024;
/** A dry bucket lets its side go again once this much of the burst is paid for (a batch). */
const BATCH_FRACTION = 0.5;

export class RateBucket {
  private rate = 0;
  private burstMs = 0;
  private tat = 0;

  constructor(rate = 0) {
    this.setRate(rate);
  }

  /** Bytes/s, 0 = unlimited. */
  get limit(): number {
    return this.rate;
  }

  setRate(rate: number): void {
    if (rate === this.rate) return;
    this.rate = rate;
    this.burstMs = rate > 0 ? Math.max(BURST_MS, (MIN_BURST_BYTES * 1000) / rate) : 0;
    // Whatever was granted at the old rate is forgotten: the new limit applies from now.
    this.tat = 0;
  }

  /** Bytes granted together after a wait: half the burst (Infinity when unlimited). */
  get batch(): number {
    return this.rate > 0 ? (this.burstMs * this.rate * BATCH_FRACTION) / 1000 : Infinity;
  }

  /** Bytes that may be granted now without waiting (Infinity when unlimited). */
  available(now: number): number {
    if (this.rate <= 0) return Infinity;
    return Math.max(0, ((now + this.burstMs - Math.max(this.tat, now)) * this.rate) / 1000);
  }

  /** Milliseconds until `bytes` can be granted (0: now). */
  waitFor(bytes: number, now: number): number {
    if (this.rate <= 0) return 0;
    return Math.max(0, Math.max(this.tat, now) + (bytes * 1000) / this.rate - this.burstMs - now);
  }

  /** Takes `bytes` (callers check available()/waitFor() first; a grant beyond them is debt). */
  take(bytes: number, now: number): void {
    if (this.rate <= 0) return;
    this.tat = Math.max(this.tat, now) + (bytes * 1000) / this.rate;
  }
}

/** The buckets one direction of a torrent's traffic passes: its own, then the session's. */
export class RateGate {
  private readonly buckets: RateBucket[];

  constructor(...buckets: (RateBucket | undefined)[]) {
    this.buckets = buckets.filter((b): b is RateBucket => !!b);
  }

  /** Any limit set? The fast path checks only this. */
  get limited(): boolean {
    for (const b of this.buckets) if (b.limit > 0) return true;
    return false;
  }

  available(now: number): number {
    let a = Infinity;
    for (const b of this.buckets) a = Math.min(a, b.available(now));
    return a;
  }

  waitFor(bytes: number, now: number): number {
    let w = 0;
    for (const b of this.buckets) w = Math.max(w, b.waitFor(bytes, now));
    return w;
  }

  take(bytes: number, now: number): void {
    for (const b of this.buckets) b.take(bytes, now);
  }

  /** Bytes to wait for once dry: the smallest batch of the buckets, and at least `atLeast` (one
   *  block: the burst always holds two). */
  batch(atLeast: number): number {
    let n = Infinity;
    for (const b of this.buckets) n = Math.min(n, b.batch);
    return Math.max(atLeast, n === Infinity ? atLeast : Math.floor(n));
  }

  /** The limits in force, as one value that changes when any of them does. */
  limitsKey(): string {
    return this.buckets.map((b) => b.limit).join('/');
  }
}

/** A download and an upload bucket, as a session or a torrent holds them. */
export class RateLimitPair {
  readonly download = new RateBucket();
  readonly upload = new RateBucket();

  set(limits: Partial<RateLimits>): void {
    const download = limits.download === undefined ? undefined : checkRate('download', limits.download);
    const upload = limits.upload === undefined ? undefined : checkRate('upload', limits.upload);
    if (download !== undefined) this.download.setRate(download);
    if (upload !== undefined) this.upload.setRate(upload);
  }

  get(): RateLimits {
    return { download: this.download.limit, upload: this.upload.limit };
  }
}

/**
 * One torrent's limits: its own buckets, combined with the session's (the tighter wins), and the
 * timer that wakes request-making when the download bucket ran dry.
 */
export class TorrentThrottle {
  readonly own = new RateLimitPair();
  readonly down: RateGate;
  readonly up: RateGate;
  private wake: ReturnType<typeof setTimeout> | undefined;
  private readonly onWake: () => void;
  /** The download limits the last trimRequests saw: only a change trims anything. */
  private trimmedFor = '0/0';

  constructor(session: RateLimitPair | undefined, onWake: () => void) {
    this.down = new RateGate(this.own.download, session?.download);
    this.up = new RateGate(this.own.upload, session?.upload);
    this.onWake = onWake;
  }

  /** How many blocks of `blockSize` may be requested now, at most `room`: none until a batch of
   *  them (or `room`, if fewer) is allowed, and then the wake timer calls back once it is. Only
   *  called when `down.limited`. */
  requestBudget(room: number, blockSize: number): number {
    const now = clock.now();
    const may = Math.min(room, Math.floor(this.down.available(now) / blockSize));
    const batch = Math.max(1, Math.min(room, Math.floor(this.down.batch(blockSize) / blockSize)));
    const n = may >= batch ? may : 0;
    if (n === 0 && !this.wake) {
      this.wake = setTimeout(() => {
        this.wake = undefined;
        this.onWake();
      }, Math.max(1, Math.ceil(this.down.waitFor(batch * blockSize, now))));
      (this.wake as { unref?: () => void }).unref?.();
    }
    return n;
  }

  /**
   * A download limit set (or lowered) while requests are out: a pipeline of hundreds of blocks
   * would arrive at the old speed and break the new limit for seconds. Requests beyond what the
   * buckets allow now are cancelled (`cancel` sends CANCEL and gives the block back to the picker);
   * those kept are booked.
   */
  trimRequests<P extends { requests: Map<number, { index: number; begin: number; length: number }> }>(
    peers: Iterable<P>,
    cancel: (peer: P, index: number, begin: number, length: number) => void,
  ): void {
    const key = this.down.limitsKey();
    if (key === this.trimmedFor) return; // the same limits again: the requests out are booked already
    this.trimmedFor = key;
    if (!this.down.limited) return;
    const now = clock.now();
    let budget = this.down.available(now);
    let kept = 0;
    for (const p of peers) {
      for (const r of [...p.requests.values()]) {
        if (budget >= r.length) (budget -= r.length), (kept += r.length);
        else cancel(p, r.index, r.begin, r.length);
      }
    }
    this.down.take(kept, now);
  }

  /** Bytes just requested. */
  requested(bytes: number): void {
    this.down.take(bytes, clock.now());
  }

  stop(): void {
    clearTimeout(this.wake);
    this.wake = undefined;
  }
}

function checkRate(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`${name} limit must be a number of bytes per second >= 0 (0 = none), not ${String(v)}`);
  }
  return Math.floor(v);
}

/** Waits `ms` (a timer that does not keep the process alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    (t as { unref?: () => void }).unref?.();
  });
}
