// /metrics on a cluster member (issue 42 item 4: "each member's own series plus cluster gauges"), on
// a real PostgreSQL: the member's id and URL, the members alive and dead by their leases, replicas,
// the coordinator, fencing, and the database going away (the scrape still answers, at once, and says
// the database was not read). A node not in a cluster exposes no cascade_cluster_* series.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterMembership } from '@cascade/cluster';
import { PostgresStore, startPostgres } from '../../node/test/state-engines.ts';
import { startTestServer, type TestServer } from './server-helpers.ts';
import { until } from './model-helpers.ts';

/** The exposition's samples as "name{labels}" → value. */
async function scrape(s: TestServer): Promise<Map<string, number>> {
  const res = await s.request('/metrics');
  assert.equal(res.status, 200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('a node not in a cluster has no cluster gauges', async (t) => {
  const s = await startTestServer(t);
  const m = await scrape(s);
  assert.deepEqual([...m.keys()].filter((k) => k.startsWith('cascade_cluster_')), []);
});

test('a member reports its place and the members: alive, dead, replicas, coordinator, fenced, the database away', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.database('cluster_metrics');
  const s = await startTestServer(t, { database, cluster: { url: 'http://127.0.0.1:18081' } });
  await s.ready;
  const me = s.node.cluster!;
  await until('coordinator', async () => ((await scrape(s)).get('cascade_cluster_coordinator') === 1 ? true : undefined));

  // A second member (its own connection, as another process).
  const other = await PostgresStore.open(database);
  t.after(() => other.close());
  const b = await ClusterMembership.join(other, { id: 'did:key:zSecondMember', url: 'http://127.0.0.2:8080', instance: 'second', leaseMs: 1500, renewMs: 500 });
  t.after(() => b.release());
  await b.tick();
  const two = await scrape(s);
  assert.equal(two.get(`cascade_cluster_member_info{member="${me.id}",url="http://127.0.0.1:18081"}`), 1);
  assert.equal(two.get('cascade_cluster_members{state="alive"}'), 2);
  assert.equal(two.get('cascade_cluster_members{state="dead"}'), 0);
  assert.equal(two.get('cascade_cluster_replicas'), 2, 'two alive: 2 by default');
  assert.equal(two.get('cascade_cluster_epoch'), 1);
  assert.equal(two.get('cascade_cluster_fenced'), 0);
  assert.equal(two.get('cascade_cluster_database_up'), 1);
  // Its own series are there beside them.
  assert.ok([...two.keys()].some((k) => k.startsWith('cascade_node_info{')), 'the node info');
  assert.ok([...two.keys()].some((k) => k.startsWith('cascade_bytes_total{')), 'the engine totals');

  // The second member stops renewing (a killed process): once the coordinator (this member)
  // declares it dead, it counts as dead and replicas follow the members alive.
  b.abandon();
  const after = await until('the second member dead', async () => {
    const m = await scrape(s);
    return m.get('cascade_cluster_members{state="dead"}') === 1 ? m : undefined;
  });
  assert.equal(after.get('cascade_cluster_members{state="alive"}'), 1);
  assert.equal(after.get('cascade_cluster_replicas'), 1);

  // Its place taken by another process: this member is fenced until it is back in.
  await other.run('UPDATE cluster_members SET instance = ?, epoch = epoch + 1, lease_until = lease_until + 600000 WHERE id = ?', ['usurper', me.id]);
  await until('fenced', async () => ((await scrape(s)).get('cascade_cluster_fenced') === 1 ? true : undefined));
  assert.equal((await scrape(s)).get('cascade_cluster_coordinator'), 0, 'a fenced member gives up coordinating');
  await other.run('UPDATE cluster_members SET lease_until = 0 WHERE id = ?', [me.id]);
  const back = await until('rejoined', async () => {
    const m = await scrape(s);
    return m.get('cascade_cluster_fenced') === 0 ? m : undefined;
  });
  assert.equal(back.get('cascade_cluster_epoch'), 3, 'joined, taken, rejoined');

  // The database gone: the scrape still answers, says so, and shows no members it could not read.
  await s.node.db.close();
  const down = await scrape(s);
  assert.equal(down.get('cascade_cluster_database_up'), 0);
  assert.equal(down.has('cascade_cluster_members{state="alive"}'), false);
  assert.ok(Number.isNaN(down.get('cascade_cluster_replicas')), 'replicas unknown: NaN, not 0');
  assert.equal(down.get('cascade_cluster_epoch'), 3, "its own place is known without the database");
});
