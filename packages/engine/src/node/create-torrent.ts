// Builds a v1 .torrent from a file or directory on disk; the infohash-deciding rules live in
// ../torrent-builder.ts, shared with the browser.

import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Metainfo } from '../types.ts';
import { defaultPieceLength } from '../piece-length.ts';
import { buildTorrent, checkPieceLength, sortByPath, type TorrentFieldOptions } from '../torrent-builder.ts';

export type CreateTorrentOptions = TorrentFieldOptions;

interface SourceFile {
  abs: string;
  path: string[];
  length: number;
}

const CHUNK = 4 * 1024 * 1024;

export async function createTorrent(
  path: string,
  opts: CreateTorrentOptions = {},
): Promise<{ torrent: Uint8Array; metainfo: Metainfo }> {
  const root = resolve(path);
  const name = basename(root);
  const rootStat = await stat(root);
  const multiFile = rootStat.isDirectory();
  let files: SourceFile[];
  if (multiFile) {
    files = sortByPath(await walk(root, []));
    if (files.length === 0) throw new Error(`cannot create a torrent from an empty directory: ${path}`);
  } else if (rootStat.isFile()) {
    files = [{ abs: root, path: [name], length: rootStat.size }];
  } else {
    throw new Error(`not a regular file or directory: ${path}`);
  }

  const total = files.reduce((n, f) => n + f.length, 0);
  const pieceLength = checkPieceLength(opts.pieceLength ?? defaultPieceLength(total));
  const pieces = await hashPieces(files, pieceLength, total, opts.onProgress);
  return buildTorrent({ name, multiFile, files, pieceLength, pieces }, opts);
}

export { defaultPieceLength } from '../piece-length.ts';

// Regular files only: symlinks could point outside the tree or loop.
async function walk(dir: string, prefix: string[]): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    const path = [...prefix, entry.name];
    if (entry.isDirectory()) out.push(...(await walk(abs, path)));
    else if (entry.isFile()) out.push({ abs, path, length: (await stat(abs)).size });
  }
  return out;
}

/** Pieces run across file boundaries, so one hash state carries over from file to file. */
async function hashPieces(
  files: SourceFile[],
  pieceLength: number,
  total: number,
  onProgress?: (hashed: number, total: number) => void,
): Promise<Uint8Array> {
  const out = new Uint8Array(Math.ceil(total / pieceLength) * 20);
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(total, 1)));
  let hash = createHash('sha1');
  let inPiece = 0;
  let piece = 0;
  let hashed = 0;

  const finishPiece = () => {
    out.set(hash.digest(), piece * 20);
    piece++;
    hash = createHash('sha1');
    inPiece = 0;
  };

  for (const file of files) {
    if (file.length === 0) continue;
    const fh = await open(file.abs, 'r');
    try {
      let left = file.length;
      while (left > 0) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), null);
        if (bytesRead === 0) throw new Error(`${file.abs} shrank while it was being hashed`);
        let off = 0;
        while (off < bytesRead) {
          const take = Math.min(pieceLength - inPiece, bytesRead - off);
          hash.update(buf.subarray(off, off + take));
          inPiece += take;
          off += take;
          if (inPiece === pieceLength) finishPiece();
        }
        left -= bytesRead;
        hashed += bytesRead;
        onProgress?.(hashed, total);
      }
    } finally {
      await fh.close();
    }
  }
  if (inPiece > 0) finishPiece();
  return out;
}
