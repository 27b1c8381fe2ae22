// The part of making a torrent that decides its infohash, shared by Node (files on disk) and the
// browser (File objects): file order, piece length rules and the exact info dict. Only the keys
// mktorrent and libtorrent write (files|length, name, piece length, pieces, private only when set)
// go into `info`, so the same content gives the same infohash in every tool.

import { encode, type BValue } from './bencode.ts';
import { encodeTorrent, MAX_PIECE_LENGTH, parseInfoDict } from './metainfo.ts';
import type { Metainfo } from './types.ts';

export interface TorrentFieldOptions {
  /** One tracker each; the first becomes `announce`, and with more than one each is its own tier. */
  announce?: string[];
  /** Power of two, 1 KiB … 256 MiB; default follows libtorrent's size table. */
  pieceLength?: number;
  private?: boolean;
  webSeeds?: string[];
  comment?: string;
  createdBy?: string;
  /** More keys for the info dictionary (an extension's, e.g. `cascade-private`): the infohash covers
   *  them. They may not replace a BEP 3 key. */
  extraInfo?: Record<string, BValue>;
  onProgress?(hashedBytes: number, totalBytes: number): void;
}

export function checkPieceLength(n: number): number {
  if (!Number.isInteger(n) || n < 1024 || n > MAX_PIECE_LENGTH || (n & (n - 1)) !== 0) {
    throw new Error(`piece length must be a power of two between 1 KiB and 256 MiB, got ${n}`);
  }
  return n;
}

/** mktorrent's order: the whole relative path compared as bytes ("a.txt" before "a/b"). libtorrent's
 *  v1 output follows readdir order, so mktorrent is the reproducible reference. */
export function sortByPath<T extends { path: string[] }>(files: T[]): T[] {
  const enc = new TextEncoder();
  const keys = new Map(files.map((f) => [f, enc.encode(f.path.join('/'))]));
  return files.sort((a, b) => compareBytes(keys.get(a)!, keys.get(b)!));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Encodes the info dict and the .torrent around it. Re-parsing our own output applies the same
 *  name/path validation as for downloaded torrents. */
export function buildTorrent(shape: {
  name: string;
  multiFile: boolean;
  files: { path: string[]; length: number }[];
  pieceLength: number;
  pieces: Uint8Array;
}, opts: TorrentFieldOptions): { torrent: Uint8Array; metainfo: Metainfo } {
  const total = shape.files.reduce((n, f) => n + f.length, 0);
  const info = {
    ...(shape.multiFile ? { files: shape.files.map((f) => ({ length: f.length, path: f.path })) } : { length: total }),
    name: shape.name,
    'piece length': shape.pieceLength,
    pieces: shape.pieces,
    private: opts.private ? 1 : undefined,
    ...checkExtraInfo(opts.extraInfo),
  };
  const metainfo = parseInfoDict(encode(info), {
    announce: (opts.announce ?? []).filter((u) => u !== '').map((u) => [u]),
    urlList: opts.webSeeds ?? [],
    comment: opts.comment,
    createdBy: opts.createdBy ?? 'Cascade',
    creationDate: Math.floor(Date.now() / 1000),
  });
  return { torrent: encodeTorrent(metainfo), metainfo };
}

const BEP3_INFO_KEYS = new Set(['files', 'length', 'name', 'piece length', 'pieces', 'private']);

function checkExtraInfo(extra: Record<string, BValue> | undefined): Record<string, BValue> {
  for (const key of Object.keys(extra ?? {})) {
    if (BEP3_INFO_KEYS.has(key)) throw new Error(`extraInfo may not set the info dictionary's "${key}"`);
  }
  return extra ?? {};
}
