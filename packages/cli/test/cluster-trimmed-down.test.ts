// A copy trimmed while its member was down (issue 63, found by bench:crash --cluster): the
// coordinator's trim makes the member's holder row a tombstone that says the data goes, and the
// member deletes the copy when it acts on it. Killed before it did, it came back without loading the
// copy (its row is a tombstone) while the library keeps the torrent, and the tombstone sweep left
// torrents still in the library to a loaded copy: nothing ever deleted the files, the tombstone or
// the resume row. The member is killed and replicas lowered to 1, which has the coordinator trim
// its copy (HolderStore.unplaceAll); the test writes the same tombstone too, so as not to wait on
// the coordinator's pass (or on a coordinator: the member killed may have been it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { sqlOnce } from '../../node/test/postgres-server.ts';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, qb, qbLogin, setSettings, share, testCluster } from './cluster-process.ts';

test('a copy trimmed while its member was down: deleted once it is back, its tombstone and resume row gone', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'trimmed_down');
  const a = await cluster.start('a', '127.0.0.91');
  let b = await cluster.start('b', '127.0.0.92');
  const ih = await share(a, 'one.bin', randomBytes(1024 * 1024 + 5));
  await holdersWhen(a, ih, 'two copies done', (h) => liveDone(h).length === 2, 120_000);
  // Its file renamed (through a, on every holder): the sweep deletes it by the name the library
  // gives it (it went by the .torrent's, deleted nothing and left the file: cluster-holders, 30 Nov).
  const renaming = await qb(a, 'torrents/renameFile', { hash: ih, oldPath: 'one.bin', newPath: 'renamed.bin' }, await qbLogin(a));
  assert.equal(renaming.status, 200, await renaming.text());
  const bCopy = join((await detail(b, ih))!.savePath as string, 'renamed.bin');
  await until(`renamed on b: ${bCopy}`, async () => (existsSync(bCopy) ? true : undefined), 20_000);
  // Killed first, then replicas lowered so that nothing is placed on b again: lowered while b ran,
  // the coordinator would trim b's copy at once (a surplus copy), and b delete it before the kill.
  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');
  await setSettings(a, { replicas: 1 });

  const rows = async () => (await sqlOnce<{ h: string; r: string }>(cluster.database, 'SELECT (SELECT count(*) FROM torrent_holders WHERE info_hash = $1 AND member_id = $2) AS h, (SELECT count(*) FROM resume WHERE info_hash = $1 AND member_id = $2) AS r', [ih, b.id])).rows[0]!;
  const trimmed = await sqlOnce(cluster.database, "UPDATE torrent_holders SET state = 'removed+data' WHERE info_hash = $1 AND member_id = $2", [ih, b.id]);
  assert.equal(trimmed.changed, 1);
  assert.deepEqual(await rows(), { h: '1', r: '1' }, 'the tombstone and the resume row b left');

  b = await cluster.start('b', '127.0.0.92');
  await until(`b deleted its trimmed copy ${bCopy}`, async () => (existsSync(bCopy) ? undefined : true), 60_000);
  await until('its tombstone and resume row gone', async () => {
    const r = await rows();
    return r.h === '0' && r.r === '0' ? true : undefined;
  }, 30_000);
  assert.equal((await detail(a, ih))!.progress, 1, "the library keeps the torrent, a's copy");
  // Deleted by the tombstone, not loaded first: a load at b's start raced the tombstone sweep, which
  // found nothing running, dropped the tombstone and the resume row, and left the files of the copy
  // the load had just added (bench:crash --cluster, 30 Nov).
  const serving = b.node.events.find((e) => e.event === 'serving')!;
  assert.equal(serving.torrents, 0, 'the trimmed copy was loaded at the start');
  const told = b.node.events.filter((e) => e.event === 'cluster');
  assert.ok(told.some((e) => e.state === 'removed copy dropped' && e.infoHash === ih && e.files === 1), JSON.stringify(told));
  assert.ok(!told.some((e) => e.state === 'copies trimmed' && (e.torrents as string[]).includes(ih)), 'deleted as a running copy');
  for (const m of [a, b]) await m.node.stop();
});
