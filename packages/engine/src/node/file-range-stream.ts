// Reads a byte range of one torrent file from disk, piece by piece, waiting for pieces that are not
// verified yet — so a video starts playing while the torrent still downloads. Bytes are only ever
// read from verified pieces: unverified data on disk may be garbage from a bad peer.

import { Readable } from 'node:stream';
import { open, type FileHandle } from 'node:fs/promises';
import type { TorrentHandle } from '../api.ts';
import type { Metainfo } from '../types.ts';

const CHUNK = 256 * 1024;
/** Safety net for a missed 'verified' event (the torrent was re-added, say): look again this often. */
const POLL_MS = 1000;

export class PieceTimeoutError extends Error {
  constructor(piece: number, ms: number) {
    super(`piece ${piece} did not arrive within ${Math.round(ms / 1000)}s`);
    this.name = 'PieceTimeoutError';
  }
}

export interface FileRangeOptions {
  torrent: TorrentHandle;
  meta: Metainfo;
  fileIndex: number;
  /** Absolute path of the file on disk. */
  path: string;
  /** First and last byte (inclusive) within the file. */
  start: number;
  end: number;
  havePiece: (index: number) => boolean;
  /** How long to wait for any one missing piece before giving up on the response. */
  waitMs: number;
  /** The piece that verifies byte `pos` of the file, and the first byte of the file past it; by
   *  default from the file's place in the torrent (a private share's plaintext maps otherwise). */
  pieceAt?: (pos: number) => { piece: number; end: number };
}

export class FileRangeStream extends Readable {
  readonly #o: FileRangeOptions;
  readonly #fileOffset: number;
  #pos: number;
  #fh: FileHandle | undefined;
  #cancelWait: (() => void) | undefined;

  constructor(o: FileRangeOptions) {
    super({ highWaterMark: CHUNK });
    this.#o = o;
    this.#fileOffset = o.meta.files[o.fileIndex]!.offset;
    this.#pos = o.start;
  }

  // Readable never calls _read again before we push, so one read is in flight at a time.
  override _read(): void {
    void this.#next();
  }

  async #next(): Promise<void> {
    try {
      const o = this.#o;
      if (this.#pos > o.end) {
        this.push(null);
        return;
      }
      const { piece, end: pieceEndInFile } = o.pieceAt?.(this.#pos) ?? this.#pieceAt(this.#pos);
      if (!o.havePiece(piece)) await this.#waitFor(piece);
      if (this.destroyed) return;
      this.#fh ??= await open(o.path, 'r');
      // Never read past the verified piece: the next one may still be missing.
      const len = Math.min(CHUNK, o.end + 1 - this.#pos, pieceEndInFile - this.#pos);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await this.#fh.read(buf, 0, len, this.#pos);
      if (this.destroyed) return;
      if (bytesRead === 0) throw new Error(`${o.path} is shorter than the torrent says`);
      this.#pos += bytesRead;
      this.push(buf.subarray(0, bytesRead));
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  #pieceAt(pos: number): { piece: number; end: number } {
    const pieceLength = this.#o.meta.pieceLength;
    const piece = Math.floor((this.#fileOffset + pos) / pieceLength);
    return { piece, end: (piece + 1) * pieceLength - this.#fileOffset };
  }

  #waitFor(piece: number): Promise<void> {
    const { torrent, havePiece, waitMs } = this.#o;
    return new Promise<void>((resolve, reject) => {
      const finish = (fn: () => void) => {
        torrent.off('verified', onVerified);
        clearInterval(poll);
        clearTimeout(timeout);
        this.#cancelWait = undefined;
        fn();
      };
      const onVerified = (index: number) => {
        if (index === piece) finish(resolve);
      };
      const poll = setInterval(() => {
        if (havePiece(piece)) finish(resolve);
      }, POLL_MS);
      const timeout = setTimeout(() => finish(() => reject(new PieceTimeoutError(piece, waitMs))), waitMs);
      this.#cancelWait = () => finish(resolve);
      torrent.on('verified', onVerified);
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // The client went away (or the wait failed): stop waiting and release the file.
    this.#cancelWait?.();
    const fh = this.#fh;
    this.#fh = undefined;
    if (!fh) return cb(err);
    fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}
