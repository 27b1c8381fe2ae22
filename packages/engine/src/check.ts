// Which pieces are already on disk. With resume data nothing is hashed: pieces are trusted unless
// their files vanished or shrank. Without it, every piece whose bytes exist is read and verified.

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
  if (resumeHave) {
    const have = new Bitfield(meta.pieceCount, resumeHave);
    for (let i = 0; i < meta.pieceCount; i++) if (have.get(i) && !present(i)) have.set(i, false);
    return { have, hashed: 0 };
  }

  const have = new Bitfield(meta.pieceCount);
  const todo: number[] = [];
  for (let i = 0; i < meta.pieceCount; i++) if (present(i)) todo.push(i);
  let next = 0;
  let checked = 0;
  const worker = async () => {
    while (next < todo.length && !opts.isCancelled?.()) {
      const index = todo[next++]!;
      try {
        const data = await storage.readPiece(index);
        const { digest } = await hasher.sha1(data);
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
