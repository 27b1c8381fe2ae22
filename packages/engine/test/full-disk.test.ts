// A download into a disk that fills up: the torrent stops with a readable disk error, every piece it
// reported verified is really on disk, and the session goes on serving other torrents. The disk is a
// 6 MiB tmpfs (root: mount), which also takes O_DIRECT, so the direct write path meets ENOSPC too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, createTorrent, type TorrentHandle } from '../index.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

function waitFor(h: TorrentHandle, event: 'done' | 'error', ms = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (event === 'done' && h.stats().state === 'seeding') return resolve(undefined);
    const timer = setTimeout(() => reject(new Error(`no '${event}' in ${ms} ms: ${JSON.stringify(h.stats())}`)), ms);
    h.once(event, (arg: unknown) => (clearTimeout(timer), resolve(arg)));
  });
}

test('a full disk stops the torrent with a clear error and loses nothing', async (t) => {
  assert.equal(process.getuid?.(), 0, 'this test mounts a small tmpfs: run it as root (npm test does in CI)');
  const root = mkdtempSync(join(tmpdir(), 'cascade-full-'));
  const small = join(root, 'small-disk');
  const src = join(root, 'src');
  mkdirSync(small);
  mkdirSync(src);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', small]);
  t.after(() => {
    execFileSync('umount', ['-l', small]);
    rmSync(root, { recursive: true, force: true });
  });

  const big = randomBytes(16 * MiB);
  const other = randomBytes(1 * MiB + 3);
  writeFileSync(join(src, 'big.bin'), big);
  writeFileSync(join(src, 'other.bin'), other);
  const bigT = await createTorrent(join(src, 'big.bin'), { pieceLength: 256 * KiB });
  const otherT = await createTorrent(join(src, 'other.bin'), { pieceLength: 256 * KiB });

  const seeder = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  const leecher = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  for (const tt of [bigT, otherT]) await waitFor(await seeder.add(tt.torrent, { savePath: src }), 'done');
  const peers = [`127.0.0.1:${seeder.port}`];

  const h = await leecher.add(bigT.torrent, { savePath: small, peers });
  const verified: number[] = [];
  h.on('verified', (i: number) => verified.push(i));
  const err = (await waitFor(h, 'error')) as Error;
  const s = h.stats();
  t.diagnostic(`stopped at ${verified.length}/${bigT.metainfo.pieceCount} pieces: ${err.message}`);
  assert.equal(s.state, 'error');
  assert.match(String(s.error ?? err.message), /disk error: .*(ENOSPC|no space left)/i);
  assert.ok(verified.length > 0 && verified.length < bigT.metainfo.pieceCount, 'some pieces fit, not all');
  const c = leecher.counters();
  assert.ok(c.diskErrors >= 1, 'the failed write is counted (writes already in flight may fail too)');
  assert.equal(c.piecesVerified, verified.length);

  // What was reported verified is on the disk, byte for byte.
  const fd = openSync(join(small, 'big.bin'), 'r');
  try {
    const buf = Buffer.alloc(256 * KiB);
    for (const i of verified) {
      const n = readSync(fd, buf, 0, buf.length, i * 256 * KiB);
      assert.equal(n, buf.length, `piece ${i} is all there`);
      assert.ok(buf.equals(big.subarray(i * 256 * KiB, (i + 1) * 256 * KiB)), `piece ${i} matches`);
    }
  } finally {
    closeSync(fd);
  }

  // The session is fine: another torrent, on a disk with room, downloads.
  const ok = await leecher.add(otherT.torrent, { savePath: join(root, 'roomy'), peers });
  await waitFor(ok, 'done');
  assert.equal(ok.stats().progress, 1);
});
