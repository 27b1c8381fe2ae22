// Session-wide pacing of tracker announces. A session that starts (or restarts) with 10,000
// torrents would otherwise send 10,000 `started` announces in the same second: trackers rate-limit
// or ban such bursts, and the node spends that second on nothing else. Like libtorrent's
// max_concurrent_http_announces (and Transmission's announces-per-upkeep), announces here wait for a
// turn: at most `perSecond` begin each second and at most `concurrent` are in flight. Torrents that
// want data (and `completed` events) go ahead of seeds; a user's explicit announce() skips the line.
// Once spread, re-announces stay spread: each follows its own reply by the tracker's interval.

export interface AnnouncePacerOptions {
  /** Announces begun per second at most (a burst of this many may go at once). Default 40. */
  perSecond?: number;
  /** Announces in flight at most. Default 50. */
  concurrent?: number;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
  signals: (AbortSignal | undefined)[];
  onAbort: (this: AbortSignal) => void;
}

export class AnnouncePacer {
  private readonly perSecond: number;
  private readonly concurrent: number;
  private tokens: number;
  private refilledAt = Date.now();
  private inFlight = 0;
  /** [high priority, normal] */
  private readonly queues: [Waiter[], Waiter[]] = [[], []];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: AnnouncePacerOptions = {}) {
    this.perSecond = positive(opts.perSecond) ?? 40;
    this.concurrent = Math.ceil(positive(opts.concurrent) ?? 50);
    this.tokens = Math.max(1, this.perSecond);
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

  private pump(): void {
    this.refill();
    while (this.tokens >= 1 && this.inFlight < this.concurrent) {
      const w = this.queues[0].shift() ?? this.queues[1].shift();
      if (!w) break;
      for (const s of w.signals) s?.removeEventListener('abort', w.onAbort);
      this.tokens--;
      this.inFlight++;
      let released = false;
      w.resolve(() => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.pump();
      });
    }
    // Waiting on tokens (not on announces in flight, whose release pumps): come back when one is due.
    if (this.waiting > 0 && this.tokens < 1 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, Math.ceil((1 - this.tokens) * (1000 / this.perSecond)));
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  private refill(): void {
    const now = Date.now();
    // A burst of a second's worth (at least one, so a rate below 1/s still lets one go).
    this.tokens = Math.min(Math.max(1, this.perSecond), this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
  }
}

/** A usable rate or count: a finite number > 0 (anything else means the default). */
function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
