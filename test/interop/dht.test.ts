// Two Cascade processes find each other through a DHT made only of local nodes. The downloader
// gets nothing but a bare magnet: no --peer, no tracker in the torrent, no --tracker.
//
// Layout (BEP 5 semantics, no reliance on a node answering get_peers with itself):
//   B: a third cascade node (downloading an unrelated random infohash) — the bootstrap node;
//      its own bootstrap is a silent local UDP socket, so nothing leaves 127.0.0.1.
//   A: `cascade seed`, bootstrapped from B; it announces itself (announce_peer) to B.
//   C: `cascade download <bare magnet>`, bootstrapped from B (and A); get_peers finds A.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { join } from 'node:path';
import {
  MULTI_FILE_SPEC,
  assertCascadeDone,
  bareMagnet,
  compareTrees,
  describeProc,
  ltCreate,
  makeRandomFiles,
  requireClient,
  spawnCascade,
  tempDir,
  waitForEvent,
  waitForExit,
} from './helpers.ts';

test('cascade finds a cascade seeder through a local-only DHT from a bare magnet', { timeout: 60_000 }, async (t) => {
  requireClient('cascade');
  requireClient('libtorrent');

  // A UDP socket that never answers: B's bootstrap, so B does not go looking for public routers.
  const silent = createSocket('udp4');
  silent.on('message', () => {});
  silent.bind(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => new Promise<void>((r) => silent.close(() => r())));
  const silentAddr = `127.0.0.1:${silent.address().port}`;

  const root = await tempDir(t);
  const src = join(root, 'src');
  const name = 'multi-fixture';
  await makeRandomFiles(join(src, name), MULTI_FILE_SPEC);
  const torrent = join(root, 'dht.torrent');
  // No announce URL: the DHT is the only way to find the seeder.
  const created = await ltCreate(join(src, name), torrent, { pieceLength: 16 * 1024 });

  // B: bootstrap node.
  const b = await spawnCascade(
    t,
    'download',
    [bareMagnet(randomBytes(20).toString('hex')), '-o', join(root, 'b-out'), '--dht-bootstrap', silentAddr],
    { dht: true },
  );
  const bDht = Number((await waitForEvent(b, 'dht', { timeoutMs: 20_000 })).port);
  assert.ok(bDht > 0, `node B reported no DHT port:\n${describeProc(b)}`);

  // A: the seeder.
  const a = await spawnCascade(t, 'seed', [torrent, '--dir', src, '--dht-bootstrap', `127.0.0.1:${bDht}`], { dht: true });
  const aDht = Number((await waitForEvent(a, 'dht', { timeoutMs: 20_000 })).port);
  assert.ok(aDht > 0, `seeder reported no DHT port:\n${describeProc(a)}`);
  await waitForEvent(a, 'seeding', { timeoutMs: 30_000 });
  // Give A a moment to bootstrap off B and announce_peer to it.
  await new Promise((r) => setTimeout(r, 2_000));

  // C: the downloader, with only the infohash.
  const c = await spawnCascade(
    t,
    'download',
    [bareMagnet(created.infoHash), '-o', join(root, 'out'), '--dht-bootstrap', `127.0.0.1:${bDht},127.0.0.1:${aDht}`],
    { dht: true },
  );
  await waitForEvent(c, 'dht', { timeoutMs: 20_000 });
  let exit;
  try {
    exit = await waitForExit(c, 40_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n\nseeder:\n${describeProc(a)}\n\nbootstrap node:\n${describeProc(b)}`);
  }
  if (exit.code !== 0) {
    assert.fail(`DHT download failed:\n${describeProc(c)}\n\nseeder:\n${describeProc(a)}\n\nbootstrap node:\n${describeProc(b)}`);
  }
  assertCascadeDone(c, exit, created.infoHash);
  await compareTrees(join(src, name), join(root, 'out', name));
});
