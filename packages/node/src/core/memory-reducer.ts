// Gives back the garbage of a burst (10,000 torrents added or loaded at a start, a script polling
// the whole list) once the node is quiet again. V8 collects its old generation only when that
// reaches a limit it grows as the heap grows, so a burst's garbage can sit there indefinitely:
// measured at 10,000 torrents, 100 MB of 244 MB used was garbage 8 s after the last add (RSS 396 MB,
// 323 MB after one full collection).
// V8 has a memory reducer of its own, which the launcher turns off (--no-memory-reducer): it starts
// 8 s after any full collection and then runs two more, 8 s apart, each some 0.35 s of CPU with a
// 140 MB heap — at 10,000 idle torrents that was 3.5% of a core for the 20 s after a burst, for
// nothing this one had not already given back. Nor would it help a busy node: it waits for a low
// allocation rate, and a polled node never has one (1 Dec, 30 minutes of the soak's churn with it on:
// it ran once, in the warm-up, and said "high alloc" 251 times).
// Nothing runs while the node is idle: the one timer is armed by activity and fires once.
// A node that is never quiet (a web UI or an *arr polling every few seconds, the usual case for a
// node that runs for weeks) keeps pages V8 committed and no longer uses: measured in the 1-hour
// cluster soak of 30 Nov (1,000 torrents a member, pollers on every member), V8's committed heap rose
// 101 → 114 MB and RSS 313 → 330 MB in 47 minutes while the live heap rose 69 → 76 MB. Only a
// memory-reducing collection gives them back. Run on the main thread ('last-resort', as the quiet path
// does) it stops the event loop for its whole length — 329 ms on a member with an 80 MB heap (2-hour
// cluster soak of 1 Dec, 07:06:47), past the 50 ms a busy node's loop may wait. So a busy node gets
// V8's own collections made memory-reducing instead: for the next two full collections V8 runs
// anyway (every 5-30 s on a polled node), --optimize-for-size is on, which makes V8 start them
// with its reduce-memory flag; they mark incrementally and concurrently as usual, and pause the loop
// only to finish (5-50 ms measured), and the flag goes off again. At most every busyIntervalMs, and
// only when the heap V8 keeps has grown since the last by 2 MB (8 MB while each round stalled the loop;
// at 2 MB a polled member gets one about every 10 minutes, so its RSS floor is read that often).
// The RSS just after each collection is kept (lastCollection): /metrics shows it as the floor the
// process comes back to, which is what a run of weeks is judged by.
import v8 from 'node:v8';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { v8Collector as collector, youngBufferCollector } from '@cascade/engine/young-buffers';

/** Young collections for short-lived off-heap Buffers (a private share's decrypted chunks): the
 *  engine's, which its WebRTC connections use too. */
export { youngBufferCollector };

export interface MemoryReducerOptions {
  /** How long the node must be quiet (no activity()) before collecting. */
  quietMs?: number;
  /** Heap growth since the last collection that makes one worth its pause (one full collection
   *  of a 250 MB heap takes 100–300 ms). */
  growthBytes?: number;
  /** A node that stays busy is looked at this often (and collected if its heap grew). */
  busyIntervalMs?: number;
  /** Growth of the committed or used heap since the last collection that makes a busy node's
   *  memory-reducing collections worth their CPU. */
  busyGrowthBytes?: number;
}

/** The process just after the reducer's latest collection: its resident memory then is the floor
 *  its RSS comes back to, the figure a long run's growth is read from (cascade_rss_after_collection_bytes). */
export interface AfterCollection {
  /** ms since the epoch. */
  at: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
}

/** The full collections V8 runs memory-reducing once a busy node asks: the first may have started
 *  marking before the flag was set (V8 picks a collection's flags when its marking starts). */
const REDUCING_COLLECTIONS = 2;
/** A node that runs no full collection in this long allocates too little to need one. */
const REDUCING_TIMEOUT_MS = 120_000;
/** Started with it (a user's choice): every collection already reduces memory, so it stays on. */
const SIZE_FLAG_FROM_USER = process.execArgv.includes('--optimize-for-size');

export class MemoryReducer {
  readonly #quietMs: number;
  readonly #growth: number;
  readonly #busyMs: number;
  readonly #busyGrowth: number;
  #baseline = v8.getHeapStatistics().used_heap_size;
  #committedBaseline = v8.getHeapStatistics().total_heap_size;
  #lastActivity = 0;
  /** When a busy node was last looked at (or collected). */
  #lastBusyLook = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** While V8's collections are made memory-reducing for a busy node. */
  #reducing: { observer: PerformanceObserver; timer: NodeJS.Timeout } | undefined;
  /** Collections run (tests and diagnostics). */
  collections = 0;
  /** Of those, the ones run while the node was busy. */
  busyCollections = 0;
  /** Undefined before the first collection. */
  lastCollection: AfterCollection | undefined;

  constructor(opts: MemoryReducerOptions = {}) {
    this.#quietMs = opts.quietMs ?? 2000;
    this.#growth = opts.growthBytes ?? 32 * 1024 * 1024;
    this.#busyMs = opts.busyIntervalMs ?? 10 * 60_000;
    this.#busyGrowth = opts.busyGrowthBytes ?? 2 * 1024 * 1024;
  }

  /** Something that allocates happened (a torrent added or loaded): look again once it is quiet. */
  activity(): void {
    this.#lastActivity = performance.now();
    if (this.#timer || this.#closed) return;
    this.#arm(this.#quietMs);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    const quietFor = performance.now() - this.#lastActivity;
    // Re-armed for the rest of the quiet period rather than reset on every add (10,000 adds would
    // otherwise make and clear 10,000 timers).
    if (quietFor < this.#quietMs) {
      this.#lookWhileBusy();
      return this.#arm(this.#quietMs - quietFor);
    }
    const used = v8.getHeapStatistics().used_heap_size;
    if (used - this.#baseline < this.#growth) return;
    this.#collect();
  }

  /** At most every busyIntervalMs: if the heap V8 keeps (used or committed) grew by busyGrowthBytes
   *  since the last collection, make V8's next full collections memory-reducing. At 1,000 torrents
   *  one such collection costs ~0.2 s of CPU, so at most 0.03% of a core. */
  #lookWhileBusy(): void {
    const now = performance.now();
    if (now - this.#lastBusyLook < this.#busyMs || this.#reducing || SIZE_FLAG_FROM_USER) return;
    this.#lastBusyLook = now;
    const h = v8.getHeapStatistics();
    if (h.used_heap_size - this.#baseline < this.#busyGrowth && h.total_heap_size - this.#committedBaseline < this.#busyGrowth) return;
    let majors = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (((entry as { detail?: { kind?: number } }).detail)?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
        if (++majors === REDUCING_COLLECTIONS) return this.#endReducing(true);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const timer = setTimeout(() => this.#endReducing(false), REDUCING_TIMEOUT_MS);
    timer.unref();
    this.#reducing = { observer, timer };
    v8.setFlagsFromString('--optimize-for-size');
  }

  /** Whether V8's collections are being made memory-reducing for a busy node (tests). */
  get reducingWhileBusy(): boolean {
    return this.#reducing !== undefined;
  }

  #endReducing(collected: boolean): void {
    const reducing = this.#reducing;
    if (!reducing) return;
    this.#reducing = undefined;
    // Off again at once: the flag also makes V8 keep its young generation small and its heap limit
    // tight, which would cost a busy node CPU in more frequent collections.
    v8.setFlagsFromString('--no-optimize-for-size');
    reducing.observer.disconnect();
    clearTimeout(reducing.timer);
    this.#lastBusyLook = performance.now();
    if (!collected) return;
    this.collections++;
    this.busyCollections++;
    this.#recordCollection();
  }

  #collect(): void {
    const gc = collector();
    if (!gc) return;
    this.#endReducing(false);
    // 'last-resort' (two full collections, 2 × 0.2 s at 10,000 torrents) gives pages back to the OS
    // that a regular one keeps: RSS 303 MB 5 s after 10,000 adds, 378 MB with a regular one.
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.collections++;
    this.#recordCollection();
  }

  #recordCollection(): void {
    const h = v8.getHeapStatistics();
    this.lastCollection = { at: Date.now(), rssBytes: process.memoryUsage.rss(), heapUsedBytes: h.used_heap_size, heapTotalBytes: h.total_heap_size };
    this.#baseline = h.used_heap_size;
    this.#committedBaseline = h.total_heap_size;
    this.#lastBusyLook = performance.now();
  }

  close(): void {
    this.#closed = true;
    this.#endReducing(false);
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
