// Writes a private share's plaintext under its real names as the ciphertext's pieces verify: each
// chunk is read back from the verified ciphertext, authenticated and decrypted, then written to the
// files it covers. A chunk that fails authentication stops the writer and is never written.
import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TAG_BYTES, fileSpan, plaintextPath, type ChunkCipher, type ShareManifest } from '@cascade/private-shares';

/** Chunks decrypted at once: enough to keep AES and the disk busy, few enough to stay small. */
const IN_FLIGHT = 4;

export interface PlainWriterOptions {
  cipher: ChunkCipher;
  manifest: ShareManifest;
  /** The ciphertext file (the torrent's one file). */
  cipherPath: string;
  savePath: string;
  pieceLength: number;
  havePiece: (index: number) => boolean;
  /** Chunks already written in an earlier run (a bitfield, bit i = chunk i). */
  done: Uint8Array;
  /** After each chunk written, and once all are (complete = true). */
  progress: (done: Uint8Array, complete: boolean) => void;
  /** A chunk failed authentication, or the disk refused: the writer has stopped. */
  failed: (err: Error) => void;
}

export class PlainWriter {
  readonly #o: PlainWriterOptions;
  readonly #done: Uint8Array;
  /** Chunks whose pieces are verified, waiting for a slot; and those being written now. */
  readonly #queued = new Set<number>();
  readonly #writing = new Set<number>();
  #left: number;
  #stopped = false;
  #cipherFile: Promise<FileHandle> | undefined;
  readonly #files = new Map<number, Promise<string>>();
  /** Plaintext offset where each file starts. */
  readonly #offsets: number[];

  constructor(o: PlainWriterOptions) {
    this.#o = o;
    this.#done = new Uint8Array(Math.ceil(o.cipher.chunkCount / 8));
    this.#done.set(o.done.subarray(0, this.#done.length));
    this.#left = 0;
    for (let i = 0; i < o.cipher.chunkCount; i++) if (!this.#has(i)) this.#left++;
    let at = 0;
    this.#offsets = o.manifest.files.map((f) => ((at += f.length), at - f.length));
  }

  get complete(): boolean {
    return this.#left === 0;
  }

  /** Fraction of each file's plaintext written. */
  fileProgress(): number[] {
    const { cipher, manifest } = this.#o;
    return manifest.files.map((f, i) => {
      if (f.length === 0) return 1;
      const span = fileSpan(manifest, i, cipher.chunk);
      let done = 0;
      for (let c = span.firstChunk; c <= span.lastChunk; c++) {
        if (!this.#has(c)) continue;
        done += Math.min(span.offset + span.length, (c + 1) * cipher.chunk) - Math.max(span.offset, c * cipher.chunk);
      }
      return done / f.length;
    });
  }

  /** Makes every file (empty ones too) and queues each chunk whose pieces are verified. */
  async start(): Promise<void> {
    for (let i = 0; i < this.#o.manifest.files.length; i++) await this.#file(i);
    for (let c = 0; c < this.#o.cipher.chunkCount; c++) this.#consider(c);
    if (this.#left === 0) this.#o.progress(this.#done, true);
  }

  /** A ciphertext piece verified: the chunks over it may now be whole. */
  pieceVerified(piece: number): void {
    const { cipher, pieceLength } = this.#o;
    const size = cipher.chunk + TAG_BYTES;
    const first = Math.floor((piece * pieceLength) / size);
    const last = Math.min(cipher.chunkCount - 1, Math.floor(((piece + 1) * pieceLength - 1) / size));
    for (let c = first; c <= last; c++) this.#consider(c);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    const fh = this.#cipherFile;
    this.#cipherFile = undefined;
    await fh?.then((h) => h.close()).catch(() => {});
  }

  #has(c: number): boolean {
    return ((this.#done[c >> 3] ?? 0) & (0x80 >> (c & 7))) !== 0;
  }

  #consider(c: number): void {
    if (this.#stopped || this.#has(c) || this.#queued.has(c) || this.#writing.has(c) || !this.#verified(c)) return;
    this.#queued.add(c);
    this.#pump();
  }

  #verified(c: number): boolean {
    const { cipher, pieceLength, havePiece } = this.#o;
    const start = cipher.cipherOffset(c);
    const end = start + cipher.chunk + TAG_BYTES - 1;
    for (let p = Math.floor(start / pieceLength); p <= Math.floor(end / pieceLength); p++) if (!havePiece(p)) return false;
    return true;
  }

  #pump(): void {
    while (!this.#stopped && this.#writing.size < IN_FLIGHT) {
      const next = this.#queued.values().next();
      if (next.done) return;
      const c = next.value;
      this.#queued.delete(c);
      this.#writing.add(c);
      void this.#write(c).finally(() => {
        this.#writing.delete(c);
        this.#pump();
      });
    }
  }

  async #write(c: number): Promise<void> {
    const { cipher, manifest } = this.#o;
    try {
      const size = cipher.chunk + TAG_BYTES;
      const sealed = Buffer.allocUnsafe(size);
      this.#cipherFile ??= open(this.#o.cipherPath, 'r');
      const { bytesRead } = await (await this.#cipherFile).read(sealed, 0, size, cipher.cipherOffset(c));
      if (this.#stopped) return;
      // Throws 'tampered' naming chunk c: nothing of it is written.
      const plain = await cipher.decryptChunk(c, sealed.subarray(0, bytesRead));
      const from = c * cipher.chunk;
      const to = Math.min(manifest.length, from + cipher.chunk);
      for (let i = 0; i < manifest.files.length; i++) {
        const start = Math.max(from, this.#offsets[i]!);
        const end = Math.min(to, this.#offsets[i]! + manifest.files[i]!.length);
        if (start >= end) continue;
        // Opened for each write: a share may have more files than a process may hold open.
        const fh = await open(await this.#file(i), 'r+');
        try {
          await fh.write(plain, start - from, end - start, start - this.#offsets[i]!);
        } finally {
          await fh.close();
        }
      }
      if (this.#stopped) return;
      this.#done[c >> 3]! |= 0x80 >> (c & 7);
      this.#left--;
      this.#o.progress(this.#done, this.#left === 0);
    } catch (err) {
      if (this.#stopped) return;
      this.#stopped = true;
      this.#o.failed(err as Error);
    }
  }

  /** File i's path, made (empty) the first time: 'a' creates without truncating what is there. */
  #file(i: number): Promise<string> {
    let made = this.#files.get(i);
    if (!made) {
      const path = join(this.#o.savePath, ...plaintextPath(this.#o.manifest, i));
      made = mkdir(dirname(path), { recursive: true })
        .then(() => open(path, 'a'))
        .then((h) => h.close())
        .then(() => path);
      this.#files.set(i, made);
    }
    return made;
  }
}
