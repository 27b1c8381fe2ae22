// The same chunk decryption as ChunkCipher.decryptChunk, synchronously with node:crypto: a node
// writing a share's plaintext decrypts every chunk, and WebCrypto's asynchronous calls (a hop to the
// thread pool for each 64 KiB) cost more than the AES itself.
import { createDecipheriv, createSecretKey } from 'node:crypto';
import { chunkNonce } from '../format/chunks.ts';
import { tampered } from '../format/errors.ts';
import { TAG_BYTES, type PrivateInfo } from '../format/format.ts';
import { deriveKey } from '../keys/keys.ts';

export type ChunkDecryptor = (index: number, sealed: Uint8Array) => Buffer;

export function chunkDecryptor(key: Uint8Array, info: Pick<PrivateInfo, 'salt' | 'chunk'>, chunkCount: number): ChunkDecryptor {
  // One key object for every chunk: made from raw bytes for each, it cost as much as the AES.
  const aes = createSecretKey(deriveKey(key, info.salt, 'chunks'));
  const body = info.chunk - TAG_BYTES;
  return (i, sealed) => {
    if (sealed.length !== info.chunk) throw tampered(`chunk ${i} of this share is ${sealed.length} bytes, not ${info.chunk}`);
    const d = createDecipheriv('aes-256-gcm', aes, chunkNonce(i, chunkCount));
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
