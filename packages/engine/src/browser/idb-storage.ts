// IndexedDB storage for the browser: each verified piece is a Blob record keyed [infohash, index], so
// the browser keeps downloads on disk rather than in the page's memory, and they survive a reload
// (with IdbResumeStore, a re-added torrent starts from what it had). Files come back out as Blobs
// made of the stored piece Blobs: saving a few hundred MB copies nothing into JS memory.

import type { ResumeData, ResumeStore } from '../api.ts';
import type { Storage } from '../platform.ts';
import { pieceLengthOf } from '../pieces/piece-map.ts';
import type { Metainfo } from '../types.ts';
import { StorageError } from './storage.ts';

const PIECES = 'pieces';
const RESUME = 'resume';

function done<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** Opens (creating if needed) the database that holds pieces and resume data. */
export function openCascadeDb(name = 'cascade'): Promise<IDBDatabase> {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore(PIECES);
    r.result.createObjectStore(RESUME);
  };
  return done(r);
}

const range = (hex: string) => IDBKeyRange.bound([hex, 0], [hex, Number.MAX_SAFE_INTEGER]);

export class IdbStorage implements Storage {
  readonly meta: Metainfo;
  private readonly db: Promise<IDBDatabase>;
  private readonly hex: string;
  /** Indices of the pieces in the database; loaded once. */
  private have: Promise<Set<number>>;

  constructor(meta: Metainfo, db: Promise<IDBDatabase>) {
    this.meta = meta;
    this.db = db;
    this.hex = meta.infoHashHex;
    this.have = db.then(async (d) => {
      const keys = await done(d.transaction(PIECES).objectStore(PIECES).getAllKeys(range(this.hex)));
      return new Set(keys.map((k) => (k as [string, number])[1]));
    });
    this.have.catch(() => {});
  }

  async writePiece(index: number, data: Uint8Array): Promise<void> {
    const d = await this.db;
    // The Blob holds its own copy: the caller may reuse `data` as soon as this resolves.
    const tx = d.transaction(PIECES, 'readwrite');
    tx.objectStore(PIECES).put(new Blob([data as Uint8Array<ArrayBuffer>]), [this.hex, index]);
    try {
      await committed(tx);
    } catch (err) {
      throw new StorageError(`cannot store piece ${index}: ${(err as Error).message}`);
    }
    (await this.have).add(index);
  }

  private async pieceBlob(index: number): Promise<Blob> {
    const d = await this.db;
    const b = (await done(d.transaction(PIECES).objectStore(PIECES).get([this.hex, index]))) as Blob | undefined;
    if (!b) throw new StorageError(`piece ${index} is not stored`);
    return b;
  }

  async readPiece(index: number): Promise<Uint8Array> {
    const buf = new Uint8Array(await (await this.pieceBlob(index)).arrayBuffer());
    if (buf.length !== pieceLengthOf(this.meta, index)) throw new StorageError(`stored piece ${index} has the wrong size`);
    return buf;
  }

  private piecesOf(i: number): [number, number] {
    const f = this.meta.files[i]!;
    return [Math.floor(f.offset / this.meta.pieceLength), Math.floor((f.offset + f.length - 1) / this.meta.pieceLength)];
  }

  async fileStats(files?: readonly number[]): Promise<({ length: number; mtimeMs: number } | undefined)[]> {
    const have = await this.have;
    return (files ?? this.meta.files.map((_, i) => i)).map((i) => {
      const f = this.meta.files[i]!;
      if (f.length === 0) return { length: 0, mtimeMs: 0 };
      const [first, last] = this.piecesOf(i);
      for (let p = first; p <= last; p++) if (!have.has(p)) return undefined;
      return { length: f.length, mtimeMs: 0 };
    });
  }

  /** File `i` as a Blob assembled from the stored piece Blobs. */
  async fileBlob(i: number, type = 'application/octet-stream'): Promise<Blob> {
    const f = this.meta.files[i];
    if (!f) throw new StorageError(`no file ${i}`);
    if (f.length === 0) return new Blob([], { type });
    const [first, last] = this.piecesOf(i);
    const parts: Blob[] = [];
    for (let p = first; p <= last; p++) {
      const b = await this.pieceBlob(p);
      const start = Math.max(0, f.offset - p * this.meta.pieceLength);
      const end = Math.min(b.size, f.offset + f.length - p * this.meta.pieceLength);
      parts.push(b.slice(start, end));
    }
    return new Blob(parts, { type });
  }

  async close(): Promise<void> {}

  async destroy(): Promise<void> {
    const d = await this.db;
    const tx = d.transaction(PIECES, 'readwrite');
    tx.objectStore(PIECES).delete(range(this.hex));
    await committed(tx);
    (await this.have).clear();
  }
}

/** Resume data in IndexedDB, so a torrent re-added after a reload trusts the pieces it stored. */
export class IdbResumeStore implements ResumeStore {
  private readonly db: Promise<IDBDatabase>;

  constructor(db: Promise<IDBDatabase>) {
    this.db = db;
  }

  async load(hex: string): Promise<ResumeData | undefined> {
    const d = await this.db;
    return (await done(d.transaction(RESUME).objectStore(RESUME).get(hex))) as ResumeData | undefined;
  }

  async save(hex: string, data: ResumeData): Promise<void> {
    const d = await this.db;
    const tx = d.transaction(RESUME, 'readwrite');
    tx.objectStore(RESUME).put(data, hex);
    await committed(tx);
  }

  async delete(hex: string): Promise<void> {
    const d = await this.db;
    const tx = d.transaction(RESUME, 'readwrite');
    tx.objectStore(RESUME).delete(hex);
    await committed(tx);
  }
}
