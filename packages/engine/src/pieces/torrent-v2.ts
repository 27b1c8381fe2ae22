// BEP 52 piece verification for v2 and hybrid torrents. Every file starts on a piece boundary (a
// v2-only torrent's metainfo gets synthetic pad entries, so the v1 byte layout holds), so a piece
// holds the bytes of at most one file, maybe followed by padding that is no part of any tree. A
// piece is good when the merkle root of its blocks' SHA-256 leaves is the file's piece layer entry
// for it, or, for a file no longer than one piece, the file's pieces root.

import { equalBytes, toHex } from '../encoding/hex.ts';
import { BLOCK_SIZE, foldHashes, HASH_LENGTH, hashAt, leafCount, log2, pieceHashFromLeaves } from '../hashing/merkle.ts';
import type { HashRequest } from '../wire/protocol.ts';
import { pieceSegments } from './piece-map.ts';
import type { Hasher } from '../platform.ts';
import type { FileEntry, Metainfo } from '../types.ts';

export interface V2Piece {
  /** Index into meta.files. */
  fileIndex: number;
  file: FileEntry;
  /** The piece's number inside its file (0 = the file's first piece). */
  filePiece: number;
  /** Bytes of file data in the piece (the rest, if any, is padding). */
  dataLength: number;
}

export type V2Check = { ok: true } | { ok: false; leaves: Uint8Array } | { ok: 'unknown' };

/** True for torrents whose pieces are checked against merkle trees (v2-only and hybrid). */
export function hasV2(meta: Metainfo): boolean {
  return meta.version === 'v2' || meta.version === 'hybrid';
}

/** True when the torrent has SHA-1 piece hashes to check (v1 and hybrid). */
export function hasV1(meta: Metainfo): boolean {
  return meta.version !== 'v2';
}

/** Where piece `index` of a v2 or hybrid torrent lies in its file; undefined for a piece of padding only. */
export function locateV2(meta: Metainfo, index: number): V2Piece | undefined {
  for (const s of pieceSegments(meta, index)) {
    const file = meta.files[s.file]!;
    if (file.pad || !file.piecesRoot) continue;
    return { fileIndex: s.file, file, filePiece: Math.floor(s.fileOffset / meta.pieceLength), dataLength: s.length };
  }
  return undefined;
}

/** The hash piece `index` must have: its piece layer entry, or its file's pieces root for a file
 *  of one piece. Undefined while the file's piece layer is unknown (a torrent from a v2 magnet). */
export function expectedV2(meta: Metainfo, p: V2Piece): Uint8Array | undefined {
  if (p.file.length <= meta.pieceLength) return p.file.piecesRoot;
  const layer = meta.pieceLayers?.get(toHex(p.file.piecesRoot!));
  if (!layer || layer.length < (p.filePiece + 1) * HASH_LENGTH) return undefined;
  return hashAt(layer, p.filePiece);
}

/** The SHA-256 leaf of each 16 KiB block of the piece's file data, concatenated. */
export async function blockLeaves(hasher: Hasher, data: Uint8Array, dataLength: number): Promise<Uint8Array> {
  const offThread = hasher.blockLeaves?.(data, dataLength);
  if (offThread) return offThread;
  const blocks = Math.ceil(dataLength / BLOCK_SIZE);
  const digests = await Promise.all(
    Array.from({ length: blocks }, (_, b) => hasher.sha256(data.subarray(b * BLOCK_SIZE, Math.min(dataLength, (b + 1) * BLOCK_SIZE)))),
  );
  const out = new Uint8Array(blocks * HASH_LENGTH);
  digests.forEach((d, b) => out.set(d, b * HASH_LENGTH));
  return out;
}

/** Checks piece `index` (its bytes, padding included) against the torrent's merkle trees. A piece
 *  of padding only passes when it is zeros, as BEP 47 pads must be. */
export async function checkV2(meta: Metainfo, hasher: Hasher, index: number, data: Uint8Array): Promise<V2Check> {
  const p = locateV2(meta, index);
  if (!p) return data.every((b) => b === 0) ? { ok: true } : { ok: false, leaves: new Uint8Array(0) };
  const expected = expectedV2(meta, p);
  if (!expected) return { ok: 'unknown' };
  const leaves = await blockLeaves(hasher, data, p.dataLength);
  return equalBytes(pieceHashFromLeaves(leaves, p.file.length, meta.pieceLength), expected) ? { ok: true } : { ok: false, leaves };
}

/** The hash request for a piece's block hashes, proved up to its piece layer entry (or to the
 *  pieces root of a file of one piece); undefined when the piece is one block (its leaf is the
 *  hash we already trust). */
export function blockHashRequest(meta: Metainfo, p: V2Piece): HashRequest | undefined {
  const width = p.file.length <= meta.pieceLength ? leafCount(p.file.length) : meta.pieceLength / BLOCK_SIZE;
  if (width < 2) return undefined;
  return { piecesRoot: p.file.piecesRoot!, baseLayer: 0, index: p.filePiece * width, length: width, proofLayers: log2(width) - 1 };
}

/** True when `hashes` (answering `req`, no uncles) fold up to `expected`. */
export function provesPiece(req: HashRequest, hashes: Uint8Array, expected: Uint8Array): boolean {
  const top = foldHashes(req, hashes);
  return !!top && equalBytes(top.hash, expected);
}

/** Blocks whose leaf we computed differs from the true one. */
export function badBlocks(truth: Uint8Array, got: Uint8Array): number[] {
  const bad: number[] = [];
  for (let b = 0; b * HASH_LENGTH < got.length; b++) {
    if (!equalBytes(hashAt(truth, b), hashAt(got, b))) bad.push(b);
  }
  return bad;
}
