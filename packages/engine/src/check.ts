// Which pieces are already on disk. With resume data, listed pieces are trusted unless their files
// vanished or shrank, and only unlisted pieces in files changed since the save are hashed. Without
// it, every piece whose bytes exist is read and verified.

import { Bitfield } from './bitfield.ts';
import type { ResumeData } from './api.ts';
import type { Hasher, Storage } from './platform.ts';
import { pieceSegments } from './piece-map.ts';
import type { Metainfo } from './types.ts';

const PARALLEL_READS = 4;

export interface CheckOptions {
  resume?: ResumeData;
  onProgress?: (checked: number, total: number) => void;
  isCancelled?: () => boolean;
}

export async function checkPieces(meta: Metainfo, storage: Storage, hasher: Hasher, opts: CheckOptions = {}): Promise<{ have: Bitfield; hashed: number }> {
  const stats = await storage.fileStats();
  const present = (index: number) =>
    pieceSegments(meta, index).every((s) => meta.files[s.file]!.pad || (stats[s.file]?.length ?? -1) >= s.fileOffset + s.length);

  const resumeHave = opts.resume && opts.resume.have.length === Math.ceil(meta.pieceCount / 8) ? opts.resume.have : undefined;
  const todo: number[] = [];
  let have = new Bitfield(meta.pieceCount);
  if (resumeHave) {
    have = new Bitfield(meta.pieceCount, resumeHave);
    for (let i = 0; i < meta.pieceCount; i++) if (have.get(i) && !present(i)) have.set(i, false);
    // Files written to since the resume data was saved (a crash between two saves) may hold
    // pieces verified after it: hash those, and only those, instead of fetching them again.
    const saved = opts.resume!.files;
    const changed = meta.files.map((_, f) => {
      const a = saved?.[f], b = stats[f];
      return !a || !b || a.length !== b.length || a.mtimeMs !== b.mtimeMs;
    });
    for (let i = 0; i < meta.pieceCount; i++) {
      if (have.get(i) || !present(i)) continue;
      if (pieceSegments(meta, i).some((s) => changed[s.file])) todo.push(i);
    }
  } else {
    for (let i = 0; i < meta.pieceCount; i++) if (present(i)) todo.push(i);
  }
  let next = 0;
  let checked = 0;
  const worker = async () => {
    // One buffer per reader, reused: checking 8 GiB must not churn through 8 GiB of allocations.
    let buffer: Uint8Array | undefined = new Uint8Array(meta.pieceLength);
    while (next < todo.length && !opts.isCancelled?.()) {
      const index = todo[next++]!;
      try {
        const into: Uint8Array | undefined = buffer && index < meta.pieceCount - 1 ? buffer : undefined;
        const data = await storage.readPiece(index, into);
        const result = await hasher.sha1(data);
        if (into) buffer = result.data.length === meta.pieceLength ? result.data : undefined;
        const { digest } = result;
        if (equal20(digest, meta.pieceHashes, index * 20)) have.set(index);
      } catch {
        // unreadable piece: it simply isn't there
      }
      opts.onProgress?.(++checked, todo.length);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_READS }, worker));
  return { have, hashed: checked };
}

export function equal20(digest: Uint8Array, hashes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 20; i++) if (digest[i] !== hashes[offset + i]) return false;
  return true;
}
