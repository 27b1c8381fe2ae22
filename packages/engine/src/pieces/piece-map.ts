// Where each piece's bytes live in the torrent's files.
import type { Metainfo } from '../types.ts';

export interface Segment {
  file: number;
  fileOffset: number;
  pieceOffset: number;
  length: number;
}

export function pieceLengthOf(meta: Metainfo, index: number): number {
  return index === meta.pieceCount - 1 ? meta.length - index * meta.pieceLength : meta.pieceLength;
}

export function pieceSegments(meta: Metainfo, index: number): Segment[] {
  const start = index * meta.pieceLength;
  const end = start + pieceLengthOf(meta, index);
  const out: Segment[] = [];
  const files = meta.files;
  // Binary search for the first file that ends after `start`.
  let lo = 0, hi = files.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (files[mid]!.offset + files[mid]!.length <= start) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < files.length; i++) {
    const f = files[i]!;
    if (f.offset >= end) break;
    const s = Math.max(start, f.offset);
    const e = Math.min(end, f.offset + f.length);
    if (e > s) out.push({ file: i, fileOffset: s - f.offset, pieceOffset: s - start, length: e - s });
  }
  return out;
}

/** Pieces touching any of the given files (used for file selection). */
export function piecesOfFiles(meta: Metainfo, files: number[]): Uint8Array {
  const wanted = new Uint8Array(meta.pieceCount);
  for (const i of files) {
    const f = meta.files[i];
    if (!f || f.length === 0 || f.pad) continue;
    const first = Math.floor(f.offset / meta.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / meta.pieceLength);
    for (let p = first; p <= last; p++) wanted[p] = 1;
  }
  return wanted;
}
