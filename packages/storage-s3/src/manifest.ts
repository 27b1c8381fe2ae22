// What a torrent's S3 storage must remember across restarts, in its staging folder: which pieces it
// holds (staged or uploaded), the multipart upload under way for each file (so a restart carries on
// from the parts already sent, not from byte 0), and which objects this node wrote (remove deletes
// those and nothing else: data someone else put in the bucket is never ours to delete).

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface UploadState {
  uploadId: string;
  parts: { PartNumber: number; ETag: string }[];
}

export interface ManifestState {
  v: 1;
  /** The bucket and prefix (s3://…) the torrent's files go to. */
  url: string;
  /** Pieces written here, as a bitfield (base64): staged, uploading or in the bucket. */
  have: string;
  /** Multipart uploads under way, by file index. */
  uploads: Record<string, UploadState>;
  /** Files in the bucket that this node uploaded, by file index: their size and the mtime it reports. */
  written: Record<string, { size: number; mtimeMs: number }>;
}

export class Manifest {
  readonly path: string;
  state: ManifestState;
  have: Uint8Array;
  #current: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  private constructor(path: string, state: ManifestState, pieceCount: number) {
    this.path = path;
    this.state = state;
    const bits = Buffer.from(state.have, 'base64');
    this.have = new Uint8Array(Math.ceil(pieceCount / 8));
    if (bits.length === this.have.length) this.have.set(bits);
  }

  static async open(dir: string, url: string, pieceCount: number): Promise<Manifest> {
    const path = join(dir, 'manifest.json');
    let state: ManifestState | undefined;
    try {
      const read = JSON.parse(await readFile(path, 'utf8')) as ManifestState;
      // The same folder given another bucket starts afresh: its uploads mean nothing there.
      if (read.v === 1 && read.url === url) state = read;
    } catch {
      // none yet (or unreadable: the engine's check finds what is really there)
    }
    return new Manifest(path, state ?? { v: 1, url, have: '', uploads: {}, written: {} }, pieceCount);
  }

  hasPiece(i: number): boolean {
    return (this.have[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  setPiece(i: number, on = true): void {
    if (on) this.have[i >> 3]! |= 0x80 >> (i & 7);
    else this.have[i >> 3]! &= ~(0x80 >> (i & 7));
  }

  /**
   * Resolves once a write that includes every change made before the call is on disk. Writes are
   * one at a time and coalesce: a hundred pieces landing together cost two writes, not a hundred.
   */
  save(): Promise<void> {
    if (this.#next) return this.#next;
    const prev = this.#current ?? Promise.resolve();
    const next: Promise<void> = prev.catch(() => {}).then(async () => {
      this.#next = undefined;
      this.#current = next;
      this.state.have = Buffer.from(this.have).toString('base64');
      const tmp = `${this.path}.tmp`;
      await mkdir(join(this.path, '..'), { recursive: true });
      await writeFile(tmp, JSON.stringify(this.state));
      await rename(tmp, this.path);
    });
    this.#next = next;
    return next;
  }
}
