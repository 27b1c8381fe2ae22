// Real clients download from `cascade seed`:
//  - libtorrent, given the seeder's address directly (.torrent, and bare magnet → Cascade must serve
//    the info dictionary over BEP 9);
//  - aria2, which can only find peers through a tracker: the torrent is made by `cascade create
//    --announce <@cascade/tracker URL>` and `cascade seed` announces to the torrent's trackers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTracker } from '../../packages/tracker/index.ts';
import {
  MULTI_FILE_SPEC,
  SINGLE_FILE_SPEC,
  aria2Download,
  assertCascadeDone,
  bareMagnet,
  cascade,
  cascadeCreate,
  compareTrees,
  describeProc,
  ltCreate,
  ltDownload,
  makeRandomFiles,
  requireClient,
  startCascadeSeed,
  tempDir,
  waitForExit,
} from './helpers.ts';

const cases = [
  { layout: 'single-file', via: 'torrent', spec: SINGLE_FILE_SPEC, name: 'single-fixture.bin', pieceLength: 32 * 1024 },
  { layout: 'multi-file', via: 'torrent', spec: MULTI_FILE_SPEC, name: 'multi-fixture', pieceLength: 16 * 1024 },
  { layout: 'multi-file', via: 'magnet', spec: MULTI_FILE_SPEC, name: 'multi-fixture', pieceLength: 16 * 1024 },
] as const;

for (const { layout, via, spec, name, pieceLength } of cases) {
  test(`libtorrent downloads a ${layout} torrent from cascade seed via ${via === 'torrent' ? '.torrent' : 'bare magnet (BEP 9)'}`, { timeout: 60_000 }, async (t) => {
    requireClient('cascade');
    requireClient('libtorrent');
    const root = await tempDir(t);
    const src = join(root, 'src');
    await makeRandomFiles(layout === 'multi-file' ? join(src, name) : src, spec);
    const torrent = join(root, `${layout}.torrent`);
    const created = await ltCreate(join(src, name), torrent, { pieceLength });

    const seeder = await startCascadeSeed(t, torrent, src);

    const out = join(root, 'out');
    const source = via === 'torrent' ? torrent : bareMagnet(created.infoHash);
    const dl = ltDownload(t, source, out, { peers: [`127.0.0.1:${seeder.port}`], timeoutSec: 45 });
    const exit = await waitForExit(dl, 55_000);
    assert.equal(exit.code, 0, `libtorrent failed to download from cascade:\n${describeProc(dl)}\n\n${describeProc(seeder.proc)}`);
    const done = dl.events.find((e) => e.event === 'done');
    assert.ok(done, describeProc(dl));
    assert.equal(done.infoHash, created.infoHash);
    await compareTrees(join(src, name), join(out, name));
  });
}

test('aria2 downloads from cascade seed found through @cascade/tracker (torrent from cascade create --announce)', { timeout: 60_000 }, async (t) => {
  requireClient('cascade');
  requireClient('aria2c');
  const tracker = await startTracker({ host: '127.0.0.1', httpPort: 0, udpPort: 0, interval: 5 });
  t.after(() => tracker.close());

  const root = await tempDir(t);
  const src = join(root, 'src');
  const name = 'multi-fixture';
  await makeRandomFiles(join(src, name), MULTI_FILE_SPEC);
  const torrent = join(root, 'multi.torrent');
  const created = await cascadeCreate(t, join(src, name), torrent, [
    '--announce',
    tracker.httpAnnounceUrl,
    '--piece-length',
    String(16 * 1024),
  ]);

  const seeder = await startCascadeSeed(t, torrent, src);
  // The seeder must be in the swarm before aria2 asks; otherwise aria2 would only see itself.
  const deadline = Date.now() + 20_000;
  while (tracker.swarm(created.infoHash).complete < 1) {
    assert.ok(
      Date.now() < deadline,
      `cascade seed never announced itself as a seeder to ${tracker.httpAnnounceUrl}:\n${describeProc(seeder.proc)}`,
    );
    await new Promise((r) => setTimeout(r, 100));
  }

  const out = join(root, 'out');
  const aria = await aria2Download(t, torrent, out, { stopAfterSec: 50 });
  const exit = await waitForExit(aria, 55_000);
  assert.equal(exit.code, 0, `aria2 failed to download from cascade:\n${describeProc(aria)}\n\n${describeProc(seeder.proc)}`);
  await compareTrees(join(src, name), join(out, name));
});

test('libtorrent and Cascade download together from `cascade seed --super-seed` (BEP 16): each shown pieces a few at a time, both complete', { timeout: 90_000 }, async (t) => {
  requireClient('cascade');
  requireClient('libtorrent');
  const root = await tempDir(t);
  const src = join(root, 'src');
  await makeRandomFiles(src, SINGLE_FILE_SPEC);
  const name = Object.keys(SINGLE_FILE_SPEC)[0]!;
  const torrent = join(root, 'super.torrent');
  const created = await ltCreate(join(src, name), torrent, { pieceLength: 32 * 1024 });
  const seeder = await startCascadeSeed(t, torrent, src, { extraArgs: ['--super-seed'] });
  const peer = `127.0.0.1:${seeder.port}`;
  const lt = ltDownload(t, torrent, join(root, 'lt'), { peers: [peer], timeoutSec: 70 });
  const cas = cascade(t, 'download', [torrent, '-o', join(root, 'cascade'), '--peer', peer], { timeoutMs: 80_000 });
  const exit = await waitForExit(lt, 80_000);
  assert.equal(exit.code, 0, `libtorrent failed to download from a super-seeding cascade:\n${describeProc(lt)}\n\n${describeProc(seeder.proc)}`);
  const { proc, exit: casExit } = await cas;
  assertCascadeDone(proc, casExit, created.infoHash);
  await compareTrees(src, join(root, 'lt'));
  await compareTrees(src, join(root, 'cascade'));
});
