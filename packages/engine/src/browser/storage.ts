// Browser storage: pieces live in memory (a Map of piece buffers; a few hundred MB is fine), or
// come straight from the user's File objects when seeding from the tab (nothing is copied: each
// piece is read from the Blobs when a peer asks for it). Files come back out as Blobs for saving.

import type { Storage } from '../platform.ts';
import { pieceLengthOf, pieceSegments } from '../pieces/piece-map.ts';
import type { Metainfo } from '../types.ts';

export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

/** Most a read of the user's file takes at once when peers ask for pieces in order. */
const READ_WINDOW = 4 * 1024 * 1024;

export class MemoryStorage implements Storage {
  readonly meta: Metainfo;
  private pieces = new Map<number, Uint8Array>();
  /** One Blob per file when the data is the user's own files (seeding from the page). */
  private blobs: Blob[] | undefined;
  private closed = false;
  /**
   * The last read of a file's Blob, which may cover the pieces after the one asked for. Every
   * Blob slice and read waits on the browser process: V8's profile of a seeding page (bench/webrtc
   * --profile) showed its main thread ~18 ms per MiB sent in them, a slice, a Blob of the parts and
   * a read per piece. A piece inside one file is now one slice and one read, and a read that starts
   * where the last one ended takes twice as much as that one did (one piece first, up to
   * READ_WINDOW): a peer downloading in order (streaming) costs a few reads per 4 MiB; one asking
   * for scattered pieces (rarest first starts at random) still reads only what it asked for.
   */
  private window: { file: number; start: number; end: number; data: Promise<Uint8Array> } | undefined;

  constructor(meta: Metainfo, blobs?: Blob[]) {
    this.meta = meta;
    if (blobs && blobs.length !== meta.files.length) throw new StorageError('one Blob per file is needed');
    this.blobs = blobs;
  }

  /** Bytes held in memory (downloaded pieces). */
  get bytesHeld(): number {
    let n = 0;
    for (const p of this.pieces.values()) n += p.length;
    return n;
  }

  async writePiece(index: number, data: Uint8Array): Promise<void> {
    if (this.closed) throw new StorageError('storage is closed');
    // The caller reuses its buffer once this resolves.
    this.pieces.set(index, data.slice());
  }

  async readPiece(index: number): Promise<Uint8Array> {
    const p = this.pieces.get(index);
    if (p) return p;
    if (!this.blobs) throw new StorageError(`piece ${index} is not here`);
    const segments = pieceSegments(this.meta, index);
    const only = segments.length === 1 ? segments[0]! : undefined;
    if (only && !this.meta.files[only.file]!.pad) return this.readInFile(index, only.file, only.fileOffset, only.length);
    const parts = segments.map((s) =>
      this.meta.files[s.file]!.pad ? new Blob([new Uint8Array(s.length)]) : this.blobs![s.file]!.slice(s.fileOffset, s.fileOffset + s.length),
    );
    const buf = new Uint8Array(await new Blob(parts).arrayBuffer());
    if (buf.length !== pieceLengthOf(this.meta, index)) throw new StorageError(`file is shorter than expected (piece ${index})`);
    return buf;
  }

  /** A piece that lies within one file, from the read window (a view of it: not copied). */
  private async readInFile(index: number, file: number, offset: number, length: number): Promise<Uint8Array> {
    let w = this.window;
    if (!w || w.file !== file || offset < w.start || offset + length > w.end) {
      const blob = this.blobs![file]!;
      const sequential = w !== undefined && w.file === file && offset === w.end;
      const take = sequential ? Math.min(READ_WINDOW, Math.max(length, 2 * (w!.end - w!.start))) : length;
      const end = Math.min(blob.size, offset + Math.max(take, length));
      const data = blob.slice(offset, end).arrayBuffer().then((b) => new Uint8Array(b));
      w = this.window = { file, start: offset, end, data };
      // A failed read is not kept for the pieces after it.
      data.catch(() => this.window === w && (this.window = undefined));
    }
    const data = await w.data;
    const buf = data.subarray(offset - w.start, offset - w.start + length);
    if (buf.length !== pieceLengthOf(this.meta, index)) throw new StorageError(`file is shorter than expected (piece ${index})`);
    return buf;
  }

  async fileStats(files?: readonly number[]): Promise<({ length: number; mtimeMs: number } | undefined)[]> {
    return (files ?? this.meta.files.map((_, i) => i)).map((i) => {
      const f = this.meta.files[i]!;
      const b = this.blobs?.[i];
      if (b) return { length: b.size, mtimeMs: (b as Partial<File>).lastModified ?? 0 };
      return this.hasFile(i) ? { length: f.length, mtimeMs: 0 } : undefined;
    });
  }

  /** Whether every piece of file `i` is here. */
  hasFile(i: number): boolean {
    const f = this.meta.files[i];
    if (!f) return false;
    if (this.blobs) return true;
    if (f.length === 0) return true;
    const first = Math.floor(f.offset / this.meta.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / this.meta.pieceLength);
    for (let p = first; p <= last; p++) if (!this.pieces.has(p)) return false;
    return true;
  }

  /** File `i` as a Blob (for a download link or the File System Access API). */
  fileBlob(i: number, type = 'application/octet-stream'): Blob {
    const f = this.meta.files[i];
    if (!f) throw new StorageError(`no file ${i}`);
    if (this.blobs) return this.blobs[i]!;
    if (!this.hasFile(i)) throw new StorageError(`file ${f.path.join('/')} is not complete yet`);
    const parts: Uint8Array<ArrayBuffer>[] = [];
    const end = f.offset + f.length;
    for (let pos = f.offset; pos < end; ) {
      const index = Math.floor(pos / this.meta.pieceLength);
      const piece = this.pieces.get(index)!;
      const start = pos - index * this.meta.pieceLength;
      const take = Math.min(piece.length - start, end - pos);
      parts.push(piece.subarray(start, start + take) as Uint8Array<ArrayBuffer>);
      pos += take;
    }
    return new Blob(parts, { type });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async destroy(): Promise<void> {
    this.closed = true;
    this.pieces.clear();
    this.blobs = undefined;
    this.window = undefined;
  }
}
