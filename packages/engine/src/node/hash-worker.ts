// Worker side of the hasher: SHA-1 off the event loop, buffers moved, not copied.
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: { id: number; data: Uint8Array }) => {
  const digest = createHash('sha1').update(msg.data).digest();
  const out = new Uint8Array(digest.buffer, digest.byteOffset, 20).slice();
  parentPort!.postMessage({ id: msg.id, digest: out, data: msg.data }, [out.buffer, msg.data.buffer as ArrayBuffer]);
});
