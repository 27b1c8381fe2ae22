// A file's content id from its bytes on disk: SHA-256 read in slices (files can be larger than
// memory) into one reused buffer; in the same pass, each 1 MiB chunk's SHA-256 (the leaves of its
// UnixFS DAG, unixfs.ts), so the file is read once for both ids. A pacer may hold each slice back: the node hashes at idle time,
// never in competition with a transfer (issue 40), while an asked-for check runs at full speed.

import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { cidFromSha256 } from '../cid/cid.ts';
import { ChunkDigests, UNIXFS_CHUNK, UnixfsTree } from '../cid/unixfs.ts';

const SLICE = UNIXFS_CHUNK;

export interface HashPacing {
  /** Awaited before each slice of at most 1 MiB is read; may wait as long as it likes. */
  beforeSlice?: (bytes: number) => Promise<void> | void;
  /** Checked between slices: true stops the pass (the promise then rejects with an AbortError). */
  aborted?: () => boolean;
}

/** SHA-256 of the `length` bytes at `path` (all of it when length is omitted). */
export async function sha256OfFile(path: string, length?: number, pacing: HashPacing = {}): Promise<Uint8Array> {
  return (await hashFile(path, length, pacing, false)).sha256;
}

/** Both ids' hashes in one read: the whole file's SHA-256 and its UnixFS chunks' digests. */
export interface FileHashes {
  sha256: Uint8Array;
  length: number;
  /** Each 1 MiB chunk's SHA-256, 32 bytes each (unixfs.ts's UnixfsTree takes them). */
  chunks: Uint8Array;
}

const chunkHash = (parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export async function hashFile(path: string, length?: number, pacing?: HashPacing): Promise<FileHashes>;
export async function hashFile(path: string, length: number | undefined, pacing: HashPacing, withChunks: false): Promise<FileHashes>;
export async function hashFile(path: string, length?: number, pacing: HashPacing = {}, withChunks = true): Promise<FileHashes> {
  const hash = createHash('sha256');
  const chunks = withChunks ? new ChunkDigests(chunkHash, UNIXFS_CHUNK) : undefined;
  const done = () => {
    const c = chunks?.digests();
    return { sha256: new Uint8Array(hash.digest()), length: c?.length ?? 0, chunks: c?.digests ?? new Uint8Array(0) };
  };
  if (length === 0) return done();
  const h = await open(path, 'r');
  try {
    const total = length ?? (await h.stat()).size;
    const buf = Buffer.allocUnsafe(Math.min(SLICE, Math.max(1, total)));
    for (let pos = 0; pos < total; ) {
      if (pacing.aborted?.()) throw Object.assign(new Error('hashing stopped'), { name: 'AbortError' });
      const want = Math.min(buf.length, total - pos);
      await pacing.beforeSlice?.(want);
      const { bytesRead } = await h.read(buf, 0, want, pos);
      if (bytesRead === 0) throw new Error(`${path} ends at ${pos} bytes, ${total} expected`);
      hash.update(buf.subarray(0, bytesRead));
      // A slice is one chunk (SLICE = UNIXFS_CHUNK), hashed as it lies in the buffer.
      chunks?.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await h.close();
  }
  return done();
}

/** The UnixFS CID @helia/unixfs gives the file's bytes by default (unixfs.ts). */
export async function unixfsCidOfFile(path: string, length?: number, pacing?: HashPacing): Promise<string> {
  const r = await hashFile(path, length, pacing);
  return new UnixfsTree(r.length, r.chunks).root.toString();
}

export async function cidOfFile(path: string, length?: number, pacing?: HashPacing): Promise<string> {
  return cidFromSha256(await sha256OfFile(path, length, pacing));
}
