// When each tracker tier (and WebSocket tracker URL) of each torrent announces next: one min-heap of
// due times per session and one Node timer, armed for the earliest (issue 64). 10,000 idle seeds
// each wait half an hour (a day, on the node's own WebSocket tracker) for their next announce; a
// Node timer each (two a torrent: its HTTP/UDP tier and its WebSocket URL), with its closure and
// the heap numbers it keeps, cost some 300 bytes a timer: 6 MB at 10,000 torrents. Here a waiting
// tier is an entry: two numbers on an object it already is.
//
// An earlier heap (3ceaccd, reverted in d53d63b) was measured at 1.1% of a core idle against 0.25%;
// its cause was not found. Two things here keep an idle node from waking for nothing: a timer that
// fires a little early (Node's timers start from the loop's cached time, this clock does not) runs
// what is due within EARLY_MS instead of re-arming for a millisecond, and cancelling the earliest
// entry leaves the armed timer alone (it finds nothing due and re-arms once).

import { clock } from '../clock.ts';

/** Something that announces when its time comes: a TrackerClient tier, a WebSocket tracker URL. */
export interface TimedAnnounce {
  /** When it is due (AnnounceTimers' clock, ms); Infinity while not waiting. Set by AnnounceTimers
   *  only: a change made outside would break the heap's order. */
  dueAt: number;
  /** Its place in the heap; -1 when not waiting. */
  heapAt: number;
  /** Called once when the time comes (never from inside at() or cancel()). */
  due(): void;
}

/** setTimeout takes 32-bit delays; a longer wait is re-armed on the way. */
const MAX_DELAY_MS = 0x7fff_ffff;
/** heapAt of an entry taken out of the heap to be called in this round. */
const DUE_NOW = -2;
/** Entries due this soon run with those due now (a timer fires up to a few ms early on this clock). */
const EARLY_MS = 5;

export class AnnounceTimers {
  private readonly heap: TimedAnnounce[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The due time the timer is armed for (Infinity: none). */
  private armedFor = Infinity;
  private readonly now: () => number;

  /** `now` defaults to the engine's clock, read at each call (tests replace clock.now). */
  constructor(now: () => number = () => clock.now()) {
    this.now = now;
  }

  /** Entries waiting (diagnostics, tests). */
  get size(): number {
    return this.heap.length;
  }

  /** (Re)schedules `e` to be due in `delayMs`; returns its due time. */
  at(e: TimedAnnounce, delayMs: number): number {
    if (e.heapAt >= 0) this.remove(e);
    e.dueAt = this.now() + Math.max(0, delayMs);
    e.heapAt = this.heap.length;
    this.heap.push(e);
    this.up(e.heapAt);
    this.arm();
    return e.dueAt;
  }

  /** Takes `e` out: it will not be called (also when it was due in the round being run). */
  cancel(e: TimedAnnounce): void {
    if (e.heapAt >= 0) this.remove(e);
    e.heapAt = -1;
    e.dueAt = Infinity;
  }

  /** Cancels every entry and the timer (a session closing). */
  clear(): void {
    for (const e of this.heap) {
      e.heapAt = -1;
      e.dueAt = Infinity;
    }
    this.heap.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(): void {
    const first = this.heap[0];
    if (!first || first.dueAt >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = first.dueAt;
    this.timer = setTimeout(() => this.run(), Math.min(MAX_DELAY_MS, Math.max(0, first.dueAt - this.now())));
    // The torrents, not their next announces, decide how long the process lives.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now() + EARLY_MS;
    // Taken out first, then called: an entry that schedules itself again at once waits for the
    // next round instead of running in this one forever.
    const due: TimedAnnounce[] = [];
    for (let first = this.heap[0]; first && first.dueAt <= now; first = this.heap[0]) {
      this.remove(first);
      first.heapAt = DUE_NOW;
      due.push(first);
    }
    for (const e of due) {
      // Cancelled or scheduled again by an earlier one's call (a client stopping): not due now.
      if (e.heapAt !== DUE_NOW) continue;
      e.heapAt = -1;
      e.dueAt = Infinity;
      try {
        e.due();
      } catch {
        // one announce's failure is not the others'
      }
    }
    this.arm();
  }

  private remove(e: TimedAnnounce): void {
    const i = e.heapAt;
    const last = this.heap.pop()!;
    e.heapAt = -1;
    if (last === e) return;
    this.heap[i] = last;
    last.heapAt = i;
    this.down(i);
    this.up(last.heapAt);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.dueAt <= e.dueAt) break;
      h[i] = h[p]!;
      h[i]!.heapAt = i;
      i = p;
    }
    h[i] = e;
    e.heapAt = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && h[c + 1]!.dueAt < h[c]!.dueAt) c++;
      if (h[c]!.dueAt >= e.dueAt) break;
      h[i] = h[c]!;
      h[i]!.heapAt = i;
      i = c;
    }
    h[i] = e;
    e.heapAt = i;
  }
}

/** For clients made without a session's pacer (tests, tools). */
export const sharedAnnounceTimers = new AnnounceTimers();
