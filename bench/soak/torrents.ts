// The soak's torrents: single-file v1 torrents of random bytes written where the node will find them
// (so an add seeds at once after its check); random content makes every infohash distinct.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bencode } from '../../packages/engine/index.ts';

export interface SoakTorrent {
  infoHash: string;
  /** The file's name (also the torrent's name). */
  name: string;
  bytes: Uint8Array;
  length: number;
}

let serial = 0;

/** Writes `<dir>/<prefix>-<n>.bin` of `length` random bytes and returns its torrent (not written). */
export function makeTorrent(dir: string, prefix: string, length = 4096, pieceLength = 16384, announce?: string): SoakTorrent {
  mkdirSync(dir, { recursive: true });
  const name = `${prefix}-${process.pid}-${++serial}.bin`;
  const payload = randomBytes(length);
  writeFileSync(join(dir, name), payload);
  const pieces: Buffer[] = [];
  for (let o = 0; o < length; o += pieceLength) pieces.push(createHash('sha1').update(payload.subarray(o, o + pieceLength)).digest());
  const info = bencode({ length, name, 'piece length': pieceLength, pieces: Buffer.concat(pieces) });
  const infoHash = createHash('sha1').update(info).digest('hex');
  const head = announce ? Buffer.concat([Buffer.from(`d8:announce${Buffer.byteLength(announce)}:${announce}`), Buffer.from('10:created by10:bench/soak4:info')]) : Buffer.from('d10:created by10:bench/soak4:info');
  return { infoHash, name, bytes: Buffer.concat([head, info, Buffer.from('e')]), length };
}

export function writeTorrentFile(dir: string, t: SoakTorrent): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${t.infoHash}.torrent`);
  writeFileSync(path, t.bytes);
  return path;
}
