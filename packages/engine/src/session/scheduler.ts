// One clock for a whole session (Node and browser alike). Torrents used to run a one-second timer
// each, peers or not: 10,000 seeded torrents with nobody connected cost a third of a core doing
// nothing. Here a single timer ticks only the torrents that have something to do (peers connected
// or being dialled, a download, rates still decaying to 0, …). A torrent that has nothing left
// leaves the set at the end of its tick and costs nothing until an event (an incoming peer, peers
// from a tracker, resume(), announce(), …) wakes it. A torrent that waits only for a known moment
// (a candidate's back-off) sleeps until then instead of ticking. With nothing awake the timer and
// the speed meters' coarse clock stop.
//
// Also session-wide: DHT announces go round the torrents one at a time, every
// DHT_INTERVAL_MS / (number of torrents) (libtorrent's dht_announce_interval rule), and tracker
// announces take turns through an AnnouncePacer: neither bursts after a start with many torrents.

import { AnnouncePacer, type AnnouncePacerOptions } from '../discovery/announce-pacer.ts';
import { startCoarseClock } from '../swarm/speed.ts';
import { ChangeLog } from '../events/change-log.ts';
import { clock } from '../clock.ts';

export const TICK_MS = 1000;
/** Each torrent's DHT announce comes round this often (as the per-torrent 300 ticks did). */
export const DHT_INTERVAL_MS = 300_000;
/** Closest two DHT announces (of different torrents) may follow each other. */
const DHT_MIN_STEP_MS = 20;
/** Pace of the first announces of torrents just started (libtorrent's prioritize_dht): 10,000
 *  seeds reach the DHT within about 8 minutes, one at a time. */
const DHT_FIRST_STEP_MS = 50;

export interface Scheduled {
  /** One period of work. true: tick again in a second; a number: sleep until that time (ms since
   *  the epoch) unless woken earlier; false: idle until woken. */
  tick(now: number): boolean | number;
}

export interface DhtAnnouncer {
  dhtRound(): void;
}

export class Scheduler {
  private readonly active = new Set<Scheduled>();
  private readonly sleepers = new Map<Scheduled, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private releaseClock: (() => void) | undefined;
  private readonly dhtRing = new Set<DhtAnnouncer>();
  /** Torrents owed their first DHT announce, in the order they started. */
  private dhtFirst: DhtAnnouncer[] = [];
  private dhtTimer: ReturnType<typeof setTimeout> | undefined;
  private dhtAt = 0;
  readonly announces: AnnouncePacer;
  /** Torrents whose revision moved, for the session's clients (events/change-log.ts). */
  readonly changes = new ChangeLog();

  constructor(opts: { announces?: AnnouncePacerOptions } = {}) {
    this.announces = new AnnouncePacer(opts.announces);
  }

  /** Torrents ticked each second now. */
  get activeCount(): number {
    return this.active.size;
  }

  /** Torrents waiting for a known moment. */
  get sleepingCount(): number {
    return this.sleepers.size;
  }

  /** Something happened to `t`: tick it from the next second on. */
  wake(t: Scheduled): void {
    this.sleepers.delete(t);
    if (this.active.has(t)) return;
    this.active.add(t);
    this.releaseClock ??= startCoarseClock();
    this.arm(clock.now() + TICK_MS);
  }

  /** `t` stopped (paused, closed): no more ticks nor DHT turns. */
  remove(t: Scheduled & Partial<DhtAnnouncer>): void {
    this.active.delete(t);
    this.sleepers.delete(t);
    if (t.dhtRound) this.dhtRing.delete(t as DhtAnnouncer);
    if (this.active.size === 0) this.idle();
  }

  /** `t` announces to the DHT when its turn comes round; `first`: soon too, in line with other
   *  torrents just started (false when it looked up the DHT itself already). */
  joinDht(t: DhtAnnouncer, first: boolean): void {
    if (this.dhtRing.has(t)) return;
    this.dhtRing.add(t);
    if (first) this.dhtFirst.push(t);
    const due = clock.now() + this.dhtStep();
    if (!this.dhtTimer || this.dhtAt > due) this.armDht();
  }

  leaveDht(t: DhtAnnouncer): void {
    this.dhtRing.delete(t);
  }

  private dhtStep(): number {
    if (this.dhtFirst.length > 0) return DHT_FIRST_STEP_MS;
    return Math.max(DHT_MIN_STEP_MS, DHT_INTERVAL_MS / this.dhtRing.size);
  }

  close(): void {
    clearTimeout(this.timer);
    clearTimeout(this.dhtTimer);
    this.timer = this.dhtTimer = undefined;
    this.active.clear();
    this.sleepers.clear();
    this.dhtRing.clear();
    this.dhtFirst = [];
    this.idle();
  }

  private arm(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - clock.now()));
    (this.timer as { unref?: () => void }).unref?.();
  }

  private run(): void {
    this.timer = undefined;
    const now = clock.now();
    for (const [t, at] of this.sleepers) {
      if (at > now) continue;
      this.sleepers.delete(t);
      this.active.add(t);
    }
    // A snapshot: a tick may wake other torrents (they tick from the next round on).
    for (const t of [...this.active]) {
      let next: boolean | number;
      try {
        next = t.tick(now);
      } catch {
        next = true; // a torrent's bug must not stop every other torrent's clock
      }
      if (next === true) continue;
      this.active.delete(t);
      if (typeof next === 'number') this.sleepers.set(t, next);
    }
    if (this.active.size > 0) {
      this.releaseClock ??= startCoarseClock();
      return this.arm(now + TICK_MS);
    }
    this.idle();
    if (this.sleepers.size === 0) return;
    let first = Infinity;
    for (const at of this.sleepers.values()) first = Math.min(first, at);
    this.arm(Math.max(first, now + TICK_MS));
  }

  /** Nothing awake: the meters' coarse clock (ten wake-ups a second) stops too. */
  private idle(): void {
    this.releaseClock?.();
    this.releaseClock = undefined;
  }

  private armDht(): void {
    clearTimeout(this.dhtTimer);
    this.dhtTimer = undefined;
    if (this.dhtRing.size === 0) return void (this.dhtFirst = []);
    const step = this.dhtStep();
    this.dhtAt = clock.now() + step;
    this.dhtTimer = setTimeout(() => {
      this.dhtTimer = undefined;
      // A torrent owed its first announce goes first; otherwise the first in the ring, which then
      // moves to the back.
      let next: DhtAnnouncer | undefined;
      while (!next && this.dhtFirst.length > 0) {
        const t = this.dhtFirst.shift()!;
        if (this.dhtRing.has(t)) next = t;
      }
      next ??= this.dhtRing.values().next().value;
      if (next) {
        this.dhtRing.delete(next);
        this.dhtRing.add(next);
        try {
          next.dhtRound();
        } catch {
          // one torrent's failure is its own
        }
      }
      this.armDht();
    }, step);
    (this.dhtTimer as { unref?: () => void }).unref?.();
  }
}
