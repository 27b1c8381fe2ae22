// Where a recipient's node keeps a private share it can read: the plaintext only, under the real
// names. The engine writes verified ciphertext pieces here (each chunk is authenticated and
// decrypted, and only plaintext reaches the disk) and reads pieces back to seed or check them (the
// plaintext sealed again: a chunk's nonce is its index, so the bytes are the sharer's, and the
// torrent's piece hashes hold). One copy on disk, one write per byte: a share downloads at nearly
// the speed of a public one, and a recipient keeps seeding the ciphertext to anyone.
import { createHash } from 'node:crypto';
import type { FileStat, Storage } from '@cascade/engine';
import type { ChunkDecryptor, ChunkEncryptor } from '@cascade/private-shares/node';
import type { PlainFiles } from './plain-files.ts';
import { youngBufferCollector } from '@cascade/engine/young-buffers';
import { PlainWorkerLost, type PlainWriteWorker } from './plain-worker-client.ts';
import { writeSealedPiece } from './plain-piece.ts';

export interface PlainStorageOptions {
  files: PlainFiles;
  pieceLength: number;
  /** The torrent's one file: the ciphertext's length. */
  cipherLength: number;
  /** Sealed chunk size (info `chunk`; a piece holds whole chunks) and plaintext bytes per chunk. */
  sealed: number;
  chunk: number;
  decrypt: ChunkDecryptor;
  encrypt: ChunkEncryptor;
  /** The torrent's piece hashes (SHA-1, 20 bytes each): a piece sealed again is checked before it leaves. */
  pieceHashes: Uint8Array;
  /** A verified piece held a chunk that failed authentication (nothing of it was written). */
  tampered: (err: Error) => void;
  /** Decrypts and writes pieces off the engine's thread; when it is lost, they are done here. */
  worker?: PlainWriteWorker;
  /**
   * A download that starts now, with nothing of it on disk: the files are made and opened at once
   * rather than at the first piece (under load those few file-system calls in a row held the first
   * write 50-150 ms in bench:private), and the stats say absent until a piece is written.
   */
  fresh?: boolean;
  /** What must be in the state before the files are made (the share's key and written marker):
   *  its failure is every write's. */
  persisted?: Promise<void>;
}

export class PlainStorage implements Storage {
  readonly #o: PlainStorageOptions;
  /** Every file made (empty) before the first write, so the stats say the share is there. */
  #made: Promise<void> | undefined;
  /** node:crypto's decrypted chunks are garbage once written: their bytes go back before V8 counts
   *  them against a full collection (core/memory-reducer.ts). */
  readonly #reclaim = youngBufferCollector();

  #worker: PlainWriteWorker | undefined;
  /** A piece was given to write (the files may hold some of the share). */
  #writing = false;

  constructor(o: PlainStorageOptions) {
    this.#o = o;
    this.#worker = o.worker;
    // Its failure is the first write's to report.
    if (o.fresh) this.#makeFiles().catch(() => {});
  }

  #makeFiles(): Promise<void> {
    const { files } = this.#o;
    return (this.#made ??= Promise.resolve(this.#o.persisted)
      .then(() => files.makeAll())
      .then(() => files.warm())
      .catch((err: unknown) => {
        this.#made = undefined;
        throw err;
      }));
  }

  async writePiece(index: number, data: Uint8Array): Promise<void> {
    const { sealed, chunk, decrypt, files } = this.#o;
    this.#writing = true;
    await this.#makeFiles();
    const first = this.#firstChunk(index);
    if (this.#worker?.ready()) {
      try {
        return await this.#worker.write(first, data);
      } catch (err) {
        if (!(err instanceof PlainWorkerLost)) {
          if ((err as { code?: string }).code === 'tampered') this.#o.tampered(err as Error);
          throw err;
        }
        // Written again here is harmless: the same plaintext to the same place.
        this.#worker = undefined;
      }
    }
    let opened: ReturnType<typeof writeSealedPiece>;
    try {
      opened = writeSealedPiece(files, decrypt, first, data, sealed, chunk);
    } catch (err) {
      this.#o.tampered(err as Error);
      throw err;
    }
    if (opened.garbage) this.#reclaim(data.length);
    await opened.written;
  }

  async readPiece(index: number, into?: Uint8Array): Promise<Uint8Array> {
    const { pieceLength, cipherLength, sealed, chunk, encrypt, files } = this.#o;
    const length = Math.min(pieceLength, cipherLength - index * pieceLength);
    const out = into && into.length === length ? into : Buffer.allocUnsafeSlow(length);
    const count = length / sealed;
    const first = this.#firstChunk(index);
    const plain = Buffer.allocUnsafe(count * chunk);
    await files.read(first * chunk, plain);
    for (let k = 0; k < count; k++) encrypt(first + k, plain.subarray(k * chunk, (k + 1) * chunk), out.subarray(k * sealed, (k + 1) * sealed));
    // Plaintext changed on disk since it was written would be sealed under nonces already used for
    // other bytes, which AES-GCM must never do (it would show both plaintexts' XOR and let the tag
    // key be recovered): a piece goes out only when it is the very ciphertext the torrent hashed.
    const digest = createHash('sha1').update(out).digest();
    if (!digest.equals(this.#o.pieceHashes.subarray(index * 20, index * 20 + 20))) {
      throw new Error(`piece ${index}: the plaintext on disk changed since it was written (the files of this share were edited); it is not sent`);
    }
    return out;
  }

  /**
   * The torrent's one file as the engine's resume data records it: the ciphertext's length while
   * every plaintext file is there (made at the first write), with the newest of their mtimes; absent
   * otherwise. A plaintext file changed or removed changes this, and its pieces are checked again.
   */
  async fileStats(files?: readonly number[]): Promise<(FileStat | undefined)[]> {
    // Made ahead of the first piece, empty: nothing of the share is there yet.
    if (this.#o.fresh && !this.#writing) return (files ?? [0]).map(() => undefined);
    const mtime = await this.#o.files.newestMtime();
    const stat = mtime === undefined ? undefined : { length: this.#o.cipherLength, mtimeMs: mtime };
    return (files ?? [0]).map(() => stat);
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    const made = this.#made;
    if (this.#o.fresh && !this.#writing && made) {
      // Made ahead of a piece that never came (removed or stopped at once): the empty files go, as
      // if they had waited for it; a later write makes them again.
      this.#made = undefined;
      await made.catch(() => {});
      return this.#o.files.destroy();
    }
    await this.#o.files.close();
  }

  async destroy(): Promise<void> {
    await this.#worker?.close();
    await this.#o.files.destroy();
  }

  #firstChunk(piece: number): number {
    return (piece * this.#o.pieceLength) / this.#o.sealed;
  }
}
