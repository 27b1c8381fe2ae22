// A file's content id from its bytes on disk: SHA-256 read in slices (files can be larger than
// memory) into one reused buffer. A pacer may hold each slice back: the node hashes at idle time,
// never in competition with a transfer (issue 40), while an asked-for check runs at full speed.

import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { cidFromSha256 } from '../cid/cid.ts';

const SLICE = 1024 * 1024;

export interface HashPacing {
  /** Awaited before each slice of at most 1 MiB is read; may wait as long as it likes. */
  beforeSlice?: (bytes: number) => Promise<void> | void;
  /** Checked between slices: true stops the pass (the promise then rejects with an AbortError). */
  aborted?: () => boolean;
}

/** SHA-256 of the `length` bytes at `path` (all of it when length is omitted). */
export async function sha256OfFile(path: string, length?: number, pacing: HashPacing = {}): Promise<Uint8Array> {
  const hash = createHash('sha256');
  if (length === 0) return hash.digest();
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
      pos += bytesRead;
    }
  } finally {
    await h.close();
  }
  return hash.digest();
}

export async function cidOfFile(path: string, length?: number, pacing?: HashPacing): Promise<string> {
  return cidFromSha256(await sha256OfFile(path, length, pacing));
}
