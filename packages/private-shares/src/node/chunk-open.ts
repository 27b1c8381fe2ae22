// The chunk decryption with node:crypto, from the share's chunk key (keys.ts deriveKey(key, salt,
// 'chunks')): it imports the nonce and the error only, so the worker thread that decrypts a
// recipient's pieces (node src/private/plain-worker.ts) loads in milliseconds where the package's
// index (envelopes, HPKE, curves) cost it ~0.2 CPU-s.
import { createDecipheriv, createSecretKey } from 'node:crypto';
import { NONCE_BYTES, TAG_BYTES, writeChunkNonce } from '../format/nonce.ts';
import { tampered } from '../format/errors.ts';

export type ChunkDecryptor = (index: number, sealed: Uint8Array) => Buffer;

/** Decrypts sealed chunks of `sealedSize` bytes (info `chunk`); a 'tampered' error names a chunk
 *  that fails authentication. Synchronous: WebCrypto's asynchronous calls (a hop to the thread
 *  pool for each 64 KiB) cost more than the AES itself. */
export function chunkOpener(chunkKey: Uint8Array, sealedSize: number, chunkCount: number): ChunkDecryptor {
  // One key object for every chunk: made from raw bytes for each, it cost as much as the AES.
  const aes = createSecretKey(chunkKey);
  const body = sealedSize - TAG_BYTES;
  // The nonce is copied into the cipher's context: one buffer serves every chunk.
  const nonce = Buffer.alloc(NONCE_BYTES);
  return (i, sealed) => {
    if (sealed.length !== sealedSize) throw tampered(`chunk ${i} of this share is ${sealed.length} bytes, not ${sealedSize}`);
    const d = createDecipheriv('aes-256-gcm', aes, writeChunkNonce(nonce, i, chunkCount));
    d.setAuthTag(sealed.subarray(body));
    const plain = d.update(sealed.subarray(0, body));
    try {
      d.final();
    } catch {
      throw tampered(`chunk ${i} of this share failed authentication: it was changed after it was sealed`);
    }
    return plain;
  };
}
