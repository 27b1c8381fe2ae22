// SHA-1 and SHA-256 with OpenSSL. Where the worker is on (4+ cores by default: hashWorkerWanted),
// piece buffers in shared memory (the page-aligned slab that direct-io.ts carves them from) are
// hashed whole by one worker thread: the main thread, which reads the sockets and copies blocks
// in, is what limits a download, and SHA-1 was half of its time (0.54 of 1.2 CPU-s per 512 MiB in
// a profile). On 2 cores, with the other peer on the same machine and nothing else running, the
// worker measured slower (1.56 vs 1.49 s wall, 1.83 vs 1.69 CPU-s per 512 MiB, +20 MB RSS); but on
// the same 2 cores shared with other work (the NAT lab's routers, other processes: load 6-15) it
// measured faster (Cascade after its first byte 1.02-1.06x libtorrent against 0.67-0.80x): there
// the main thread is runnable but waiting for a core, and a second thread gets a share of its own.
// 'auto' (CASCADE_HASH_WORKER=auto, opt-in) makes the choice piece by piece (StarvedThread): on the
// worker while this thread's loop is busy but it ran for under 3/4 of the time, here otherwise.
// Only {buffer, offset, length} crosses to the worker (a SharedArrayBuffer is shared, not copied)
// and 20 bytes come back, so the cost that made an earlier worker pool a loss (copying or
// transferring each piece, and the GC of it) is gone. Any other buffer is hashed here, block by
// block as it arrives (incremental).
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { Hasher } from '../platform.ts';

/** Smaller buffers are not worth a round trip to the worker. */
const OFF_THREAD_MIN = 64 * 1024;
/** A worker with nothing to hash this long is ended (its isolate holds ~10 MB); the next piece
 *  starts another (~30 ms). A node that seeds all day keeps no thread for the download it did. */
const IDLE_MS = 30_000;

/** What the worker did, for tests and diagnostics. */
export interface HashWorkerStats {
  /** Workers started (one at a time; another after an idle one ended). */
  started: number;
  /** Hashes the worker answered. */
  answered: number;
  /** Hashes it failed (each was done on the calling thread instead). */
  failed: number;
}

// Plain JavaScript: an eval'd worker starts without resolving or compiling a module graph.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const memories = new Map();
parentPort.on('message', (m) => {
  if (m.memory) return void memories.set(m.slab, m.memory);
  if (m.drop) return void memories.delete(m.drop);
  let digest;
  try {
    const data = new Uint8Array(memories.get(m.slab), m.offset, m.length);
    if (m.alg === 'leaves') {
      // BEP 52: the SHA-256 of each 16 KiB block, side by side.
      const blocks = Math.ceil(m.length / 16384);
      digest = new Uint8Array(blocks * 32);
      for (let b = 0; b < blocks; b++) digest.set(createHash('sha256').update(data.subarray(b * 16384, (b + 1) * 16384)).digest(), b * 32);
    } else digest = createHash(m.alg).update(data).digest();
  } catch (err) {
    return parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
  parentPort.postMessage({ id: m.id, digest });
});
`;

interface Pending {
  resolve(digest: Uint8Array): void;
  reject(err: Error): void;
}

/** One worker thread, started on first use, that hashes buffers in shared memory. */
class SharedHashWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Each shared memory crosses once; hashes then name it by number (a clone per piece cost 0.3 ms). */
  private slabs = new WeakMap<ArrayBufferLike, number>();
  private idle: ReturnType<typeof setTimeout> | undefined;
  private nextSlab = 1;
  /** A slab the torrent let go of is let go of here too: the worker's hold would keep its pages. */
  private readonly dropped = new FinalizationRegistry<number>((slab) => this.worker?.postMessage({ drop: slab }));
  /** Set when the worker died or could not start: everything is hashed on the calling thread. */
  broken = false;
  readonly stats: HashWorkerStats = { started: 0, answered: 0, failed: 0 };
  private readonly idleMs: number;

  constructor(idleMs = IDLE_MS) {
    this.idleMs = idleMs;
  }

  hash(alg: 'sha1' | 'leaves', data: Uint8Array): Promise<Uint8Array> {
    const worker = this.start();
    clearTimeout(this.idle);
    const id = this.nextId++;
    // While a hash is out, the worker keeps the process alive (nothing else may be waiting).
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      let slab = this.slabs.get(data.buffer);
      if (slab === undefined) {
        slab = this.nextSlab++;
        this.slabs.set(data.buffer, slab);
        this.dropped.register(data.buffer, slab);
        worker.postMessage({ slab, memory: data.buffer });
      }
      worker.postMessage({ id, alg, slab, offset: data.byteOffset, length: data.length });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Loaded on first use: node:worker_threads costs ~3 ms of every start, and 2-core machines never
    // start the worker.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'cascade-hash' });
    this.stats.started++;
    worker.unref();
    worker.on('message', (m: { id: number; digest?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) {
        worker.unref();
        this.idle = setTimeout(() => this.retire(worker), this.idleMs);
        this.idle.unref?.();
      }
      if (m.digest) {
        this.stats.answered++;
        p.resolve(m.digest);
      } else {
        this.stats.failed++;
        p.reject(new Error(`hash worker: ${m.error}`));
      }
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return; // retired on purpose, or replaced
      this.broken = true;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  /** Ends an idle worker; the memories it knew are posted again to the next one. */
  private retire(worker: Worker): void {
    if (this.worker !== worker || this.pending.size > 0) return;
    this.worker = undefined;
    this.slabs = new WeakMap();
    void worker.terminate();
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    const w = this.worker;
    this.worker = undefined;
    this.broken = true;
    if (w) await w.terminate();
    // Hashes still out get an answer (the caller hashes them itself).
    for (const p of this.pending.values()) p.reject(new Error('hasher closed'));
    this.pending.clear();
  }
}

function sharesMemory(data: Uint8Array): boolean {
  return data.buffer instanceof SharedArrayBuffer && data.length >= OFF_THREAD_MIN;
}

function leavesHere(data: Uint8Array): Uint8Array {
  const blocks = Math.ceil(data.length / 16384);
  const out = new Uint8Array(blocks * 32);
  for (let b = 0; b < blocks; b++) out.set(createHash('sha256').update(data.subarray(b * 16384, (b + 1) * 16384)).digest(), b * 32);
  return out;
}

/** Whether pieces are hashed on a worker by default: CASCADE_HASH_WORKER=on|off|auto, else on with 4
 *  or more cores and off below. 'auto' (the worker only while this thread is starved of CPU: see the
 *  top of this file) is not the default yet: in its one NAT-lab run at load 6-15 it did not reach
 *  what 'on' measured there (after the first byte 0.79x libtorrent, against 1.02-1.06x for 'on'). */
export function hashWorkerWanted(env: NodeJS.ProcessEnv = process.env): HashWorkerChoice {
  const v = env.CASCADE_HASH_WORKER?.toLowerCase();
  if (v === 'on' || v === '1' || v === 'true') return true;
  if (v === 'off' || v === '0' || v === 'false') return false;
  if (v === 'auto') return 'auto';
  return availableParallelism() >= 4;
}

/** true: every piece in shared memory on the worker; false: none; 'auto': while StarvedThread says so. */
export type HashWorkerChoice = boolean | 'auto';

/** How long each look at the thread covers (ms): a few pieces at full speed, and cheap to take. */
const STARVED_WINDOW_MS = 250;

/**
 * Whether this thread is short of CPU rather than of work: over the last window its event loop was
 * busy (ELU ≥ 0.9) while the thread itself ran for under 3/4 of the wall time, so it was runnable
 * and waiting for a core (the machine is oversubscribed). A thread that runs a whole core's worth,
 * or waits on I/O, is not starved: hashing stays where the block is still in cache.
 */
export class StarvedThread {
  #at = performance.now();
  #elu = performance.eventLoopUtilization();
  #cpu = process.threadCpuUsage();
  #starved = false;
  /** Windows looked at and found starved (tests and diagnostics). */
  readonly stats = { windows: 0, starved: 0 };

  now(): boolean {
    const t = performance.now();
    const wall = t - this.#at;
    if (wall < STARVED_WINDOW_MS) return this.#starved;
    const elu = performance.eventLoopUtilization(this.#elu).utilization;
    const cpu = process.threadCpuUsage(this.#cpu);
    const ran = (cpu.user + cpu.system) / 1000 / wall;
    this.#starved = elu >= 0.9 && ran < 0.75;
    this.stats.windows++;
    if (this.#starved) this.stats.starved++;
    this.#at = t;
    this.#elu = performance.eventLoopUtilization();
    this.#cpu = process.threadCpuUsage();
    return this.#starved;
  }
}

export type NodeHasher = Hasher & { workerStats(): HashWorkerStats | undefined };

export function createNodeHasher(opts: { worker?: HashWorkerChoice; idleMs?: number; starved?: () => boolean } = {}): NodeHasher {
  const worker = opts.worker === false ? undefined : new SharedHashWorker(opts.idleMs);
  const starved = opts.worker === 'auto' ? (opts.starved ?? ((t) => () => t.now())(new StarvedThread())) : () => true;
  const offThread = (data: Uint8Array) => worker !== undefined && !worker.broken && sharesMemory(data) && starved();
  return {
    async sha1(data) {
      if (offThread(data)) {
        try {
          return { digest: await worker!.hash('sha1', data), data };
        } catch {
          // The worker died (it never does for a bad piece: a wrong digest is an answer): hash here.
        }
      }
      return { digest: createHash('sha1').update(data).digest(), data };
    },
    async sha256(data) {
      return createHash('sha256').update(data).digest();
    },
    blockLeaves(data, dataLength) {
      if (!offThread(data) || dataLength > data.length) return undefined;
      // A dead worker answers undefined next time; this one piece is hashed here.
      return worker!.hash('leaves', data.subarray(0, dataLength)).catch(() => leavesHere(data.subarray(0, dataLength)));
    },
    incremental() {
      const h = createHash('sha1');
      return { update: (d: Uint8Array) => void h.update(d), digest: () => h.digest() };
    },
    offThread,
    workerStats: () => (worker ? { ...worker.stats } : undefined),
    async close() {
      await worker?.close();
    },
  };
}
