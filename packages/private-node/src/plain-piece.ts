// A verified ciphertext piece to plaintext on disk, the same on the engine's thread (plain-storage.ts)
// and on the decrypting worker (plain-worker.ts).
import { chunkCipherInPlace, type ChunkDecryptor } from '@cascade/private-shares/plain-writing';
import type { PlainFiles } from './plain-files.ts';

/**
 * Opens the piece's chunks (`first` is its first chunk's index) and starts writing their plaintext.
 * Every chunk authenticates before any of it is written: decrypt's error (a 'tampered' one names the
 * chunk) is thrown here, and nothing is written. Each chunk's plaintext goes into the aligned memory
 * of the write where PlainFiles has some: straight out of AES-GCM with the addon, else copied from
 * node:crypto's fresh Buffer while it is still in the cache. `garbage`: the decryption left memory
 * behind for the young collection (node:crypto, or no aligned memory).
 */
export function writeSealedPiece(files: PlainFiles, decrypt: ChunkDecryptor, first: number, data: Uint8Array, sealed: number, chunk: number): { written: Promise<void>; garbage: boolean } {
  const count = data.length / sealed;
  const run = files.reserve(first * chunk, count * chunk);
  const plain: Uint8Array[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const out = decrypt(first + k, data.subarray(k * sealed, (k + 1) * sealed), run?.bytes.subarray(k * chunk, (k + 1) * chunk));
      if (!run) plain.push(out);
    }
  } catch (err) {
    run?.release();
    throw err;
  }
  // No aligned memory (no O_DIRECT here): the chunks go to the page cache as they are (write takes
  // them before it returns).
  const written = run ? files.writeRun(first * chunk, run) : files.write(first * chunk, plain);
  return { written, garbage: !run || !chunkCipherInPlace() };
}
