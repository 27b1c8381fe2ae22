// Pieces ↔ files on disk. A piece may span several files; each segment is one positional
// write, so a 1 MiB piece in one file is one syscall. File handles stay open while the torrent has
// peers or downloads; a torrent that goes idle closes its storage (reads open the files again).

import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileStat, Storage } from '../platform.ts';
import type { Metainfo } from '../types.ts';
import { pieceLengthOf, pieceSegments } from '../pieces/piece-map.ts';
import { DIRECT_ALIGN, isDirectAligned, O_DIRECT } from './direct-io.ts';
import { makeDirs } from './make-dirs.ts';
import { createMode, linkText, makeLink } from './file-attributes.ts';
import { eachLimited, listedFiles } from './file-listing.ts';

/** File system calls (stat, creating empty files) in flight at once for per-file work. */
const FS_CONCURRENCY = 32;
/** Past this many files, fileStats lists their folders first (see listFolders). */
const LIST_FOLDERS_FROM = 64;

const NO_HANDLES: ReadonlyMap<number, Promise<fs.FileHandle>> = new Map();

export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

export function torrentRoot(meta: Metainfo, savePath: string): string {
  return path.join(savePath, meta.name);
}

/** The torrent's file (single-file) or folder (multi-file), checked to stay inside savePath. */
function rootOf(meta: Metainfo, savePath: string): string {
  const base = path.resolve(savePath);
  const root = path.resolve(base, meta.name);
  // Metainfo parsing rejects traversal already; this is the last line of defence before the disk.
  if (!root.startsWith(base + path.sep)) throw new StorageError(`file path escapes the download folder: ${meta.name}`);
  return root;
}

export function filePaths(meta: Metainfo, savePath: string): string[] {
  const pathOf = filePathOf(meta, savePath);
  return meta.files.map((_, i) => pathOf(i));
}

/** Where file `i` of `meta` lives, made on demand: 100,000 absolute paths kept cost 10 MB. */
function filePathOf(meta: Metainfo, savePath: string): (i: number) => string {
  const root = rootOf(meta, savePath);
  return (i) => fileIn(meta, root, i);
}

function fileIn(meta: Metainfo, root: string, i: number): string {
  if (!meta.multiFile) return root;
  // Components are cleaned (no separators, NUL, '.' or '..': metainfo/metainfo-paths.ts), so joining them is enough:
  // path.resolve per file cost 700 bytes of garbage each, 70 MB for 100,000 files.
  const parts = meta.files[i]!.path;
  for (const c of parts) if (c === '..' || c === '.' || c.includes('/') || c.includes(path.sep)) {
    throw new StorageError(`file path escapes the download folder: ${parts.join('/')}`);
  }
  return root + path.sep + parts.join(path.sep);
}

export class FsStorage implements Storage {
  private meta: Metainfo;
  private root: string;
  /** Open files (none while the torrent is idle: its storage is closed then). Shared empties until
   *  the first open, so 10,000 idle torrents hold no maps. */
  private handles = NO_HANDLES as Map<number, Promise<fs.FileHandle>>;
  /** Second handles opened with O_DIRECT, for aligned piece writes. */
  private directHandles = NO_HANDLES as Map<number, Promise<fs.FileHandle>>;
  private direct = O_DIRECT !== undefined;
  /** Bytes written past the page cache so far (diagnostics and tests). */
  directBytes = 0;
  private emptyFiles: Promise<unknown> | undefined;
  private savePath: string;

  constructor(meta: Metainfo, savePath: string) {
    this.meta = meta;
    this.savePath = savePath;
    this.root = rootOf(meta, savePath);
  }

  /** A method, not a closure made per torrent: 10,000 idle storages hold no function each. */
  private fileAt(file: number): string {
    return fileIn(this.meta, this.root, file);
  }

  private handle(file: number, create: boolean): Promise<fs.FileHandle> {
    if (this.retired) return Promise.reject(new StorageError('the torrent moved or was removed: its old storage takes no more writes'));
    let h = this.handles.get(file);
    if (!h) {
      const p = this.fileAt(file);
      h = (async () => {
        try {
          return await fs.open(p, 'r+');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw err;
          await makeDirs(path.dirname(p));
          return fs.open(p, 'w+', createMode(this.meta.files[file]!));
        }
      })();
      if (this.handles === NO_HANDLES) this.handles = new Map();
      this.handles.set(file, h);
      h.catch(() => this.handles.get(file) === h && this.handles.delete(file));
    }
    return h;
  }

  async writePiece(index: number, data: Uint8Array): Promise<void> {
    // No piece ever touches a zero-length file, so the first write makes them (as libtorrent does),
    // a few at a time and closed at once: 100,000 of them must not hold 100,000 descriptors.
    this.emptyFiles ??= this.makeEmptyFiles().catch((err: unknown) => {
      this.emptyFiles = undefined; // a disk made writable again gets another try
      throw err;
    });
    const writes: Promise<unknown>[] = [this.emptyFiles];
    for (const s of pieceSegments(this.meta, index)) {
      if (this.meta.files[s.file]!.pad) continue;
      writes.push(this.writeSegment(s.file, data.subarray(s.pieceOffset, s.pieceOffset + s.length), s.fileOffset));
    }
    try {
      await Promise.all(writes);
    } catch (err) {
      throw new StorageError(`cannot write piece ${index}: ${(err as Error).message}`);
    }
  }

  private async makeEmptyFiles(): Promise<void> {
    const empty = this.meta.files.flatMap((f, i) => (f.length === 0 && !f.pad && !this.handles.has(i) ? [i] : []));
    const made = new Map<string, Promise<void>>(); // each folder once, not once per file
    await eachLimited(empty, FS_CONCURRENCY, async (i) => {
      const p = this.fileAt(i);
      const dir = path.dirname(p);
      let making = made.get(dir);
      if (!making) made.set(dir, (making = makeDirs(dir)));
      await making;
      const f = this.meta.files[i]!;
      if (f.symlink) {
        // A link (BEP 47) only inside the torrent's folder; one that points at itself is nothing.
        const text = this.meta.multiFile ? linkText(f, this.root, p) : undefined;
        if (text !== undefined) await makeLink(text, p);
        return;
      }
      await (await fs.open(p, 'a', createMode(f))).close();
    });
  }

  /**
   * The page-aligned middle of a segment goes out with O_DIRECT when its memory is aligned; only
   * the edges go through the page cache. Every aligned write waits its turn for O_DIRECT, however
   * many are queued: a disk slower than the network is held back by the torrent's write backlog
   * (it stops requesting), not by the page cache. Sending the overflow there (past 8 queued, until
   * issue 40) fed on itself: a buffered write costs ~2.6 CPU-s per GiB on this kind of VM (fresh
   * page-cache pages fault on the host) against ~0.15 direct, and holds the inode lock and a libuv
   * thread ~6 ms per MiB, so the direct writes behind it queued past the limit in turn; under load
   * a third to half of a download went that way, 0.4–1.1 CPU-s per GiB.
   */
  private async writeSegment(file: number, data: Uint8Array, position: number): Promise<void> {
    const h = await this.handle(file, true);
    const start = (DIRECT_ALIGN - (position % DIRECT_ALIGN)) % DIRECT_ALIGN;
    const end = start + Math.floor(Math.max(0, data.length - start) / DIRECT_ALIGN) * DIRECT_ALIGN;
    if (!this.direct || end === start || !isDirectAligned(data.subarray(start))) return writeFully(h, data, position);
    await Promise.all([
      start > 0 ? writeFully(h, data.subarray(0, start), position) : undefined,
      end < data.length ? writeFully(h, data.subarray(end), position + end) : undefined,
      this.writeDirect(file, data.subarray(start, end), position + start).then((done) => {
        if (!done) return writeFully(h, data.subarray(start, end), position + start);
      }),
    ]);
  }

  /** False when the bytes must go through the page cache after all (nothing was lost). */
  private async writeDirect(file: number, data: Uint8Array, position: number): Promise<boolean> {
    if (this.retired) return false; // handle() refuses it then
    let opening = this.directHandles.get(file);
    if (!opening) {
      if (this.directHandles === NO_HANDLES) this.directHandles = new Map();
      this.directHandles.set(file, (opening = fs.open(this.fileAt(file), fsConstants.O_RDWR | O_DIRECT!)));
    }
    let h: fs.FileHandle;
    try {
      h = await opening;
    } catch {
      // Not every filesystem opens with O_DIRECT: the page cache it is.
      this.direct = false;
      return false;
    }
    try {
      await writeFully(h, data, position);
      this.directBytes += data.length;
      return true;
    } catch (err) {
      // EINVAL: this filesystem (or a short write) breaks the alignment rules; stop trying.
      // Other errors (ENOSPC, EIO) are real and go up.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'EOPNOTSUPP') throw err;
      this.direct = false;
      return false;
    }
  }

  async readPiece(index: number, into?: Uint8Array): Promise<Uint8Array> {
    const length = pieceLengthOf(this.meta, index);
    return this.readInto(index, into && into.length === length ? into : Buffer.allocUnsafeSlow(length));
  }

  async readInto(index: number, out: Uint8Array): Promise<Uint8Array> {
    await Promise.all(pieceSegments(this.meta, index).map(async (s) => {
      const dest = out.subarray(s.pieceOffset, s.pieceOffset + s.length);
      if (this.meta.files[s.file]!.pad) return dest.fill(0);
      const h = await this.handle(s.file, false);
      let done = 0;
      while (done < s.length) {
        const { bytesRead } = await h.read(dest, done, s.length - done, s.fileOffset + done);
        if (bytesRead === 0) throw new StorageError(`file ${this.fileAt(s.file)} is shorter than expected`);
        done += bytesRead;
      }
    }));
    return out;
  }

  async fileStats(files?: readonly number[]): Promise<(FileStat | undefined)[]> {
    const which = files ?? this.meta.files.map((_, i) => i);
    const out: (FileStat | undefined)[] = new Array(which.length).fill(undefined);
    const listed = this.meta.multiFile && which.length > LIST_FOLDERS_FROM ? await listedFiles(this.meta, this.root, which, FS_CONCURRENCY) : undefined;
    const todo: number[] = [];
    for (let k = 0; k < which.length; k++) if (!listed || listed[k]) todo.push(k);
    // A few at a time: 100,000 stat calls in flight at once held 400 MB of native memory.
    await eachLimited(todo, FS_CONCURRENCY, async (k) => {
      try {
        // A link is the link, not what it points at: it holds no bytes of the torrent.
        const link = this.meta.files[which[k]!]!.symlink !== undefined;
        const st = await (link ? fs.lstat : fs.stat)(this.fileAt(which[k]!));
        out[k] = { length: link && st.isSymbolicLink() ? 0 : st.size, mtimeMs: Math.floor(st.mtimeMs) };
      } catch {
        // absent (or unreadable): undefined
      }
    });
    return out;
  }

  async close(): Promise<void> {
    const hs = [...this.handles.values(), ...this.directHandles.values()];
    this.handles = NO_HANDLES as Map<number, Promise<fs.FileHandle>>;
    this.directHandles = NO_HANDLES as Map<number, Promise<fs.FileHandle>>;
    await Promise.all(hs.map((h) => h.then((x) => x.close(), () => {})));
  }

  /** Set once the torrent let go of this storage (moved, removed): every open is refused. */
  private retired = false;

  async retire(): Promise<void> {
    this.retired = true;
    await this.close();
  }

  async destroy(): Promise<void> {
    await this.retire();
    // Only files: a directory where one of our files would be belongs to someone else (another
    // torrent's folder of the same name), and deleting this torrent must neither remove it nor fail.
    await Promise.all(filePaths(this.meta, this.savePath).map(async (p) => {
      const st = await fs.lstat(p).catch(() => undefined);
      if (st && !st.isDirectory()) await fs.rm(p, { force: true });
    }));
    if (this.meta.multiFile) await removeEmptyDirs(path.join(this.savePath, this.meta.name));
  }
}

async function writeFully(h: fs.FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await h.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function removeEmptyDirs(dir: string): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeEmptyDirs(path.join(dir, e.name));
  try {
    await fs.rmdir(dir);
  } catch {
    // not empty: files that are not ours stay
  }
}
