// Writes a private share's plaintext under its real names as the ciphertext's pieces verify: each
// verified piece's chunks are authenticated and decrypted from memory as the engine hands them over,
// and neighbours are written together (page-aligned middles with O_DIRECT); what the disk is too slow
// to take then is read back from the verified ciphertext later, in runs. A chunk that fails
// authentication stops the writer; nothing of its run is written.
import { constants } from 'node:fs';
import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TAG_BYTES, fileSpan, plaintextPath, type ShareManifest } from '@cascade/private-shares';
import type { ChunkDecryptor } from '@cascade/private-shares/node';
import { DIRECT_ALIGN, O_DIRECT, isDirectAligned } from '@cascade/engine/direct-io';
import { AlignedSlots } from './aligned-slots.ts';

/** Runs written at once (6 measured best against 2 and 3 here), and the most chunks in one run
 *  (4 MiB of 64 KiB chunks). */
const IN_FLIGHT = 6;
const RUN = 64;
/** Plaintext decrypted from pieces in memory and waiting for the disk, at most: past it, chunks are
 *  read back from the ciphertext on disk once a run is free (the disk is the slower side then). */
const MEMORY_BUDGET = 48 * 1024 * 1024;
/** Shares of more files than this open a file for each write instead of keeping it open. */
const KEEP_OPEN = 32;

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
  readonly #decrypted = new Map<number, Buffer>();
  #decryptedBytes = 0;
  readonly #writing = new Set<number>();
  #runs = 0;
  #left = 0;
  #stopped = false;
  #cipherFile: Promise<FileHandle> | undefined;
  /** Each file's path, made (empty) the first time; its handle while kept open. */
  readonly #paths = new Map<number, Promise<string>>();
  readonly #handles = new Map<number, Promise<FileHandle>>();
  /** Second handles opened with O_DIRECT (while it works here), for the aligned middles of runs. */
  readonly #directHandles = new Map<number, Promise<FileHandle | undefined>>();
  #direct = O_DIRECT !== undefined;
  #slots: AlignedSlots | undefined;
  /** Plaintext offset where each file starts. */
  readonly #offsets: number[];

  constructor(o: PlainWriterOptions) {
    this.#o = o;
    this.#done = new Uint8Array(Math.ceil(o.chunkCount / 8));
    this.#done.set(o.done.subarray(0, this.#done.length));
    for (let i = 0; i < o.chunkCount; i++) if (!this.#has(i)) this.#left++;
    let at = 0;
    this.#offsets = o.manifest.files.map((f) => ((at += f.length), at - f.length));
    // Runs from memory, read-back runs, and a spare or two; made once there is something to write.
    if (this.#left > 0 && this.#direct && o.manifest.files.length <= KEEP_OPEN) {
      this.#slots = new AlignedSlots(Math.min(RUN, o.chunkCount) * o.chunk, IN_FLIGHT + 1);
    }
  }

  get complete(): boolean {
    return this.#left === 0;
  }

  /** Fraction of each file's plaintext written. */
  fileProgress(): number[] {
    const { chunk, manifest } = this.#o;
    return manifest.files.map((f, i) => {
      if (f.length === 0) return 1;
      const span = fileSpan(manifest, i, chunk);
      let done = 0;
      for (let c = span.firstChunk; c <= span.lastChunk; c++) {
        if (!this.#has(c)) continue;
        done += Math.min(span.offset + span.length, (c + 1) * chunk) - Math.max(span.offset, c * chunk);
      }
      return done / f.length;
    });
  }

  /** Makes every file (empty ones too) and queues each chunk whose pieces are verified. */
  async start(): Promise<void> {
    for (let i = 0; i < this.#o.manifest.files.length; i++) await this.#path(i);
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
   * neighbours. While the disk lags, chunks pile up and the runs grow (up to RUN chunks).
   */
  #pump(): void {
    while (!this.#stopped && this.#runs < IN_FLIGHT) {
      const fromMemory = this.#decrypted.size > 0;
      const pending: { has(c: number): boolean } = fromMemory ? this.#decrypted : this.#queued;
      const next = (fromMemory ? this.#decrypted.keys() : this.#queued.values()).next();
      if (next.done) return;
      let first = next.value;
      while (first > 0 && pending.has(first - 1) && next.value - first < RUN - 1) first--;
      let count = 0;
      while (count < RUN && pending.has(first + count)) count++;
      if (fromMemory) {
        const plain: Buffer[] = [];
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
      const plain: Buffer[] = [];
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
  async #writePlain(first: number, count: number, plain: Buffer[]): Promise<void> {
    const { chunk, manifest } = this.#o;
    try {
      const from = first * chunk;
      const to = Math.min(manifest.length, from + count * chunk);
      const aligned = this.#direct ? this.#slots?.take(plain, from) : undefined;
      try {
        for (let i = 0; i < manifest.files.length; i++) {
          const start = Math.max(from, this.#offsets[i]!);
          const end = Math.min(to, this.#offsets[i]! + manifest.files[i]!.length);
          if (start >= end) continue;
          const position = start - this.#offsets[i]!;
          if (aligned) await this.#writeAligned(i, aligned.bytes.subarray(start - from, end - from), position);
          else await this.#write(i, slices(plain, chunk, start - from, end - from), position);
        }
      } finally {
        aligned?.release();
      }
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

  async #write(i: number, parts: Uint8Array[], position: number): Promise<void> {
    if (this.#o.manifest.files.length > KEEP_OPEN) {
      // A share may have more files than a process may hold open.
      const fh = await open(await this.#path(i), 'r+');
      try {
        await writeAll(fh, parts, position);
      } finally {
        await fh.close();
      }
      return;
    }
    let fh = this.#handles.get(i);
    if (!fh) this.#handles.set(i, (fh = this.#path(i).then((p) => open(p, 'r+'))));
    await writeAll(await fh, parts, position);
  }

  /**
   * Bytes whose memory lines up with their file position within a page: the page-aligned middle
   * goes out with O_DIRECT, the edges (under a page each, shared with the neighbouring runs)
   * through the page cache.
   */
  async #writeAligned(i: number, data: Buffer, position: number): Promise<void> {
    const a = (DIRECT_ALIGN - (position % DIRECT_ALIGN)) % DIRECT_ALIGN;
    const b = data.length > a ? a + Math.floor((data.length - a) / DIRECT_ALIGN) * DIRECT_ALIGN : a;
    const direct = this.#direct && b > a && isDirectAligned(data.subarray(a)) ? await this.#directHandle(i) : undefined;
    if (!direct) return this.#write(i, [data], position);
    const middle = data.subarray(a, b);
    await Promise.all([
      a > 0 ? this.#write(i, [data.subarray(0, a)], position) : undefined,
      b < data.length ? this.#write(i, [data.subarray(b)], position + b) : undefined,
      writeAll(direct, [middle], position + a).catch((err: NodeJS.ErrnoException) => {
        // EINVAL: this filesystem breaks the alignment rules after all; the page cache it is.
        if (err.code !== 'EINVAL' && err.code !== 'EOPNOTSUPP') throw err;
        this.#direct = false;
        return this.#write(i, [middle], position + a);
      }),
    ]);
  }

  #directHandle(i: number): Promise<FileHandle | undefined> {
    let h = this.#directHandles.get(i);
    if (!h) {
      h = this.#path(i).then(
        (p) => open(p, constants.O_RDWR | O_DIRECT!),
        () => undefined,
      ).catch(() => {
        // Not every filesystem opens with O_DIRECT.
        this.#direct = false;
        return undefined;
      });
      this.#directHandles.set(i, h);
    }
    return h;
  }

  async #finish(): Promise<void> {
    await this.#closeFiles();
    this.#o.progress(this.#done, true);
  }

  async #closeFiles(): Promise<void> {
    const handles = [this.#cipherFile, ...this.#handles.values(), ...this.#directHandles.values()];
    this.#cipherFile = undefined;
    this.#handles.clear();
    this.#directHandles.clear();
    this.#slots = undefined;
    await Promise.all(handles.map((h) => h?.then((fh) => fh?.close()).catch(() => {})));
  }

  /** File i's path, made (empty) the first time: 'a' creates without truncating what is there. */
  #path(i: number): Promise<string> {
    let made = this.#paths.get(i);
    if (!made) {
      const path = join(this.#o.savePath, ...plaintextPath(this.#o.manifest, i));
      made = mkdir(dirname(path), { recursive: true })
        .then(() => open(path, 'a'))
        .then((h) => h.close())
        .then(() => path);
      this.#paths.set(i, made);
    }
    return made;
  }
}

/** Bytes [start, end) of equal-sized parts laid end to end, as views (nothing copied). */
function slices(parts: Buffer[], size: number, start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = Math.floor(start / size); k * size < end; k++) {
    out.push(parts[k]!.subarray(Math.max(0, start - k * size), Math.min(size, end - k * size)));
  }
  return out;
}

/** One writev where it can; again from where a short write stopped. */
async function writeAll(fh: FileHandle, parts: Uint8Array[], position: number): Promise<void> {
  let rest = parts;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length;
    if (skip > 0) rest[0] = rest[0]!.subarray(skip);
    if (bytesWritten === 0) throw new Error('the disk took no bytes');
  }
}
