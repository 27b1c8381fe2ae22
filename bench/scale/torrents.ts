// The benchmark's torrents: N distinct single-file v1 torrents of 4 KiB each (one piece), their data
// written to one folder so both clients seed them from there without downloading anything. v1 only:
// Debian's Transmission 3.00 refuses v2 and hybrid torrents. No announce URL: nothing to contact.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bencode } from '../../packages/engine/index.ts';

export const PAYLOAD_BYTES = 4096;
const PIECE_LENGTH = 16384;

export interface BenchTorrent {
  name: string;
  infoHash: string;
  /** The .torrent file's bytes. */
  bytes: Uint8Array;
}

/** Writes `<dataDir>/scale-000001.bin` … and `<torrentDir>/scale-000001.torrent` …; random content
 *  makes every infohash distinct. */
export function makeTorrents(n: number, dataDir: string, torrentDir: string): BenchTorrent[] {
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(torrentDir, { recursive: true });
  const out: BenchTorrent[] = [];
  const width = Math.max(6, String(n).length);
  for (let i = 1; i <= n; i++) {
    const stem = `scale-${String(i).padStart(width, '0')}`;
    const name = `${stem}.bin`;
    const payload = randomBytes(PAYLOAD_BYTES);
    writeFileSync(join(dataDir, name), payload);
    const info = bencode({
      length: PAYLOAD_BYTES,
      name,
      'piece length': PIECE_LENGTH,
      pieces: createHash('sha1').update(payload).digest(),
    });
    const infoHash = createHash('sha1').update(info).digest('hex');
    const bytes = Buffer.concat([Buffer.from('d10:created by11:bench/scale4:info'), info, Buffer.from('e')]);
    writeFileSync(join(torrentDir, `${stem}.torrent`), bytes);
    out.push({ name, infoHash, bytes });
  }
  return out;
}
