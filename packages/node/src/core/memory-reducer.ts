// Gives back the garbage of a burst (10,000 torrents added or loaded at a start, a script polling
// the whole list) once the node is quiet again. V8 collects its old generation only when that
// reaches a limit it grows as the heap grows, so a burst's garbage can sit there indefinitely:
// measured at 10,000 torrents, 100 MB of 244 MB used was garbage 8 s after the last add (RSS 396 MB,
// 323 MB after one full collection).
// V8 has a memory reducer of its own, which the launcher turns off (--no-memory-reducer): it starts
// 8 s after any full collection and then runs two more, 8 s apart, each some 0.35 s of CPU with a
// 140 MB heap — at 10,000 idle torrents that was 3.5% of a core for the 20 s after a burst, for
// nothing this one had not already given back.
// Nothing runs while the node is idle: the one timer is armed by activity and fires once.
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFunction = (opts?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

let gcFunction: GcFunction | null | undefined;

/** V8's gc(), reached without --expose-gc on the command line (and without a global `gc`):
 *  setting the flag at run time exposes it in contexts made afterwards. */
function collector(): GcFunction | null {
  if (gcFunction === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const fn = vm.runInNewContext('gc') as unknown;
      gcFunction = typeof fn === 'function' ? (fn as GcFunction) : null;
    } catch {
      gcFunction = null;
    }
  }
  return gcFunction;
}

/**
 * For code that makes short-lived Buffers at transfer speed (a private share's decrypted chunks:
 * node:crypto gives each chunk's plaintext a fresh off-heap Buffer). V8 counts off-heap bytes, and
 * past 64 MB more since the last full collection it starts one; a young Buffer's bytes are only
 * given back by a young-generation collection, which the tiny JS objects in front of them rarely
 * cause. So 256 MiB decrypted meant four full collections of the node's whole heap (measured: a
 * V8 worker busy for 35% of a private download's CPU). Counting the bytes and asking for a young
 * collection every `everyBytes` (a few ms with the young generation a download keeps) returns them
 * before that limit. Returns the counter; a no-op where gc() cannot be had.
 */
export function youngBufferCollector(everyBytes = 16 * 1024 * 1024): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    collector()?.({ type: 'minor', execution: 'sync' });
  };
}

export interface MemoryReducerOptions {
  /** How long the node must be quiet (no activity()) before collecting. */
  quietMs?: number;
  /** Heap growth since the last collection that makes one worth its pause (one full collection
   *  of a 250 MB heap takes 100–300 ms). */
  growthBytes?: number;
}

export class MemoryReducer {
  readonly #quietMs: number;
  readonly #growth: number;
  #baseline = v8.getHeapStatistics().used_heap_size;
  #lastActivity = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Collections run (tests and diagnostics). */
  collections = 0;

  constructor(opts: MemoryReducerOptions = {}) {
    this.#quietMs = opts.quietMs ?? 2000;
    this.#growth = opts.growthBytes ?? 32 * 1024 * 1024;
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
    if (quietFor < this.#quietMs) return this.#arm(this.#quietMs - quietFor);
    const used = v8.getHeapStatistics().used_heap_size;
    if (used - this.#baseline < this.#growth) return;
    const gc = collector();
    if (!gc) return;
    // 'last-resort' (two full collections, 2 × 0.2 s at 10,000 torrents) gives pages back to the OS
    // that a regular one keeps: RSS 303 MB 5 s after 10,000 adds, 378 MB with a regular one.
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.collections++;
    this.#baseline = v8.getHeapStatistics().used_heap_size;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
