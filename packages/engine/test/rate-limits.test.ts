// Speed limits with real peers on loopback (issue 20): per torrent and per session, download and
// upload, changed live while the transfer runs, the tighter of the two levels winning; and a
// download limit holding against a fast libtorrent seeder. Each rate is measured over a 5 s window
// from the other side's byte counter, after a second and a half to settle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Session, createTorrent, type TorrentHandle } from '../index.ts';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(t: { after: (fn: () => unknown) => void }, size: number) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-limits-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  await fs.mkdir(path.join(root, 'seed'));
  const file = path.join(root, 'seed', 'data.bin');
  await fs.writeFile(file, randomBytes(size));
  const { torrent, metainfo } = await createTorrent(file, { pieceLength: 256 * 1024 });
  return { root, torrent, metainfo, file };
}

/** Bytes/s that `count()` grows by over 5 s, after `settleMs`. */
async function measure(count: () => number, settleMs = 1500): Promise<number> {
  await sleep(settleMs);
  const b0 = count(), t0 = Date.now();
  await sleep(5000);
  return ((count() - b0) * 1000) / (Date.now() - t0);
}

function near(rate: number, limit: number, what: string): void {
  const ratio = rate / limit;
  assert.ok(ratio > 0.9 && ratio < 1.1, `${what}: ${(rate / MiB).toFixed(3)} MiB/s at a limit of ${(limit / MiB).toFixed(3)} MiB/s (ratio ${ratio.toFixed(3)})`);
}

test('download and upload limits, per torrent and per session, applied live; the tighter wins', async (t) => {
  const { root, torrent } = await setup(t, 64 * MiB);
  const seeder = await Session.create({ host: '127.0.0.1', dht: false });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  const s = await seeder.add(torrent, { savePath: path.join(root, 'seed') });
  await new Promise<void>((r) => (s.stats().state === 'seeding' ? r() : s.once('done', () => r())));
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`], paused: true });
  l.setRateLimits({ download: 1 * MiB });
  assert.deepEqual(l.rateLimits(), { download: MiB, upload: 0 });
  await l.resume();
  near(await measure(() => s.stats().uploaded), MiB, 'torrent download limit 1 MiB/s');

  // The session's limit is tighter than the torrent's: it wins.
  l.setRateLimits({ download: 4 * MiB });
  leecher.setRateLimits({ download: 2 * MiB });
  assert.deepEqual(leecher.rateLimits(), { download: 2 * MiB, upload: 0 });
  near(await measure(() => s.stats().uploaded), 2 * MiB, 'session download limit 2 MiB/s under a torrent limit of 4');

  // Download limits lifted; the seeder's torrent upload limit holds now.
  leecher.setRateLimits({ download: 0 });
  l.setRateLimits({ download: 0 });
  s.setRateLimits({ upload: 3 * MiB });
  near(await measure(() => l.stats().downloaded), 3 * MiB, 'torrent upload limit 3 MiB/s');
  seeder.setRateLimits({ upload: 1.5 * MiB });
  near(await measure(() => l.stats().downloaded), 1.5 * MiB, 'session upload limit 1.5 MiB/s under a torrent limit of 3');

  // No limit at all: the rest comes at once.
  seeder.setRateLimits({ upload: 0 });
  s.setRateLimits({ upload: 0 });
  const start = Date.now();
  await new Promise<void>((r) => (l.stats().state === 'seeding' ? r() : l.once('done', () => r())));
  assert.ok(Date.now() - start < 10_000, `the remaining ${64 - 24} MiB took ${Date.now() - start} ms once limits were lifted`);
});

test('a limit set on a transfer at full speed holds from the first 5 s window', async (t) => {
  const { root, torrent } = await setup(t, 96 * MiB);
  const seeder = await Session.create({ host: '127.0.0.1', dht: false });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  const s = await seeder.add(torrent, { savePath: path.join(root, 'seed') });
  await new Promise<void>((r) => (s.stats().state === 'seeding' ? r() : s.once('done', () => r())));
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  // Full speed until a few MiB are in: the pipeline is deep by then.
  while (l.stats().downloaded < 4 * MiB) await sleep(5);
  leecher.setRateLimits({ download: 2 * MiB });
  near(await measure(() => l.stats().downloaded, 0), 2 * MiB, 'the 5 s right after a 2 MiB/s limit was set mid-transfer');
});

test('bad limits are refused with a RangeError naming the field, and change nothing', async (t) => {
  const { root, torrent } = await setup(t, 1 * MiB);
  const session = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => session.close());
  const h: TorrentHandle = await session.add(torrent, { savePath: path.join(root, 'seed') });
  h.setRateLimits({ download: 1000, upload: 2000 });
  assert.throws(() => h.setRateLimits({ upload: -5 }), { name: 'RangeError', message: /upload limit/ });
  assert.throws(() => session.setRateLimits({ download: Number.NaN }), { name: 'RangeError', message: /download limit/ });
  assert.deepEqual(h.rateLimits(), { download: 1000, upload: 2000 });
  assert.deepEqual(session.rateLimits(), { download: 0, upload: 0 });
});

const LT_SEED = fileURLToPath(new URL('./lt_seed.py', import.meta.url));

test('a download limit holds against a fast libtorrent seeder', async (t) => {
  const { root, torrent, metainfo } = await setup(t, 32 * MiB);
  const torrentFile = path.join(root, 'x.torrent');
  await fs.writeFile(torrentFile, torrent);
  const lt = spawn('/usr/bin/python3', [LT_SEED, torrentFile, path.join(root, 'seed')], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    lt.stdin.end();
    lt.kill();
  });
  const lines = readline.createInterface({ input: lt.stdout });
  let port = 0;
  for await (const line of lines) {
    if (line.startsWith('port ')) port = Number(line.slice(5));
    if (line === 'seeding') break;
  }
  assert.ok(port > 0);
  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => leecher.close());
  leecher.setRateLimits({ download: 2 * MiB });
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${port}`] });
  near(await measure(() => l.stats().downloaded), 2 * MiB, 'session download limit 2 MiB/s from libtorrent');
  assert.ok(l.stats().downloaded < metainfo.length, 'still downloading');
});
