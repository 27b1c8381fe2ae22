// A byte range of one file inside a private share, decrypted on the fly: the ciphertext chunks under
// the range are read as their pieces verify (FileRangeStream waits for them), each is authenticated
// and decrypted, and only the asked-for bytes go out. A chunk that fails authentication ends the
// response; nothing of it is sent.
import { Transform, type TransformCallback } from 'node:stream';
import { join } from 'node:path';
import { TAG_BYTES, fileSpan, plaintextPath, type ChunkCipher, type ShareManifest } from '@cascade/private-shares';
import type { TorrentHandle } from '@cascade/engine';
import { FileRangeStream, havePiece } from '@cascade/node/private-host';

export interface PlainRange {
  /** The stream to read and, when it is ciphertext, the transform that turns it into the plaintext range. */
  source: FileRangeStream;
  decrypt?: Transform;
  /** Ciphertext pieces the response needs (to fetch them while it is sent). */
  firstPiece: number;
  lastPiece: number;
}

export function plainRange(
  t: TorrentHandle,
  share: { cipher: ChunkCipher; manifest: ShareManifest },
  fileIndex: number,
  start: number,
  end: number,
  waitMs: number,
): PlainRange {
  const meta = t.metainfo!;
  const { cipher } = share;
  const span = fileSpan(share.manifest, fileIndex, cipher.chunk);
  const from = span.offset + start;
  const to = span.offset + end;
  const firstChunk = cipher.chunkAt(from);
  const lastChunk = cipher.chunkAt(to);
  const sealed = cipher.chunk + TAG_BYTES;
  const cipherStart = cipher.cipherOffset(firstChunk);
  const cipherEnd = cipher.cipherOffset(lastChunk) + sealed - 1;
  const source = new FileRangeStream({
    torrent: t,
    meta,
    fileIndex: 0,
    path: join(t.savePath, meta.name),
    start: cipherStart,
    end: cipherEnd,
    havePiece: (i) => havePiece(t, i),
    waitMs,
  });
  let pending: Buffer[] = [];
  let held = 0;
  let chunk = firstChunk;
  const decrypt = new Transform({
    transform(part: Buffer, _enc, done: TransformCallback) {
      pending.push(part);
      held += part.length;
      void (async () => {
        while (held >= sealed) {
          const all = Buffer.concat(pending);
          const plain = await cipher.decryptChunk(chunk, all.subarray(0, sealed));
          pending = [all.subarray(sealed)];
          held -= sealed;
          const base = chunk * cipher.chunk;
          this.push(plain.subarray(Math.max(0, from - base), Math.min(cipher.chunk, to + 1 - base)));
          chunk++;
        }
      })().then(() => done(), (err: Error) => done(err));
    },
  });
  const pieceLength = meta.pieceLength;
  return { source, decrypt, firstPiece: Math.floor(cipherStart / pieceLength), lastPiece: Math.floor(cipherEnd / pieceLength) };
}

/**
 * The same range on a node that keeps the share as plaintext only (PlainStorage): read from the file
 * itself, each part once the ciphertext piece over its chunk has verified (its plaintext is written
 * then).
 */
export function storedPlainRange(
  t: TorrentHandle,
  share: { cipher: ChunkCipher; manifest: ShareManifest },
  fileIndex: number,
  start: number,
  end: number,
  waitMs: number,
): PlainRange {
  const meta = t.metainfo!;
  const { cipher, manifest } = share;
  const span = fileSpan(manifest, fileIndex, cipher.chunk);
  const chunksPerPiece = meta.pieceLength / cipher.sealed;
  const pieceOf = (pos: number) => Math.floor(cipher.chunkAt(span.offset + pos) / chunksPerPiece);
  const source = new FileRangeStream({
    torrent: t,
    meta,
    fileIndex: 0,
    path: join(t.savePath, ...plaintextPath(manifest, fileIndex)),
    start,
    end,
    havePiece: (i) => havePiece(t, i),
    waitMs,
    pieceAt: (pos) => {
      const piece = pieceOf(pos);
      return { piece, end: (piece + 1) * chunksPerPiece * cipher.chunk - span.offset };
    },
  });
  return { source, firstPiece: pieceOf(start), lastPiece: pieceOf(end) };
}
