// The part of making a torrent that decides its infohash, shared by Node (files on disk) and the
// browser (File objects): file order, piece length rules and the exact info dict. Only the keys
// mktorrent and libtorrent write (files|length, name, piece length, pieces, private only when set)
// go into `info`, so the same content gives the same infohash in every tool. v2 and hybrid info
// dicts (BEP 52) follow libtorrent 2.0's byte for byte: `file tree`, `meta version` 2, and for a
// hybrid the v1 fields with `.pad/N` files (attr `p`) after each file not ending on a piece boundary.

import { encode, type BValue } from '../encoding/bencode.ts';
import { encodeTorrent, MAX_PIECE_LENGTH, parseInfoDict } from './metainfo.ts';
import { checkComponent } from './metainfo-checks.ts';
import { checkV2PieceLength, v2Layout } from './metainfo-v2.ts';
import { pieceLayerFromLeaves, rootFromLeaves } from '../hashing/merkle.ts';
import { toHex } from '../encoding/hex.ts';
import type { Metainfo } from '../types.ts';

export type TorrentVersion = 'v1' | 'v2' | 'hybrid';

export interface TorrentFieldOptions {
  /** BEP 52: 'v1' (default), 'v2' only, or 'hybrid' (both, one set of files). */
  version?: TorrentVersion;
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

/** The file tree's order (v2, hybrid): each path compared component by component as bytes, so a
 *  folder "a" comes before a file "a.txt", as the keys of nested bencoded dictionaries sort. */
export function sortByTree<T extends { path: string[] }>(files: T[]): T[] {
  const enc = new TextEncoder();
  const keys = new Map(files.map((f) => [f, f.path.map((c) => enc.encode(c))]));
  return files.sort((a, b) => {
    const ka = keys.get(a)!;
    const kb = keys.get(b)!;
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = compareBytes(ka[i]!, kb[i]!);
      if (c !== 0) return c;
    }
    return ka.length - kb.length;
  });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** What Cascade writes, it writes clean: a downloaded .torrent gets its names cleaned as libtorrent
 *  cleans them (metainfo-paths.ts), but a name that would need it (a separator, '..', a control
 *  character) is refused when making one, so every client reads the same names. */
function checkNames(shape: { name: string; files: { path: string[] }[] }): void {
  checkComponent(shape.name, 'name');
  shape.files.forEach((f, i) => {
    for (const c of f.path) checkComponent(c, 'path', i);
  });
}

/** Encodes the info dict and the .torrent around it. */
export function buildTorrent(shape: {
  name: string;
  multiFile: boolean;
  files: { path: string[]; length: number }[];
  pieceLength: number;
  pieces: Uint8Array;
}, opts: TorrentFieldOptions): { torrent: Uint8Array; metainfo: Metainfo } {
  checkNames(shape);
  const total = shape.files.reduce((n, f) => n + f.length, 0);
  const info = {
    ...(shape.multiFile ? { files: shape.files.map((f) => ({ length: f.length, path: f.path })) } : { length: total }),
    name: shape.name,
    'piece length': shape.pieceLength,
    pieces: shape.pieces,
    private: opts.private ? 1 : undefined,
    ...checkExtraInfo(opts.extraInfo),
  };
  return finish(info, opts);
}

function finish(info: Record<string, unknown>, opts: TorrentFieldOptions, pieceLayers?: Map<string, Uint8Array>): { torrent: Uint8Array; metainfo: Metainfo } {
  const metainfo = parseInfoDict(encode(info), {
    announce: (opts.announce ?? []).filter((u) => u !== '').map((u) => [u]),
    urlList: opts.webSeeds ?? [],
    comment: opts.comment,
    createdBy: opts.createdBy ?? 'Cascade',
    creationDate: Math.floor(Date.now() / 1000),
    pieceLayers,
  });
  return { torrent: encodeTorrent(metainfo), metainfo };
}

/** A v2 or hybrid torrent: files in tree order with their pieces roots (none for empty files),
 *  the piece layers of files longer than a piece, and for a hybrid the v1 piece hashes over the
 *  padded layout. */
export function buildTorrentV2(shape: {
  name: string;
  multiFile: boolean;
  /** `attr` 'x' marks an executable file, as libtorrent writes it (in the tree and the v1 fields). */
  files: { path: string[]; length: number; piecesRoot?: Uint8Array; attr?: string }[];
  pieceLength: number;
  pieceLayers: Map<string, Uint8Array>;
  /** SHA-1 piece hashes: present for a hybrid. */
  pieces?: Uint8Array;
}, opts: TorrentFieldOptions): { torrent: Uint8Array; metainfo: Metainfo } {
  checkV2PieceLength(shape.pieceLength);
  checkNames(shape);
  // Nested dictionaries; encode() sorts the keys and drops the undefined fields.
  const tree: Record<string, unknown> = {};
  for (const f of shape.files) {
    let dir = tree;
    for (const c of f.path) dir = (dir[c] ??= {}) as Record<string, unknown>;
    dir[''] = { attr: f.attr, length: f.length, 'pieces root': f.piecesRoot };
  }
  const attrs = new Map(shape.files.map((f) => [f.path.join('/'), f.attr]));
  const v1 = shape.pieces
    ? shape.multiFile
      ? {
          files: v2Layout(shape.files, shape.pieceLength).map((f) => ({ attr: f.pad ? 'p' : attrs.get(f.path.join('/')), length: f.length, path: f.path })),
          pieces: shape.pieces,
        }
      : { attr: shape.files[0]!.attr, length: shape.files[0]!.length, pieces: shape.pieces }
    : {};
  const info = {
    'file tree': tree,
    'meta version': 2,
    name: shape.name,
    'piece length': shape.pieceLength,
    ...v1,
    private: opts.private ? 1 : undefined,
    ...checkExtraInfo(opts.extraInfo),
  };
  return finish(info, opts, shape.pieceLayers);
}

/** A v2 or hybrid torrent from each file's 16 KiB leaf hashes (Node and browser makers alike):
 *  pieces roots, and the piece layers of files longer than a piece. */
export function buildTorrentFromLeaves(shape: {
  name: string;
  multiFile: boolean;
  files: { path: string[]; length: number; leaves: Uint8Array; attr?: string }[];
  pieceLength: number;
  pieces?: Uint8Array;
}, opts: TorrentFieldOptions): { torrent: Uint8Array; metainfo: Metainfo } {
  const pieceLayers = new Map<string, Uint8Array>();
  const files = shape.files.map((f) => {
    if (f.length === 0) return { path: f.path, length: 0, attr: f.attr };
    const piecesRoot = rootFromLeaves(f.leaves);
    if (f.length > shape.pieceLength) pieceLayers.set(toHex(piecesRoot), pieceLayerFromLeaves(f.leaves, shape.pieceLength));
    return { path: f.path, length: f.length, piecesRoot, attr: f.attr };
  });
  return buildTorrentV2({ ...shape, files, pieceLayers }, opts);
}

const RESERVED_INFO_KEYS = new Set(['files', 'length', 'name', 'piece length', 'pieces', 'private', 'file tree', 'meta version', 'attr']);

function checkExtraInfo(extra: Record<string, BValue> | undefined): Record<string, BValue> {
  for (const key of Object.keys(extra ?? {})) {
    if (RESERVED_INFO_KEYS.has(key)) throw new Error(`extraInfo may not set the info dictionary's "${key}"`);
  }
  return extra ?? {};
}
