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

export class MemoryStorage implements Storage {
  readonly meta: Metainfo;
  private pieces = new Map<number, Uint8Array>();
  /** One Blob per file when the data is the user's own files (seeding from the page). */
  private blobs: Blob[] | undefined;
  private closed = false;

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
    const parts = pieceSegments(this.meta, index).map((s) =>
      this.meta.files[s.file]!.pad ? new Blob([new Uint8Array(s.length)]) : this.blobs![s.file]!.slice(s.fileOffset, s.fileOffset + s.length),
    );
    const buf = new Uint8Array(await new Blob(parts).arrayBuffer());
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
  }
}
