// The same chunk decryption as ChunkCipher.decryptChunk, synchronously with node:crypto, from the
// share's content key (chunk-open.ts does it from the derived chunk key).
import { chunkOpener, type ChunkDecryptor } from './chunk-open.ts';
import type { PrivateInfo } from '../format/format.ts';
import { deriveKey } from '../keys/keys.ts';

export type { ChunkDecryptor } from './chunk-open.ts';

/** The key the chunks are sealed under (what chunkOpener takes): derived from the content key. */
export function chunkKey(key: Uint8Array, info: Pick<PrivateInfo, 'salt'>): Uint8Array {
  return deriveKey(key, info.salt, 'chunks');
}

export function chunkDecryptor(key: Uint8Array, info: Pick<PrivateInfo, 'salt' | 'chunk'>, chunkCount: number): ChunkDecryptor {
  return chunkOpener(chunkKey(key, info), info.chunk, chunkCount);
}
