// The wall clock jumping an hour forward and back (issue 63, item 4) under a real `cascade serve`
// node that is downloading from a rate-capped libtorrent seed. The node has no clock seam of its
// own, so it runs under libfaketime (Debian's faketime package: LD_PRELOAD, the offset re-read from
// a file at every call); only the wall clock jumps, the monotonic one runs on, as when an NTP step
// or a user changes the time. Through both jumps: the node keeps running (its database lease is not
// judged lost), its API answers with the same token, rates stay sane, an add and a setting made
// while the clock is ahead are acknowledged and still there after a restart, and the download
// finishes with the right bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { globSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig, sleep } from '../../bench/crash/rig.ts';

// Debian's multiarch path (x86_64-linux-gnu, aarch64-linux-gnu…).
const LIBFAKETIME = globSync('/usr/lib/*/faketime/libfaketimeMT.so.1')[0] ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

test('the clock jumps an hour forward and back: the node keeps serving, acknowledges and keeps what it is given, and finishes its download', { timeout: 240_000 }, async (t) => {
  const rig0 = new Rig({ rate: 160 * 1024 });
  const offset = join(rig0.root, 'faketime.rc');
  writeFileSync(offset, '+0');
  const rig = new Rig({ rate: 160 * 1024, env: { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offset, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' } });
  t.after(async () => (await rig.dispose(), await rig0.dispose()));
  await rig.startSeeder();
  const slow = await rig.publicPayload(2_500_000, 1);
  const later = await rig.publicPayload(200_000, 1);
  await rig.start();
  const add = (uri: string) => rig.json('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri, peers: [rig.peer] }) });
  const detail = (ih: string) => rig.json<Record<string, any>>(`/api/torrents/${ih}`);
  await add(slow.uri);
  // The node's own limit (under the seed's cap), so its rate limiter decides when blocks are asked for.
  await rig.json(`/api/torrents/${slow.ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ downloadLimit: 128 * 1024 }) });
  while ((await detail(slow.ih)).verifiedPieces < 10) await sleep(200);

  const watch = async (what: string, ms: number) => {
    const end = Date.now() + ms; // the test's own clock is the real one
    while (Date.now() < end) {
      assert.equal(rig.node?.child.exitCode, null, `the node is running ${what}`);
      const d = await detail(slow.ih);
      assert.ok(d.downloadSpeed >= 0 && d.downloadSpeed < 64 * 1024 * 1024, `download rate ${d.downloadSpeed} B/s ${what}`);
      assert.ok(d.eta === null || d.eta >= 0, `eta ${d.eta} ${what}`);
      await sleep(300);
    }
  };
  writeFileSync(offset, '+1h');
  await watch('with the clock an hour ahead', 4000);
  await add(later.uri);
  await rig.json('/api/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ maxActiveUploads: 17 }) });
  writeFileSync(offset, '+0');
  // Back an hour: a time the engine took while the clock was ahead (the rate limiter's next grant, a
  // peer's next dial, a sleeping torrent's wake-up) must not lie an hour ahead now (the engine times
  // them on packages/engine/src/clock.ts, which does not step; this run did not stall before either).
  const before = (await detail(slow.ih)).verifiedPieces;
  const back = Date.now();
  await watch('with the clock back', 4000);
  let moved = (await detail(slow.ih)).verifiedPieces;
  while (moved <= before && Date.now() - back < 30_000) (await sleep(300), (moved = (await detail(slow.ih)).verifiedPieces));
  assert.ok(moved > before, `pieces verified after the clock went back (${before} then ${moved} after ${Date.now() - back} ms)`);
  t.diagnostic(`after the clock went back: ${moved - before} more pieces in ${Date.now() - back} ms`);

  let d = await detail(slow.ih);
  const end = Date.now() + 120_000;
  while (d.state !== 'seeding' && Date.now() < end) (await sleep(300), (d = await detail(slow.ih)));
  assert.equal(d.state, 'seeding', `the download finished: ${JSON.stringify({ state: d.state, verified: d.verifiedPieces, error: d.error })}`);
  assert.equal(createHash('sha256').update(readFileSync(join(d.savePath, d.files[0].path))).digest('hex'), slow.files.get(''));

  // What was acknowledged while the clock was ahead outlives a restart.
  await rig.kill();
  await rig.start();
  const made = await detail(later.ih);
  // Stamped with the node's clock an hour ahead: the jump reached the node.
  assert.ok(made.addedAt > Date.now() + 50 * 60_000, `the add made an hour ahead is there, stamped ${new Date(made.addedAt).toISOString()}`);
  assert.equal((await rig.json('/api/settings')).maxActiveUploads, 17);
});
