// Harness sanity: the real clients talk to each other on loopback with the settings the other
// interop tests use. If these fail, the environment (or lt.py / helpers.ts) is broken, not Cascade.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTracker } from '../../packages/tracker/index.ts';
import {
  MULTI_FILE_SPEC,
  SINGLE_FILE_SPEC,
  aria2Download,
  bareMagnet,
  compareTrees,
  describeProc,
  ltCreate,
  ltDownload,
  makeRandomFiles,
  startLibtorrent,
  tempDir,
  waitForExit,
} from './helpers.ts';

test('libtorrent → libtorrent, single file, .torrent + --peer', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t);
  const src = join(root, 'src');
  await makeRandomFiles(src, SINGLE_FILE_SPEC);
  const torrent = join(root, 'single.torrent');
  await ltCreate(join(src, 'single-fixture.bin'), torrent, { pieceLength: 32 * 1024 });
  const seeder = await startLibtorrent(t, torrent, src);

  const out = join(root, 'out');
  const dl = ltDownload(t, torrent, out, { peers: [`127.0.0.1:${seeder.port}`], timeoutSec: 40 });
  const exit = await waitForExit(dl, 50_000);
  assert.equal(exit.code, 0, describeProc(dl));
  assert.ok(dl.events.some((e) => e.event === 'done'));
  await compareTrees(join(src, 'single-fixture.bin'), join(out, 'single-fixture.bin'));
});

test('libtorrent → libtorrent, multi-file, bare magnet + --peer (BEP 9)', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t);
  const src = join(root, 'src');
  await makeRandomFiles(join(src, 'multi-fixture'), MULTI_FILE_SPEC);
  const torrent = join(root, 'multi.torrent');
  const created = await ltCreate(join(src, 'multi-fixture'), torrent, { pieceLength: 16 * 1024 });
  const seeder = await startLibtorrent(t, torrent, src);

  const out = join(root, 'out');
  const dl = ltDownload(t, bareMagnet(created.infoHash), out, { peers: [`127.0.0.1:${seeder.port}`], timeoutSec: 40 });
  const exit = await waitForExit(dl, 50_000);
  assert.equal(exit.code, 0, describeProc(dl));
  await compareTrees(join(src, 'multi-fixture'), join(out, 'multi-fixture'));
});

test('libtorrent → aria2 through @cascade/tracker', { timeout: 60_000 }, async (t) => {
  const tracker = await startTracker({ host: '127.0.0.1', httpPort: 0, udpPort: 0, interval: 5 });
  t.after(() => tracker.close());
  const root = await tempDir(t);
  const src = join(root, 'src');
  await makeRandomFiles(join(src, 'multi-fixture'), MULTI_FILE_SPEC);
  const torrent = join(root, 'multi.torrent');
  const created = await ltCreate(join(src, 'multi-fixture'), torrent, {
    pieceLength: 16 * 1024,
    announce: [tracker.httpAnnounceUrl],
  });
  const seeder = await startLibtorrent(t, torrent, src);
  // Make sure the seeder is in the swarm before aria2 asks for peers.
  const deadline = Date.now() + 15_000;
  while (tracker.swarm(created.infoHash).complete < 1) {
    assert.ok(Date.now() < deadline, `libtorrent never announced to the tracker:\n${describeProc(seeder.proc)}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const out = join(root, 'out');
  const aria = await aria2Download(t, torrent, out);
  const exit = await waitForExit(aria, 55_000);
  assert.equal(exit.code, 0, describeProc(aria));
  await compareTrees(join(src, 'multi-fixture'), join(out, 'multi-fixture'));
});
