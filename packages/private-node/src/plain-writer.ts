// Writes a private share's plaintext under its real names as the ciphertext's pieces verify: each
// verified piece's chunks are authenticated and decrypted from memory as the engine hands them over,
// and neighbours are written together (page-aligned middles with O_DIRECT); what the disk is too slow
// to take then is read back from the verified ciphertext later, in runs. A chunk that fails
// authentication stops the writer; nothing of its run is written.
import { open, type FileHandle } from 'node:fs/promises';
import { TAG_BYTES, type ShareManifest } from '@cascade/private-shares';
import type { ChunkDecryptor } from '@cascade/private-shares/node';
import { PlainFiles } from './plain-files.ts';
import { chunkProgress } from './progress.ts';

/** Runs written at once (6 measured best against 2 and 3 here), and the most bytes in one run (64
 *  chunks of 64 KiB; a share of 1 MiB chunks, shareChunkSize, has 4 in a run, not 64 MiB). */
const IN_FLIGHT = 6;
const RUN_BYTES = 4 * 1024 * 1024;
/** Plaintext decrypted from pieces in memory and waiting for the disk, at most: past it, chunks are
 *  read back from the ciphertext on disk once a run is free (the disk is the slower side then). */
const MEMORY_BUDGET = 48 * 1024 * 1024;

export interface PlainWriterOptions {
  /** Chunk size, chunk count and the plaintext length, as the share's cipher says. */
  chunk: number;
  chunkCount: number;
  decrypt: ChunkDecryptor;
  manifest: ShareManifest;
  /** The ciphertext file (the torrent's one file). */
  cipherPath: string;
  savePath: string;
  pieceLength: number;
  havePiece: (index: number) => boolean;
  /** Chunks already written in an earlier run (a bitfield, bit i = chunk i). */
  done: Uint8Array;
  /** After each run written, and once all are (complete = true). */
  progress: (done: Uint8Array, complete: boolean) => void;
  /** A chunk failed authentication, or the disk refused: the writer has stopped. */
  failed: (err: Error) => void;
}

export class PlainWriter {
  readonly #o: PlainWriterOptions;
  readonly #done: Uint8Array;
  /** Chunks whose pieces are verified, waiting for a slot to be read back; those decrypted from
   *  memory and waiting to be written (their plaintext); and those being written now. */
  readonly #queued = new Set<number>();
  readonly #decrypted = new Map<number, Uint8Array>();
  #decryptedBytes = 0;
  readonly #writing = new Set<number>();
  #runs = 0;
  #left = 0;
  #stopped = false;
  #cipherFile: Promise<FileHandle> | undefined;
  readonly #files: PlainFiles;
  /** The most chunks in one run. */
  readonly #run: number;
  /** Plaintext bytes of the longest run, each of which takes aligned memory (diagnostics and tests). */
  readonly runBytes: number;

  constructor(o: PlainWriterOptions) {
    this.#o = o;
    this.#run = Math.max(1, Math.floor(RUN_BYTES / o.chunk));
    this.#done = new Uint8Array(Math.ceil(o.chunkCount / 8));
    this.#done.set(o.done.subarray(0, this.#done.length));
    for (let i = 0; i < o.chunkCount; i++) if (!this.#has(i)) this.#left++;
    // Runs from memory, read-back runs, and a spare: aligned memory for each.
    this.runBytes = Math.min(this.#run, o.chunkCount) * o.chunk;
    this.#files = new PlainFiles(o.manifest, o.savePath, this.runBytes, IN_FLIGHT + 1);
  }

  get complete(): boolean {
    return this.#left === 0;
  }

  /** Which chunks are written (a copy: bit i = chunk i), to go on from after a restart. */
  get done(): Uint8Array {
    return this.#done.slice();
  }

  /** Fraction of each file's plaintext written. */
  fileProgress(): number[] {
    return chunkProgress(this.#o.manifest, this.#o.chunk, (c) => this.#has(c));
  }

  /** Makes every file (empty ones too) and queues each chunk whose pieces are verified. */
  async start(): Promise<void> {
    await this.#files.makeAll();
    for (let c = 0; c < this.#o.chunkCount; c++) this.#consider(c);
    if (this.#left === 0) await this.#finish();
  }

  /** A ciphertext piece verified: the chunks over it may now be whole. */
  pieceVerified(piece: number): void {
    const { chunk, chunkCount, pieceLength } = this.#o;
    const size = chunk + TAG_BYTES;
    const first = Math.floor((piece * pieceLength) / size);
    const last = Math.min(chunkCount - 1, Math.floor(((piece + 1) * pieceLength - 1) / size));
    for (let c = first; c <= last; c++) this.#consider(c);
  }

  /**
   * A piece's verified bytes as they arrive (the engine's 'piece-data'): when the piece holds whole
   * sealed chunks (a piece at least a chunk long: both are powers of two, so they line up), they are
   * decrypted from memory now instead of read back from disk later.
   */
  pieceData(piece: number, data: Uint8Array): void {
    const { chunk, chunkCount, pieceLength, decrypt } = this.#o;
    const sealedSize = chunk + TAG_BYTES;
    // Plaintext already piled up for the disk: leave this piece to be read back later.
    if (this.#stopped || pieceLength < sealedSize || this.#decryptedBytes >= MEMORY_BUDGET) return;
    const first = (piece * pieceLength) / sealedSize;
    const count = Math.min(Math.floor(data.length / sealedSize), chunkCount - first);
    try {
      for (let j = 0; j < count; j++) {
        const c = first + j;
        if (!this.#free(c) || this.#decrypted.has(c)) continue;
        const plain = decrypt(c, data.subarray(j * sealedSize, (j + 1) * sealedSize));
        this.#queued.delete(c);
        this.#decrypted.set(c, plain);
        this.#decryptedBytes += plain.length;
      }
    } catch (err) {
      void this.#fail(err as Error);
      return;
    }
    this.#pump();
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#decrypted.clear();
    await this.#closeFiles();
  }

  #has(c: number): boolean {
    return ((this.#done[c >> 3] ?? 0) & (0x80 >> (c & 7))) !== 0;
  }

  #consider(c: number): void {
    if (this.#stopped || !this.#free(c) || this.#queued.has(c) || this.#decrypted.has(c) || !this.#verified(c)) return;
    this.#queued.add(c);
    this.#pump();
  }

  #verified(c: number): boolean {
    const { chunk, pieceLength, havePiece } = this.#o;
    const start = c * (chunk + TAG_BYTES);
    const end = start + chunk + TAG_BYTES - 1;
    for (let p = Math.floor(start / pieceLength); p <= Math.floor(end / pieceLength); p++) if (!havePiece(p)) return false;
    return true;
  }

  /**
   * Starts runs while fewer than IN_FLIGHT are being written: first the oldest chunk decrypted from
   * memory with its decrypted neighbours, else the oldest waiting to be read back with its waiting
   * neighbours. While the disk lags, chunks pile up and the runs grow (up to RUN_BYTES).
   */
  #pump(): void {
    while (!this.#stopped && this.#runs < IN_FLIGHT) {
      const fromMemory = this.#decrypted.size > 0;
      const pending: { has(c: number): boolean } = fromMemory ? this.#decrypted : this.#queued;
      const next = (fromMemory ? this.#decrypted.keys() : this.#queued.values()).next();
      if (next.done) return;
      let first = next.value;
      while (first > 0 && pending.has(first - 1) && next.value - first < this.#run - 1) first--;
      let count = 0;
      while (count < this.#run && pending.has(first + count)) count++;
      if (fromMemory) {
        const plain: Uint8Array[] = [];
        for (let c = first; c < first + count; c++) {
          plain.push(this.#decrypted.get(c)!);
          this.#decrypted.delete(c);
        }
        this.#startRun(first, count, () => this.#writePlain(first, count, plain).finally(() => {
          for (const p of plain) this.#decryptedBytes -= p.length;
        }));
      } else {
        this.#startRun(first, count, () => this.#readRun(first, count));
      }
    }
  }

  #free(c: number): boolean {
    return !this.#has(c) && !this.#writing.has(c);
  }

  #startRun(first: number, count: number, work: () => Promise<void>): void {
    for (let c = first; c < first + count; c++) {
      this.#queued.delete(c);
      this.#writing.add(c);
    }
    this.#runs++;
    void work().finally(() => {
      for (let c = first; c < first + count; c++) this.#writing.delete(c);
      this.#runs--;
      this.#pump();
    });
  }

  /** Reads a run of chunks back from the verified ciphertext, decrypts and writes them. */
  async #readRun(first: number, count: number): Promise<void> {
    const { chunk, decrypt } = this.#o;
    const sealedSize = chunk + TAG_BYTES;
    try {
      const sealed = Buffer.allocUnsafe(count * sealedSize);
      this.#cipherFile ??= open(this.#o.cipherPath, 'r');
      const { bytesRead } = await (await this.#cipherFile).read(sealed, 0, sealed.length, first * sealedSize);
      if (this.#stopped) return;
      // Every chunk of the run authenticates before any of it is written (decrypt throws
      // 'tampered' naming the chunk).
      const plain: Uint8Array[] = [];
      for (let k = 0; k < count; k++) {
        const at = k * sealedSize;
        plain.push(decrypt(first + k, sealed.subarray(at, Math.min(bytesRead, at + sealedSize))));
      }
      await this.#writePlain(first, count, plain);
    } catch (err) {
      await this.#fail(err as Error);
    }
  }

  /** Writes decrypted chunks first…first+count-1 to the files they cover. */
  async #writePlain(first: number, count: number, plain: Uint8Array[]): Promise<void> {
    try {
      await this.#files.write(first * this.#o.chunk, plain);
      if (this.#stopped) return;
      for (let c = first; c < first + count; c++) this.#done[c >> 3]! |= 0x80 >> (c & 7);
      this.#left -= count;
      if (this.#left === 0) await this.#finish();
      else this.#o.progress(this.#done, false);
    } catch (err) {
      await this.#fail(err as Error);
    }
  }

  async #fail(err: Error): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#decrypted.clear();
    await this.#closeFiles();
    this.#o.failed(err);
  }

  async #finish(): Promise<void> {
    await this.#closeFiles();
    this.#o.progress(this.#done, true);
  }

  async #closeFiles(): Promise<void> {
    const cipher = this.#cipherFile;
    this.#cipherFile = undefined;
    await Promise.all([cipher?.then((fh) => fh.close()).catch(() => {}), this.#files.close()]);
  }
}
