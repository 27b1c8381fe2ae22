// A file's content id from its bytes on disk: SHA-256 streamed (files can be larger than memory).

import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { cidFromSha256 } from '../cid.ts';

/** SHA-256 of the `length` bytes at `path` (all of it when length is omitted). */
export async function sha256OfFile(path: string, length?: number): Promise<Uint8Array> {
  const hash = createHash('sha256');
  const stream = createReadStream(path, length === undefined ? {} : { start: 0, end: length - 1 });
  if (length === 0) return hash.digest();
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest();
}

export async function cidOfFile(path: string, length?: number): Promise<string> {
  return cidFromSha256(await sha256OfFile(path, length));
}
