// A renamed torrent removed with its data through one member while another holder was down (issue
// 63): the holder deletes its copy when it is back, by what its tombstone says. The library's row,
// which held the files' new names, went with the removal, so the holder went by the .torrent's
// names alone: its renamed file stayed for good, named by nothing. The removal now keeps the names
// on each tombstone (torrent_holders.renamed_files, schema 27).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, qb, qbLogin, share, testCluster } from './cluster-process.ts';

test('a renamed torrent removed with its data while a holder was down: the holder deletes its renamed copy when back', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'removed_renamed');
  const a = await cluster.start('a', '127.0.0.121');
  let b = await cluster.start('b', '127.0.0.122');
  const ih = await share(a, 'one.bin', randomBytes(1024 * 1024 + 7));
  await holdersWhen(a, ih, 'two copies done', (h) => liveDone(h).length === 2, 120_000);
  const renaming = await qb(a, 'torrents/renameFile', { hash: ih, oldPath: 'one.bin', newPath: 'renamed.bin' }, await qbLogin(a));
  assert.equal(renaming.status, 200, await renaming.text());
  const bCopy = join((await detail(b, ih))!.savePath as string, 'renamed.bin');
  await until(`renamed on b: ${bCopy}`, async () => (existsSync(bCopy) ? true : undefined), 20_000);
  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');

  const removed = await a.node.api(`/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
  assert.ok(removed.ok, `${removed.status} ${await removed.text()}`);
  assert.ok(existsSync(bCopy), "b's copy is there while b is down");

  b = await cluster.start('b', '127.0.0.122');
  await until(`b deleted its renamed copy ${bCopy}`, async () => (existsSync(bCopy) ? undefined : true), 60_000);
  // Said once the tombstone is dropped too, which follows the files (a full run read the events
  // just before the line came).
  const dropped = (e: Record<string, any>) => e.event === 'cluster' && e.state === 'removed copy dropped' && e.infoHash === ih;
  await until('b to say it dropped the copy', async () => (b.node.events.some(dropped) ? true : undefined), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(b.node.events.filter((e) => e.event === 'cluster'))}`);
  });
  assert.equal(b.node.events.find(dropped)!.files, 1, 'one file deleted: the renamed one (its first name is not on disk)');
  for (const m of [a, b]) await m.node.stop();
});
