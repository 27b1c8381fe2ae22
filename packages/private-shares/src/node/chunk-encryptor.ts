// Chunk encryption for a node that keeps a share's plaintext and seeds the ciphertext made from it:
// a chunk's nonce is its index (chunks.ts), so sealing the same plaintext again gives the very bytes
// the sharer sealed, and the torrent's piece hashes hold. With the addon where it is built
// (chunk-gcm.ts: sealed straight into `out`), else node:crypto.
import { createCipheriv, createSecretKey } from 'node:crypto';
import { NONCE_BYTES, writeChunkNonce } from '../format/nonce.ts';
import { TAG_BYTES, type PrivateInfo } from '../format/format.ts';
import { chunkKey } from './chunk-decryptor.ts';
import { chunkGcmAddon } from './chunk-gcm.ts';

/** Seals chunk `index` from its plaintext (shorter than a chunk for the last: zero-padded) into
 *  `out` (info.chunk bytes). */
export type ChunkEncryptor = (index: number, plain: Uint8Array, out: Uint8Array) => void;

export function chunkEncryptor(key: Uint8Array, info: Pick<PrivateInfo, 'salt' | 'chunk'>, chunkCount: number): ChunkEncryptor {
  const sealingKey = chunkKey(key, info);
  const body = info.chunk - TAG_BYTES;
  const nonce = Buffer.alloc(NONCE_BYTES);
  const check = (i: number, plain: Uint8Array, out: Uint8Array) => {
    if (plain.length > body) throw new RangeError(`chunk ${i} is ${plain.length} bytes, over ${body}`);
    if (out.length !== info.chunk) throw new RangeError(`a sealed chunk is ${info.chunk} bytes, not ${out.length}`);
  };
  const addon = chunkGcmAddon();
  if (addon) {
    const ctx = addon.context(sealingKey);
    return (i, plain, out) => {
      check(i, plain, out);
      addon.seal(ctx, writeChunkNonce(nonce, i, chunkCount), plain, out);
    };
  }
  const aes = createSecretKey(sealingKey);
  const padding = new Uint8Array(body);
  return (i, plain, out) => {
    check(i, plain, out);
    const c = createCipheriv('aes-256-gcm', aes, writeChunkNonce(nonce, i, chunkCount));
    let at = 0;
    const put = (b: Buffer) => {
      out.set(b, at);
      at += b.length;
    };
    put(c.update(plain));
    if (plain.length < body) put(c.update(padding.subarray(0, body - plain.length)));
    put(c.final());
    out.set(c.getAuthTag(), body);
  };
}
