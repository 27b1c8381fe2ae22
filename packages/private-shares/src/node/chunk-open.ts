// The chunk decryption from the share's chunk key (keys.ts deriveKey(key, salt, 'chunks')): with
// the addon where it is built (chunk-gcm.ts: the plaintext goes straight into the caller's memory),
// else node:crypto. It imports the nonce and the error only, so the worker thread that decrypts a
// recipient's pieces (private-node's src/plain-worker.ts) loads in milliseconds where the package's
// index (envelopes, HPKE, curves) cost it ~0.2 CPU-s.
import { createDecipheriv, createSecretKey } from 'node:crypto';
import { NONCE_BYTES, TAG_BYTES, writeChunkNonce } from '../format/nonce.ts';
import { tampered } from '../format/errors.ts';
import { chunkGcmAddon } from './chunk-gcm.ts';

/** Chunk `index`'s plaintext: in `out` when given (its length is the chunk's plaintext), else in
 *  fresh memory. A 'tampered' error names a chunk that fails authentication (`out` then holds
 *  bytes to drop). */
export type ChunkDecryptor = (index: number, sealed: Uint8Array, out?: Uint8Array) => Uint8Array;

/** Decrypts sealed chunks of `sealedSize` bytes (info `chunk`). Synchronous: WebCrypto's
 *  asynchronous calls (a hop to the thread pool for each 64 KiB) cost more than the AES itself. */
export function chunkOpener(chunkKey: Uint8Array, sealedSize: number, chunkCount: number): ChunkDecryptor {
  const body = sealedSize - TAG_BYTES;
  // The nonce is copied into the cipher's context: one buffer serves every chunk.
  const nonce = Buffer.alloc(NONCE_BYTES);
  const check = (i: number, sealed: Uint8Array, out: Uint8Array | undefined) => {
    if (sealed.length !== sealedSize) throw tampered(`chunk ${i} of this share is ${sealed.length} bytes, not ${sealedSize}`);
    if (out && out.length !== body) throw new RangeError(`chunk ${i}'s plaintext is ${body} bytes, not ${out.length}`);
  };
  const failed = (i: number) => tampered(`chunk ${i} of this share failed authentication: it was changed after it was sealed`);
  const addon = chunkGcmAddon();
  if (addon) {
    const ctx = addon.context(chunkKey);
    return (i, sealed, out) => {
      check(i, sealed, out);
      const into = out ?? Buffer.allocUnsafe(body);
      if (!addon.open(ctx, writeChunkNonce(nonce, i, chunkCount), sealed, into)) throw failed(i);
      return into;
    };
  }
  // One key object for every chunk: made from raw bytes for each, it cost as much as the AES.
  const aes = createSecretKey(chunkKey);
  return (i, sealed, out) => {
    check(i, sealed, out);
    const d = createDecipheriv('aes-256-gcm', aes, writeChunkNonce(nonce, i, chunkCount));
    d.setAuthTag(sealed.subarray(body));
    const plain = d.update(sealed.subarray(0, body));
    try {
      d.final();
    } catch {
      throw failed(i);
    }
    if (!out) return plain;
    out.set(plain);
    return out;
  };
}
