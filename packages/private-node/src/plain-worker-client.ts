// Decrypts and writes a private share's verified pieces on a thread of their own (plain-worker.ts),
// for PlainStorage. On the engine's thread they cost a recipient ~0.2 CPU-s per 256 MiB (AES-GCM
// ~0.13, a decipher and a fresh Buffer per 64 KiB chunk and their collection, the copy into aligned
// memory), and that thread, which reads the sockets and hashes the pieces, is what limits a download.
// Only {slab, offset, length} crosses for a piece in the engine's shared memory (each slab once; a
// piece elsewhere, as on 2 cores where the engine's slabs are not shared, is copied into shared
// memory first: one memcpy), so the engine's thread hands a piece over in well under a millisecond.
// Opt-in (CASCADE_PLAIN_WORKER=on): 256 MiB written here took the engine's thread 0.07-0.09 CPU-s
// instead of 0.17-0.21, but the process 0.39 instead of 0.24-0.28; on 2 shared cores that lost more
// often than it won (README of bench/private).
import type { Worker } from 'node:worker_threads';
import { copyIntoSlab } from '@cascade/engine/direct-io';
import type { ShareManifest } from '@cascade/private-shares';
import { PrivateShareError } from '@cascade/private-shares';

/** What the worker needs to decrypt and write on its own. */
export interface PlainWorkerSpec {
  /** The share's chunk key (chunkKey(key, info)) and chunk count: chunkOpener's arguments. */
  chunkKey: Uint8Array;
  chunkCount: number;
  /** Sealed and plaintext bytes per chunk. */
  sealed: number;
  chunk: number;
  /** PlainFiles' arguments. */
  manifest: ShareManifest;
  savePath: string;
  runBytes: number;
  runs: number;
}

export type ToPlainWorker =
  | { memory: SharedArrayBuffer; slab: number }
  | { drop: number }
  | { close: number }
  | { id: number; first: number; slab: number; offset: number; length: number };

export type FromPlainWorker = { id: number; error?: string; tampered?: boolean; code?: string } | { ready: true };

/** The worker ended or could not start: the write may be done on the calling thread instead. */
export class PlainWorkerLost extends Error {}

/** A worker with nothing to write this long is ended (its isolate holds ~10 MB); the next write
 *  starts another. A node that seeds a share all day keeps no thread for the download it did. */
const IDLE_MS = 30_000;

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

export class PlainWriteWorker {
  readonly #spec: PlainWorkerSpec;
  readonly #idleMs: number;
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Each shared memory crosses once per worker; writes then name it by number. */
  #slabs = new WeakMap<ArrayBufferLike, number>();
  #nextSlab = 1;
  readonly #dropped = new FinalizationRegistry<number>((slab) => this.#worker?.postMessage({ drop: slab } satisfies ToPlainWorker));
  #idle: ReturnType<typeof setTimeout> | undefined;
  /** Shared memory for pieces the engine holds in memory of its own: as many as are out at once. */
  readonly #freeSlots: Uint8Array[] = [];
  /** Workers started, and writes they did, for tests. */
  started = 0;
  written = 0;
  #ready = false;
  /** A worker ended before it was ready: none is started again (the caller's thread does it all). */
  #broken = false;

  constructor(spec: PlainWorkerSpec, idleMs = IDLE_MS) {
    this.#spec = spec;
    this.#idleMs = idleMs;
  }

  /**
   * Whether a worker has loaded and takes writes; if not, starts one. Until it has (~0.1 CPU-s,
   * its imports kept to @cascade/private-shares/plain-writing), a caller writes on its own thread:
   * waiting would stall a download behind the engine's write backlog (32 MiB, an eighth of a second
   * at these rates).
   */
  ready(): boolean {
    if (this.#ready) return true;
    if (this.#broken) return false;
    try {
      this.#start();
    } catch {
      this.#broken = true;
    }
    return false;
  }

  /** Starts a worker and resolves once it takes writes (false: none could start). */
  async warm(): Promise<boolean> {
    while (!this.ready()) {
      if (this.#broken) return false;
      await new Promise<void>((resolve) => this.#worker!.once('message', () => resolve()));
    }
    return true;
  }

  /**
   * Decrypts the sealed chunks first… in `data` (whole chunks) and writes their plaintext. Rejects
   * with the 'tampered' PrivateShareError when one fails authentication (nothing of it written),
   * with PlainWorkerLost when the worker ended first, else with the disk's error.
   */
  write(first: number, data: Uint8Array): Promise<void> {
    let worker: Worker;
    try {
      worker = this.#start();
    } catch (err) {
      return Promise.reject(new PlainWorkerLost(`the decrypting thread did not start: ${(err as Error).message}`));
    }
    clearTimeout(this.#idle);
    const id = this.#nextId++;
    if (this.#pending.size === 0) worker.ref(); // while a write is out, it keeps the process alive
    // Where the engine's pieces are not in shared memory (its slabs are shared only where its hash
    // worker is on), a piece is copied into a slot of ours: one memcpy, ~0.1 ms per MiB.
    const slot = data.buffer instanceof SharedArrayBuffer ? undefined : this.#slot(data.length);
    if (slot) copyIntoSlab(slot, data, 0);
    const shared = slot ? slot.subarray(0, data.length) : data;
    const done = new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      let slab = this.#slabs.get(shared.buffer);
      if (slab === undefined) {
        slab = this.#nextSlab++;
        this.#slabs.set(shared.buffer, slab);
        this.#dropped.register(shared.buffer, slab);
        worker.postMessage({ memory: shared.buffer as SharedArrayBuffer, slab } satisfies ToPlainWorker);
      }
      worker.postMessage({ id, first, slab, offset: shared.byteOffset, length: shared.length } satisfies ToPlainWorker);
    });
    if (!slot) return done;
    // Back to the free slots once the worker has answered (it reads the slot until then).
    return done.finally(() => void this.#freeSlots.push(slot));
  }

  /** A free slot of at least `length` bytes in shared memory. */
  #slot(length: number): Uint8Array {
    let slot = this.#freeSlots.pop();
    while (slot && slot.length < length) slot = this.#freeSlots.pop();
    return slot ?? new Uint8Array(new SharedArrayBuffer(length));
  }

  /** Closes the worker's files and ends it (a later write starts another). */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const worker = this.#worker;
    if (worker) await this.#end(worker);
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    // Loaded on first use: a node that only seeds never starts it.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(new URL('./plain-worker.ts', import.meta.url), { workerData: this.#spec, name: 'cascade-plain' });
    this.started++;
    this.#slabs = new WeakMap();
    this.#ready = false;
    worker.unref();
    worker.on('message', (m: FromPlainWorker) => {
      if ('ready' in m) {
        if (this.#worker === worker) this.#ready = true;
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0 && this.#worker === worker) {
        worker.unref();
        this.#idle = setTimeout(() => void this.#end(worker), this.#idleMs);
        this.#idle.unref?.();
      }
      if (m.error === undefined) {
        this.written++;
        return p.resolve();
      }
      if (m.tampered) return p.reject(new PrivateShareError('tampered', m.error));
      p.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
    });
    const lost = (err: Error) => {
      if (this.#worker !== worker) return;
      if (!this.#ready) this.#broken = true;
      this.#worker = undefined;
      this.#ready = false;
      for (const p of this.#pending.values()) p.reject(new PlainWorkerLost(`the decrypting thread ended: ${err.message}`));
      this.#pending.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  /** Ends a worker once its files are closed (its writes are answered first: messages keep order). */
  async #end(worker: Worker): Promise<void> {
    if (this.#worker === worker) {
      this.#worker = undefined;
      this.#ready = false;
      // A download's worth of slots (up to the engine's 32 MiB write backlog) is not kept for seeding.
      this.#freeSlots.length = 0;
    }
    await new Promise<void>((resolve) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject: () => resolve() });
      worker.ref();
      worker.postMessage({ close: id } satisfies ToPlainWorker);
      worker.once('exit', () => resolve());
    });
    await worker.terminate();
  }
}
