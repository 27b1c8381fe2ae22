// The thread a private share's verified pieces are decrypted and written on (PlainWriteWorker, in
// plain-worker-client.ts, starts it). Each piece is read in place from the engine's shared memory,
// every chunk of it authenticated before any of it is written, and the plaintext written as
// PlainFiles writes it. Messages are handled as they come: the next piece decrypts while the last
// one's write is on the disk.
import { parentPort, workerData } from 'node:worker_threads';
import { chunkOpener } from '@cascade/private-shares/plain-writing';
import { youngBufferCollector } from '@cascade/engine/young-buffers';
import { PlainFiles } from './plain-files.ts';
import { writeSealedPiece } from './plain-piece.ts';
import type { FromPlainWorker, PlainWorkerSpec, ToPlainWorker } from './plain-worker-client.ts';

const spec = workerData as PlainWorkerSpec;
const decrypt = chunkOpener(spec.chunkKey, spec.sealed, spec.chunkCount);
const files = new PlainFiles(spec.manifest, spec.savePath, spec.runBytes, spec.runs);
// node:crypto (where the addon is not used) gives each chunk's plaintext a fresh Buffer: young
// collections give them back before V8 counts them against a full one (engine young-buffers.ts).
const reclaim = youngBufferCollector();
const memories = new Map<number, SharedArrayBuffer>();
const port = parentPort!;
/** Writes not answered yet: a close waits for them (the files must stay open under them). */
const writing = new Set<Promise<void>>();

port.on('message', (m: ToPlainWorker) => {
  if ('memory' in m) memories.set(m.slab, m.memory);
  else if ('drop' in m) memories.delete(m.drop);
  else if ('close' in m) void Promise.allSettled([...writing]).then(() => files.close()).finally(() => reply({ id: m.close }));
  else {
    const w = write(m);
    writing.add(w);
    void w.finally(() => writing.delete(w));
  }
});

// Loaded: writes may come here now (until then they are done on the engine's thread).
reply({ ready: true });

function reply(m: FromPlainWorker): void {
  port.postMessage(m);
}

async function write(m: Extract<ToPlainWorker, { id: number }>): Promise<void> {
  const memory = memories.get(m.slab);
  if (!memory) return reply({ id: m.id, error: `no shared memory ${m.slab} here` });
  const data = new Uint8Array(memory, m.offset, m.length);
  let opened: ReturnType<typeof writeSealedPiece>;
  try {
    opened = writeSealedPiece(files, decrypt, m.first, data, spec.sealed, spec.chunk);
  } catch (err) {
    return reply({ id: m.id, error: (err as Error).message, tampered: (err as { code?: string }).code === 'tampered' });
  }
  try {
    if (opened.garbage) reclaim(data.length);
    await opened.written;
    reply({ id: m.id });
  } catch (err) {
    reply({ id: m.id, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
  }
}
