// A torrent removed through one member while another was starting (issue 63, found by
// bench:crash --cluster: "acknowledged removes gone", m2 listing a torrent removed through m1 1 s
// into m2's start). A member reads its views as it opens its state, and heard the change bus only
// once its node was up: a notice in between found no views to apply to, and with the bus already
// connected no resync followed, so the removed torrent stayed listed there for good. The start is
// held here on a lock of the settings table, which a starting node reads after it opened its state
// and connected its bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { holdRowLocks } from '../../node/test/postgres-server.ts';
import { until } from './node-process.ts';
import { share, testCluster } from './cluster-process.ts';

const listed = async (m: { node: { api(path: string): Promise<Response> } }, ih: string) => (await m.node.api(`/api/torrents/${ih}`)).status === 200;

test('a torrent removed through one member while another starts: not listed on it once it is up', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'start_notices');
  const a = await cluster.start('a', '127.0.0.85');
  let b = await cluster.start('b', '127.0.0.86');
  const ih = await share(a, 'n.bin', randomBytes(256 * 1024 + 1));
  await until('b lists it', async () => ((await listed(b, ih)) ? true : undefined), 30_000);
  await b.node.stop();

  const release = await holdRowLocks(cluster.database, 'LOCK TABLE settings IN ACCESS EXCLUSIVE MODE');
  t.after(release);
  const starting = cluster.start('b', '127.0.0.86');
  await new Promise((r) => setTimeout(r, 4000)); // b opened its state and waits on the lock
  const removed = await a.node.api(`/api/torrents/${ih}`, { method: 'DELETE' });
  assert.equal(removed.status, 200, await removed.text());
  await new Promise((r) => setTimeout(r, 1000));
  await release();
  b = await starting;
  await until('b no longer lists the removed torrent', async () => ((await listed(b, ih)) ? undefined : true), 20_000);
  for (const m of [a, b]) await m.node.stop();
});
