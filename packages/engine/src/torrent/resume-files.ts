// The size and mtime of each file as the resume data records them. Only files written since the
// last save are statted again: a torrent of 100,000 files would otherwise stat every one of them at
// each save (once a second while it downloads). A file is marked when a write to it has finished,
// so the mtime taken at the next save is never older than the data the saved bitfield claims.
// A file with a write under way is saved as changed (an mtime no file has): that write may already
// be on disk, and so in the mtime a stat reads, while its piece is not yet in the bitfield read just
// after (its completion not yet run). A restart trusted such a file and fetched the piece again
// (bench:crash: 'lost 4 of 4 verified pieces' with only transfers in flight).

import type { FileStat, Storage } from '../platform.ts';
import { pieceSegments } from '../pieces/piece-map.ts';
import type { Metainfo } from '../types.ts';

const ABSENT: FileStat = { length: 0, mtimeMs: 0 };

export class FileStatTracker {
  private readonly meta: Metainfo;
  private stats: (FileStat | undefined)[] | undefined;
  private written: Set<number> | undefined;
  /** Writes under way, per file. */
  private readonly inFlight = new Map<number, number>();

  constructor(meta: Metainfo) {
    this.meta = meta;
  }

  /** What a check just found on disk (nothing has been written since). */
  seed(stats: (FileStat | undefined)[]): void {
    this.stats = stats;
    this.written = undefined;
  }

  /** Piece `index` is being written. */
  writing(index: number): void {
    for (const s of pieceSegments(this.meta, index)) this.inFlight.set(s.file, (this.inFlight.get(s.file) ?? 0) + 1);
  }

  /** The write of piece `index` ended (on disk now, or failed). */
  wrote(index: number): void {
    for (const s of pieceSegments(this.meta, index)) {
      (this.written ??= new Set()).add(s.file);
      const n = (this.inFlight.get(s.file) ?? 0) - 1;
      if (n > 0) this.inFlight.set(s.file, n);
      else this.inFlight.delete(s.file);
    }
  }

  async current(storage: Storage): Promise<FileStat[]> {
    if (!this.stats) {
      this.written = undefined;
      this.stats = await storage.fileStats();
    } else if (this.written?.size) {
      const files = [...this.written];
      this.written = undefined;
      const fresh = await storage.fileStats(files);
      files.forEach((f, i) => (this.stats![f] = fresh[i]));
    }
    const out = this.stats.map((s) => s ?? ABSENT);
    for (const f of this.inFlight.keys()) out[f] = { length: out[f]!.length, mtimeMs: -1 };
    return out;
  }
}
