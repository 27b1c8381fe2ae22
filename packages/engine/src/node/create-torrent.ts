// Builds a .torrent (v1, v2 or hybrid) from a file or directory on disk; the infohash-deciding
// rules live in ../torrent-builder.ts, shared with the browser. Each file is read once: the same
// pass feeds the v1 piece hashes, the v2 block hashes and the file's whole SHA-256 (its content id).

import { createHash, type Hash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Metainfo } from '../types.ts';
import { defaultPieceLength } from '../metainfo/piece-length.ts';
import { BLOCK_SIZE, concatHashes } from '../hashing/merkle.ts';
import {
  buildTorrent,
  buildTorrentFromLeaves,
  checkPieceLength,
  sortByPath,
  sortByTree,
  type TorrentFieldOptions,
} from '../metainfo/torrent-builder.ts';

export type CreateTorrentOptions = TorrentFieldOptions;

/** One file of the new torrent (pad files aside), with the SHA-256 of its bytes. */
export interface CreatedFile {
  path: string[];
  length: number;
  sha256: Uint8Array;
}

interface SourceFile {
  abs: string;
  path: string[];
  length: number;
  /** Owner-executable: v2 and hybrid torrents mark it (attr 'x') as libtorrent does. */
  executable: boolean;
}

const CHUNK = 4 * 1024 * 1024;

export async function createTorrent(
  path: string,
  opts: CreateTorrentOptions = {},
): Promise<{ torrent: Uint8Array; metainfo: Metainfo; files: CreatedFile[] }> {
  const version = opts.version ?? 'v1';
  const root = resolve(path);
  const name = basename(root);
  const rootStat = await stat(root);
  const multiFile = rootStat.isDirectory();
  let files: SourceFile[];
  if (multiFile) {
    const found = await walk(root, []);
    // v1 follows mktorrent's order; v2 and hybrid the file tree's (it is a dictionary).
    files = version === 'v1' ? sortByPath(found) : sortByTree(found);
    if (files.length === 0) throw new Error(`cannot create a torrent from an empty directory: ${path}`);
  } else if (rootStat.isFile()) {
    files = [{ abs: root, path: [name], length: rootStat.size, executable: isExecutable(rootStat.mode) }];
  } else {
    throw new Error(`not a regular file or directory: ${path}`);
  }

  const total = files.reduce((n, f) => n + f.length, 0);
  const pieceLength = checkPieceLength(opts.pieceLength ?? defaultPieceLength(total));
  const hashed = await hashFiles(files, pieceLength, version, opts.onProgress);
  const created = files.map((f, i) => ({ path: f.path, length: f.length, sha256: hashed.sha256[i]! }));
  if (version === 'v1') return { ...buildTorrent({ name, multiFile, files, pieceLength, pieces: hashed.pieces! }, opts), files: created };

  const leafFiles = files.map((f, i) => ({ path: f.path, length: f.length, leaves: hashed.leaves[i]!, attr: f.executable ? 'x' : undefined }));
  return { ...buildTorrentFromLeaves({ name, multiFile, files: leafFiles, pieceLength, pieces: hashed.pieces }, opts), files: created };
}

export { defaultPieceLength } from '../metainfo/piece-length.ts';

// Regular files only: symlinks could point outside the tree or loop.
async function walk(dir: string, prefix: string[]): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    const path = [...prefix, entry.name];
    if (entry.isDirectory()) out.push(...(await walk(abs, path)));
    else if (entry.isFile()) {
      const s = await stat(abs);
      out.push({ abs, path, length: s.size, executable: isExecutable(s.mode) });
    }
  }
  return out;
}

const isExecutable = (mode: number) => (mode & 0o100) !== 0;

/** v1 pieces run across file boundaries, so one SHA-1 state carries over from file to file; a
 *  hybrid's pad files are zeros fed to it between files. */
class V1Pieces {
  readonly out: Uint8Array;
  private hash = createHash('sha1');
  private inPiece = 0;
  private piece = 0;
  private readonly pieceLength: number;

  constructor(pieceCount: number, pieceLength: number) {
    this.out = new Uint8Array(pieceCount * 20);
    this.pieceLength = pieceLength;
  }

  update(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      const take = Math.min(this.pieceLength - this.inPiece, data.length - off);
      this.hash.update(data.subarray(off, off + take));
      this.inPiece += take;
      off += take;
      if (this.inPiece === this.pieceLength) this.finishPiece();
    }
  }

  /** Zeros up to the next piece boundary (BEP 47 padding), unless already on one. */
  pad(zeros: Uint8Array): void {
    let gap = this.inPiece === 0 ? 0 : this.pieceLength - this.inPiece;
    while (gap > 0) {
      const n = Math.min(gap, zeros.length);
      this.update(zeros.subarray(0, n));
      gap -= n;
    }
  }

  finish(): Uint8Array {
    if (this.inPiece > 0) this.finishPiece();
    return this.out;
  }

  private finishPiece(): void {
    this.out.set(this.hash.digest(), this.piece * 20);
    this.piece++;
    this.hash = createHash('sha1');
    this.inPiece = 0;
  }
}

/** 16 KiB block hashes of one file, whatever sizes its reads come in. */
class Leaves {
  private readonly hashes: Uint8Array[] = [];
  private block: Hash = createHash('sha256');
  private inBlock = 0;

  update(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      const take = Math.min(BLOCK_SIZE - this.inBlock, data.length - off);
      this.block.update(data.subarray(off, off + take));
      this.inBlock += take;
      off += take;
      if (this.inBlock === BLOCK_SIZE) this.finishBlock();
    }
  }

  finish(): Uint8Array {
    if (this.inBlock > 0) this.finishBlock();
    return concatHashes(this.hashes);
  }

  private finishBlock(): void {
    this.hashes.push(this.block.digest());
    this.block = createHash('sha256');
    this.inBlock = 0;
  }
}

async function hashFiles(
  files: SourceFile[],
  pieceLength: number,
  version: 'v1' | 'v2' | 'hybrid',
  onProgress?: (hashed: number, total: number) => void,
): Promise<{ pieces?: Uint8Array; leaves: Uint8Array[]; sha256: Uint8Array[] }> {
  const total = files.reduce((n, f) => n + f.length, 0);
  const hybrid = version === 'hybrid';
  // With several files, a hybrid's v1 stream pads every non-empty file to a piece boundary.
  const padded = hybrid && files.length > 1 ? files.reduce((n, f) => n + Math.ceil(f.length / pieceLength) * pieceLength, 0) : total;
  const v1 = version === 'v2' ? undefined : new V1Pieces(Math.ceil(padded / pieceLength), pieceLength);
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(total, 1)));
  const zeros = hybrid ? new Uint8Array(Math.min(pieceLength, CHUNK)) : new Uint8Array(0);
  const leaves: Uint8Array[] = [];
  const sha256: Uint8Array[] = [];
  let hashed = 0;

  for (const file of files) {
    const whole = createHash('sha256');
    const blocks = version === 'v1' ? undefined : new Leaves();
    if (file.length > 0) {
      const fh = await open(file.abs, 'r');
      try {
        let left = file.length;
        while (left > 0) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), null);
          if (bytesRead === 0) throw new Error(`${file.abs} shrank while it was being hashed`);
          const data = buf.subarray(0, bytesRead);
          v1?.update(data);
          blocks?.update(data);
          whole.update(data);
          left -= bytesRead;
          hashed += bytesRead;
          onProgress?.(hashed, total);
        }
      } finally {
        await fh.close();
      }
      if (hybrid && files.length > 1) v1!.pad(zeros);
    }
    leaves.push(blocks?.finish() ?? new Uint8Array(0));
    sha256.push(new Uint8Array(whole.digest()));
  }
  return { pieces: v1?.finish(), leaves, sha256 };
}
