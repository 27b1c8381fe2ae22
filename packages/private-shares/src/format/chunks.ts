// The content: every file's bytes in manifest order, zero-padded to whole chunks, each chunk sealed
// with AES-256-GCM under a key derived from the content key. The info entry's `chunk` is the size
// of a sealed chunk (a power of two), so sealed chunks line up with the torrent's pieces (powers of
// two too): a piece holds whole chunks, or a chunk whole pieces. A chunk carries chunk − 16 bytes. The nonce is the chunk's index and a
// last-chunk flag, so a chunk moved, dropped, or a share cut short fails authentication. WebCrypto
// does the AES (AES-NI in Node and in browsers); several chunks are kept in flight at once.
import { tampered } from './errors.ts';
import { chunkNonce } from './nonce.ts';
import { TAG_BYTES, checkChunkSize, type PrivateInfo } from './format.ts';
import { aesKey, deriveKey } from '../keys/keys.ts';
import type { ShareManifest } from './manifest.ts';

const IN_FLIGHT = 8;

export class ChunkCipher {
  /** Plaintext bytes per chunk (the sealed size less the tag). */
  readonly chunk: number;
  /** Bytes of a sealed chunk: info.chunk. */
  readonly sealed: number;
  readonly chunkCount: number;
  readonly cipherLength: number;
  readonly plainLength: number;
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey, sealed: number, plainLength: number) {
    this.#key = key;
    this.sealed = sealed;
    this.chunk = sealed - TAG_BYTES;
    this.plainLength = plainLength;
    this.chunkCount = Math.max(1, Math.ceil(plainLength / this.chunk));
    this.cipherLength = this.chunkCount * sealed;
  }

  static async create(key: Uint8Array, info: Pick<PrivateInfo, 'salt' | 'chunk'>, plainLength: number): Promise<ChunkCipher> {
    if (!Number.isSafeInteger(plainLength) || plainLength < 0) throw new RangeError(`plaintext length ${plainLength} is not a size`);
    return new ChunkCipher(await aesKey(deriveKey(key, info.salt, 'chunks')), checkChunkSize(info.chunk), plainLength);
  }

  /** Offset of ciphertext chunk i in the torrent's one file. */
  cipherOffset(i: number): number {
    return i * this.sealed;
  }

  chunkAt(plainOffset: number): number {
    return Math.floor(plainOffset / this.chunk);
  }

  #nonce(i: number): Uint8Array<ArrayBuffer> {
    return chunkNonce(i, this.chunkCount);
  }

  /** `plain` may be shorter than a chunk (the last one): it is zero-padded. */
  async encryptChunk(i: number, plain: Uint8Array): Promise<Uint8Array> {
    if (plain.length > this.chunk) throw new RangeError(`chunk ${i} is ${plain.length} bytes, over ${this.chunk}`);
    let whole = plain;
    if (plain.length < this.chunk) {
      whole = new Uint8Array(this.chunk);
      whole.set(plain);
    }
    const iv = this.#nonce(i);
    return new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv }, this.#key, whole as Uint8Array<ArrayBuffer>));
  }

  /** The chunk's `chunk` plaintext bytes (padding included); a 'tampered' error naming the chunk
   *  when it fails authentication. */
  async decryptChunk(i: number, cipher: Uint8Array): Promise<Uint8Array> {
    const iv = this.#nonce(i);
    if (cipher.length !== this.chunk + TAG_BYTES) throw tampered(`chunk ${i} of this share is ${cipher.length} bytes, not ${this.chunk + TAG_BYTES}`);
    try {
      return new Uint8Array(await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv }, this.#key, cipher as Uint8Array<ArrayBuffer>));
    } catch {
      throw tampered(`chunk ${i} of this share failed authentication: it was changed after it was sealed`);
    }
  }
}

/** Encrypts the plaintext stream (files concatenated, in manifest order) into ciphertext chunks, in
 *  order, with several in flight. Throws when the stream's length is not the cipher's plainLength. */
export async function* encryptStream(cipher: ChunkCipher, plain: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const pending: Promise<Uint8Array>[] = [];
  let buf = new Uint8Array(cipher.chunk);
  let fill = 0;
  let index = 0;
  let total = 0;
  for await (const part of plain) {
    total += part.length;
    if (total > cipher.plainLength) throw new Error(`the content is longer than the ${cipher.plainLength} bytes the manifest says`);
    let off = 0;
    while (off < part.length) {
      const n = Math.min(part.length - off, cipher.chunk - fill);
      buf.set(part.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === cipher.chunk) {
        pending.push(cipher.encryptChunk(index++, buf));
        buf = new Uint8Array(cipher.chunk);
        fill = 0;
        if (pending.length >= IN_FLIGHT) yield await pending.shift()!;
      }
    }
  }
  if (total !== cipher.plainLength) throw new Error(`the content is ${total} bytes; the manifest says ${cipher.plainLength}`);
  if (index < cipher.chunkCount) pending.push(cipher.encryptChunk(index++, buf.subarray(0, fill)));
  while (pending.length > 0) yield await pending.shift()!;
}

/** Where file `index` lies in the plaintext stream, and which chunks (of size `chunk`) hold it. An
 *  empty file spans no chunk (lastChunk < firstChunk). */
export function fileSpan(manifest: ShareManifest, index: number, chunk: number): { offset: number; length: number; firstChunk: number; lastChunk: number } {
  const f = manifest.files[index];
  if (!f) throw new RangeError(`no file ${index} in this share`);
  let offset = 0;
  for (let i = 0; i < index; i++) offset += manifest.files[i]!.length;
  const firstChunk = Math.floor(offset / chunk);
  const lastChunk = f.length === 0 ? firstChunk - 1 : Math.floor((offset + f.length - 1) / chunk);
  return { offset, length: f.length, firstChunk, lastChunk };
}

export { chunkNonce } from './nonce.ts';
