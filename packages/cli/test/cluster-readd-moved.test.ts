// A torrent removed with its data through one member while a holder was down, then added again
// through that holder as soon as it is back (issue 63, found by bench:crash --cluster: "data in
// exactly one place"). The holder's copy had been moved to a folder of its own; the add stored the
// torrent anew and cleared the holder's tombstone before it was acted on, so nothing ever deleted
// the old copy's files there. Now an add through a member drops its own tombstoned copy first.
// The member's own sweep of its tombstones (after each lease renewal) would otherwise win the race
// here: it is held back by a lock on the coordinator's row, which a member's tick takes after
// renewing and before it follows its holdings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { holdRowLocks } from '../../node/test/postgres-server.ts';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, share, testCluster } from './cluster-process.ts';

test('removed with its data while a holder was down, added again through it at once: its old copy goes', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'readd_moved');
  const a = await cluster.start('a', '127.0.0.71');
  let b = await cluster.start('b', '127.0.0.72');
  const ih = await share(a, 'moved.bin', randomBytes(1024 * 1024 + 9));
  const torrent = new Uint8Array(await (await a.node.api(`/api/torrents/${ih}/torrent`)).arrayBuffer());
  await holdersWhen(a, ih, 'two copies done', (h) => liveDone(h).length === 2, 120_000);
  // Every copy to "elsewhere" under its member's download dir: b's old copy is then not where a new add puts it.
  const moved = await a.node.api(`/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: 'elsewhere' }) });
  assert.equal(moved.status, 200, await moved.text());
  const old = join(b.stateDir, 'downloads', 'elsewhere', 'moved.bin');
  await until(`b's copy moved to ${old}`, async () => ((await detail(b, ih))?.savePath === join(b.stateDir, 'downloads', 'elsewhere') && existsSync(old) ? true : undefined), 60_000);

  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');
  const removed = await a.node.api(`/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
  assert.equal(removed.status, 200, await removed.text());

  const release = await holdRowLocks(cluster.database, 'SELECT * FROM cluster_coordinator FOR UPDATE');
  t.after(release);
  b = await cluster.start('b', '127.0.0.72');
  const form = new FormData();
  form.append('torrent', new Blob([torrent], { type: 'application/x-bittorrent' }), 'again.torrent');
  const added = await b.node.api('/api/torrents', { method: 'POST', body: form });
  assert.equal(added.status, 201, await added.text());
  await release();
  await until(`b's old copy ${old} deleted`, async () => (existsSync(old) ? undefined : true), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; b said ${JSON.stringify(b.node.events.filter((e) => e.event === 'cluster' || e.event === 'note'))}`);
  });
  assert.equal((await b.node.api(`/api/torrents/${ih}`)).status, 200, 'the add is kept');
  for (const m of [a, b]) await m.node.stop();
});
