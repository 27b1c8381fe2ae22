// When each tracker tier (and WebSocket tracker URL) of each torrent announces next: a session-wide
// heap of due times and one Node timer, armed for the earliest. 10,000 idle seeds each wait half an
// hour (a day, for the node's own tracker) for their next announce; a Node timer each, with its
// closure and context, cost some 400 bytes a torrent and kept as many handles in the timer lists.
// Here a waiting tier is its own entry: two numbers on an object it already is.

/** Something that announces when its time comes: a tier of a TrackerClient, a WsTrackerClient URL. */
export interface TimedAnnounce {
  /** When it is due (ms since the epoch); meaningless while heapAt is -1. */
  dueAt: number;
  /** Its place in the heap; -1 when not waiting (-2 while being called due). */
  heapAt: number;
  /** Called once when the time comes (never from inside at() or cancel()). */
  due(): void;
}

/** setTimeout takes 32-bit delays; a longer wait is re-armed on the way. */
const MAX_DELAY_MS = 0x7fff_ffff;
/** heapAt of an entry taken out of the heap to be called in this round. */
const DUE_NOW = -2;

export class AnnounceTimers {
  private readonly heap: TimedAnnounce[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The due time the timer is armed for (Infinity: none). */
  private armedFor = Infinity;

  /** Entries waiting (diagnostics, tests). */
  get size(): number {
    return this.heap.length;
  }

  /** (Re)schedules `e` to be due in `delayMs`. */
  at(e: TimedAnnounce, delayMs: number): void {
    if (e.heapAt >= 0) this.remove(e);
    e.dueAt = Date.now() + Math.max(0, delayMs);
    e.heapAt = this.heap.length;
    this.heap.push(e);
    this.up(e.heapAt);
    this.arm();
  }

  cancel(e: TimedAnnounce): void {
    if (e.heapAt === DUE_NOW) e.heapAt = -1;
    if (e.heapAt < 0) return;
    this.remove(e);
    // The timer may stay armed for an earlier time: it then finds nothing due and re-arms.
  }

  private arm(): void {
    const first = this.heap[0];
    if (!first || first.dueAt >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = first.dueAt;
    this.timer = setTimeout(() => this.run(), Math.min(MAX_DELAY_MS, Math.max(0, first.dueAt - Date.now())));
    // The torrents, not their next announces, decide how long the process lives.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
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
