// SHA-1 in worker threads so verifying pieces never stalls the sockets. A buffer that owns its
// whole ArrayBuffer is transferred (zero-copy); anything else is copied first.
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import type { Hasher } from '../platform.ts';

type Pending = { resolve: (r: { digest: Uint8Array; data: Uint8Array }) => void; reject: (e: Error) => void };

export function createWorkerHasher(size = Math.max(1, Math.min(2, os.availableParallelism() - 1))): Hasher {
  const workers: Worker[] = [];
  const load: number[] = [];
  const pending = new Map<number, Pending & { worker: number }>();
  let nextId = 0;
  for (let i = 0; i < size; i++) {
    const w = new Worker(new URL('./hash-worker.ts', import.meta.url));
    w.unref();
    w.on('message', (m: { id: number; digest: Uint8Array; data: Uint8Array }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (--load[p.worker]! === 0) workers[p.worker]!.unref();
      p.resolve({ digest: m.digest, data: m.data });
    });
    w.on('error', (err) => {
      for (const [id, p] of pending) if (p.worker === i) {
        pending.delete(id);
        p.reject(err);
      }
    });
    workers.push(w);
    load.push(0);
  }
  return {
    sha1(data) {
      let owned = data;
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || !(data.buffer instanceof ArrayBuffer)) {
        owned = data.slice();
      }
      let w = 0;
      for (let i = 1; i < workers.length; i++) if (load[i]! < load[w]!) w = i;
      const id = nextId++;
      if (load[w]!++ === 0) workers[w]!.ref();
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: w });
        workers[w]!.postMessage({ id, data: owned }, [owned.buffer as ArrayBuffer]);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
