// How many requests a downloader keeps outstanding with one peer: about half a second of that
// peer's data. A fast peer's pipeline grows from 32 blocks within a few round trips; a slow one
// stays small, so it never pins megabytes of half-filled pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { startRawSeeder } from './raw-peer.ts';

async function setup(t: { after: (fn: () => unknown) => void }, size: number) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-pipeline-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const payload = randomBytes(size);
  await fs.mkdir(path.join(root, 'seed'));
  const file = path.join(root, 'seed', 'data.bin');
  await fs.writeFile(file, payload);
  const { torrent, metainfo } = await createTorrent(file, { pieceLength: 256 * 1024 });
  return { root, payload, torrent, metainfo };
}

test('a slow peer gets a short pipeline: no more than 32 requests outstanding', async (t) => {
  const { root, payload, torrent, metainfo } = await setup(t, 16 * 1024 * 1024);
  // One block every 50 ms: 330 KB/s, so 32 blocks take 1.6 s, far over half a second.
  const slow = await startRawSeeder({ infoHash: metainfo.infoHash, payload, pieceLength: metainfo.pieceLength, corrupt: () => false, pace: { everyMs: 50, blocks: 1 } });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => Promise.all([slow.close(), leecher.close()]));
  await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${slow.port}`] });
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(slow.pending.length >= 20, `the peer saw requests (${slow.pending.length} ticks)`);
  assert.ok(Math.max(...slow.pending) <= 32, `outstanding requests stayed ≤ 32: ${Math.max(...slow.pending)}`);
});

test('a fast peer’s pipeline grows past the first 32 blocks within a fraction of a second', async (t) => {
  const { root, payload, torrent, metainfo } = await setup(t, 24 * 1024 * 1024);
  // Answers everything waiting every 10 ms: what waits at each tick is what the leecher has out.
  const fast = await startRawSeeder({ infoHash: metainfo.infoHash, payload, pieceLength: metainfo.pieceLength, corrupt: () => false, pace: { everyMs: 10, blocks: Infinity } });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => Promise.all([fast.close(), leecher.close()]));
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${fast.port}`] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not done: ${JSON.stringify(l.stats())}`)), 30_000);
    l.once('done', () => (clearTimeout(timer), resolve()));
  });
  assert.ok(fast.pending[0]! <= 32, `the first window is small: ${fast.pending[0]}`);
  // The raw seeder sends no extended handshake, so its queue limit is the default 250.
  const max = Math.max(...fast.pending);
  assert.ok(max >= 200 && max <= 250, `the pipeline grew to the peer's limit: ${max} (${fast.pending.slice(0, 12).join(' ')} …)`);
  const got = await fs.readFile(path.join(root, 'out', 'data.bin'));
  assert.ok(got.equals(payload));
});
