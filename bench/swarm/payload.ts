// bench:swarm's payload: the file, its torrent (libtorrent must read the same infohash out of it),
// and the byte-for-byte check of what a downloader wrote.

import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent } from '../../packages/engine/index.ts';
import { fmtSize } from './report.ts';

const HERE = import.meta.dirname;
export const LT_PEER = join(HERE, 'lt_peer.py');
/** python3-libtorrent is only importable from the system python. */
export const PYTHON = '/usr/bin/python3';

export interface TorrentShape {
  pieceLength: number;
  version: 'v1' | 'v2' | 'hybrid';
}

/**
 * A file of random bytes, on the disk before it returns. Left dirty in the page cache, the kernel's
 * flusher wrote it back 30 s later (vm.dirty_expire_centisecs) in the middle of whichever run was
 * going then: 1 GiB of writes queued beside that run's, and a downloader writing with O_DIRECT
 * (Cascade) waited behind them where one writing into the page cache (libtorrent) did not
 * (measured: a cascade→cascade run at 533 MB/s with 2 GiB written during it, its pieces' writes
 * up to 508 ms, against 660-725 MB/s in the runs around it).
 */
export async function writeRandom(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  const buf = Buffer.allocUnsafe(16 * 2 ** 20);
  try {
    for (let off = 0; off < size; ) {
      const n = Math.min(buf.length, size - off);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n, off);
      off += n;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeSparse(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  await fh.truncate(size);
  await fh.close();
}

export interface Payload {
  dir: string; // the seeder's save path
  file: string;
  size: number;
  torrentPath: string;
  infoHash: string;
  pieces: number;
  /** The python3-libtorrent that read the torrent back. */
  ltVersion: string;
}

/** The payload file (random bytes, or sparse zeros), its torrent, and libtorrent's reading of it. */
export async function makePayload(dir: string, name: string, size: number, sparse: boolean, torrent: TorrentShape): Promise<Payload> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  let t = performance.now();
  if (sparse) await writeSparse(file, size);
  else await writeRandom(file, size);
  const made = (performance.now() - t) / 1000;
  t = performance.now();
  const { torrent: bytes, metainfo } = await createTorrent(file, { pieceLength: torrent.pieceLength, version: torrent.version, createdBy: 'cascade swarm bench' });
  const hashed = (performance.now() - t) / 1000;
  const torrentPath = join(dir, '..', `${name}.torrent`);
  await writeFile(torrentPath, bytes);
  // libtorrent must read the same infohash out of it.
  const info = JSON.parse(spawnSync(PYTHON, [LT_PEER, 'info', torrentPath], { encoding: 'utf8' }).stdout.trim().split('\n').pop()!);
  if (info.infoHash !== metainfo.infoHashHex) throw new Error(`libtorrent reads infohash ${info.infoHash}, Cascade wrote ${metainfo.infoHashHex}`);
  console.log(
    `payload ${name}: ${fmtSize(size)} ${sparse ? 'sparse (zeros)' : 'random'} in ${made.toFixed(1)} s, ${torrent.version} torrent ${metainfo.pieceCount} × ${fmtSize(torrent.pieceLength)} hashed in ${hashed.toFixed(1)} s, infohash ${metainfo.infoHashHex}`,
  );
  return { dir, file, size, torrentPath, infoHash: metainfo.infoHashHex, pieces: metainfo.pieceCount, ltVersion: info.version };
}

/** Full byte-for-byte comparison with the payload; returns why it differs, or undefined. */
export async function verify(got: string, want: string, size: number, pieceLength: number): Promise<string | undefined> {
  let st;
  try {
    st = await stat(got);
  } catch {
    return `${got} is missing`;
  }
  if (st.size !== size) return `${got} has ${st.size} bytes, want ${size}`;
  const [a, b] = await Promise.all([open(got, 'r'), open(want, 'r')]);
  const CH = 16 * 2 ** 20;
  const ba = Buffer.allocUnsafe(CH);
  const bb = Buffer.allocUnsafe(CH);
  try {
    for (let off = 0; off < size; off += CH) {
      const n = Math.min(CH, size - off);
      const [ra, rb] = await Promise.all([a.read(ba, 0, n, off), b.read(bb, 0, n, off)]);
      if (ra.bytesRead !== n || rb.bytesRead !== n) return `short read at ${off}`;
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) {
        let i = 0;
        while (ba[i] === bb[i]) i++;
        let zeros = 0;
        while (i + zeros < n && ba[i + zeros] === 0) zeros++;
        return `content differs from byte ${off + i} (piece ${Math.floor((off + i) / pieceLength)})${zeros >= 1024 ? `, ${zeros}+ zero bytes there: never written?` : ''}`;
      }
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  return undefined;
}
