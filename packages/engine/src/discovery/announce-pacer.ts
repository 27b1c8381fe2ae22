// Session-wide pacing of tracker announces. A session that starts (or restarts) with 10,000
// torrents would otherwise send 10,000 `started` announces in the same second: trackers rate-limit
// or ban such bursts, and the node spends that second on nothing else. Like libtorrent's
// max_concurrent_http_announces (and Transmission's announces-per-upkeep), announces here wait for a
// turn: at most `perSecond` begin each second and at most `concurrent` are in flight. Torrents that
// want data (and `completed` events) go ahead of seeds; a user's explicit announce() skips the line.
// Once spread, re-announces stay spread: each follows its own reply by the tracker's interval.
//
// Seeds go slower still: their first announces are spread over a usual interval (1800 s), at
// max(2, paced / 1800) per second where `paced` counts the announce sources joined (tiers of
// network trackers and WebSocket URLs; in-process announces to the node's own tracker are not
// paced) — the rate their re-announces keep anyway, so a start costs no more than the steady state.
// 10,000 seeds with one WebSocket tier: 5.6/s, the lot in 30 minutes, instead of 40/s that keep a
// core busy for four. Torrents that want data take the full `perSecond` rate, first.

import { AnnounceTimers } from './announce-timers.ts';

export interface AnnouncePacerOptions {
  /** Announces begun per second at most (a burst of this many may go at once). Default 40. */
  perSecond?: number;
  /** Announces in flight at most. Default 50. */
  concurrent?: number;
  /** The clock tokens refill by (ms). Default Date.now; a test holds it still while it queues, so
   *  that a stall of the machine between two lines of the test cannot hand out a turn early. */
  now?: () => number;
}

/** The interval seeds' first announces are spread over (a usual tracker interval). */
const SPREAD_INTERVAL_S = 1800;
/** Seeds' announces per second however few the sources (a small library starts within seconds). */
const MIN_SEED_RATE = 2;

type TurnCallback = (release: () => void) => void;

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
  signals: (AbortSignal | undefined)[];
  onAbort: (this: AbortSignal) => void;
}

export class AnnouncePacer {
  /** When each waiting tier or WebSocket URL announces next: one heap and one Node timer. */
  readonly timers = new AnnounceTimers();
  private readonly perSecond: number;
  private readonly concurrent: number;
  private tokens: number;
  /** The seeds' bucket (see the header): what a normal-priority turn also needs. */
  private seedTokens = 1;
  private readonly now: () => number;
  private refilledAt: number;
  /** Announce sources (tiers, WebSocket URLs) of running torrents: sets the seeds' rate. */
  private sources = 0;
  private inFlight = 0;
  /** [high priority, normal]: waiters of turn(), or whenTurn()'s callbacks. */
  private readonly queues: [(Waiter | TurnCallback)[], (Waiter | TurnCallback)[]] = [[], []];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: AnnouncePacerOptions = {}) {
    this.perSecond = positive(opts.perSecond) ?? 40;
    this.concurrent = Math.ceil(positive(opts.concurrent) ?? 50);
    this.tokens = Math.max(1, this.perSecond);
    this.now = opts.now ?? Date.now;
    this.refilledAt = this.now();
  }

  /** A torrent's client started (n > 0) or stopped (n < 0) `n` paced announce sources. */
  join(n: number): void {
    this.sources = Math.max(0, this.sources + n);
  }

  /** Seeds' first announces begun per second at most, now. */
  get seedRate(): number {
    return Math.min(this.perSecond, Math.max(MIN_SEED_RATE, this.sources / SPREAD_INTERVAL_S));
  }

  /** Announces waiting for a turn (diagnostics, tests). */
  get waiting(): number {
    return this.queues[0].length + this.queues[1].length;
  }

  /** Resolves when an announce may go, with the release to call once it ended (answered or failed).
   *  Rejects with a signal's reason if one aborts first (it leaves the line then). */
  turn(high: boolean, ...signals: (AbortSignal | undefined)[]): Promise<() => void> {
    const aborted = signals.find((s) => s?.aborted);
    if (aborted) return Promise.reject(aborted.reason);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        resolve, reject, signals,
        onAbort(this: AbortSignal) {
          for (const q of pacer.queues) {
            const i = q.indexOf(w);
            if (i >= 0) q.splice(i, 1);
          }
          for (const s of signals) s?.removeEventListener('abort', w.onAbort);
          reject(this.reason);
        },
      };
      const pacer = this;
      for (const s of signals) s?.addEventListener('abort', w.onAbort, { once: true });
      this.queues[high ? 0 : 1].push(w);
      this.pump();
    });
  }

  /**
   * Calls `go` with the release when an announce may go. Unlike turn(), the line holds nothing but
   * `go`: at a start 10,000 seeds wait up to half an hour for their turns, and a suspended async call
   * with its promise, waiter and closures cost some 700 bytes each (7 MB) where this costs ~100.
   */
  whenTurn(high: boolean, go: TurnCallback): void {
    this.queues[high ? 0 : 1].push(go);
    this.pump();
  }

  private pump(): void {
    this.refill();
    while (this.tokens >= 1 && this.inFlight < this.concurrent) {
      const high = this.queues[0].length > 0;
      if (!high && this.seedTokens < 1) break;
      const w = this.queues[0].shift() ?? this.queues[1].shift();
      if (!w) break;
      if (typeof w !== 'function') for (const s of w.signals) s?.removeEventListener('abort', w.onAbort);
      this.tokens--;
      if (!high) this.seedTokens--;
      this.inFlight++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.pump();
      };
      if (typeof w === 'function') w(release);
      else w.resolve(release);
    }
    // Waiting on tokens (not on announces in flight, whose release pumps): come back when one is due.
    const seedsOnly = this.queues[0].length === 0;
    const short = this.tokens < 1 || (seedsOnly && this.seedTokens < 1);
    if (this.waiting > 0 && short && this.inFlight < this.concurrent && !this.timer) {
      const ms = Math.max(
        this.tokens < 1 ? (1 - this.tokens) * (1000 / this.perSecond) : 0,
        seedsOnly && this.seedTokens < 1 ? (1 - this.seedTokens) * (1000 / this.seedRate) : 0,
      );
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, Math.ceil(ms));
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  private refill(): void {
    const now = this.now();
    // A burst of a second's worth (at least one, so a rate below 1/s still lets one go).
    this.tokens = Math.min(Math.max(1, this.perSecond), this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    // Seeds: no burst beyond a couple of turns, so a restart's wave is spread from its first second.
    this.seedTokens = Math.min(MIN_SEED_RATE, this.seedTokens + ((now - this.refilledAt) * this.seedRate) / 1000);
    this.refilledAt = now;
  }
}

/** A usable rate or count: a finite number > 0 (anything else means the default). */
function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
