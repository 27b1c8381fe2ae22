// GET /api/cluster (issue 42 item 2) on real nodes: a node not in a cluster lists itself with
// replicas 1; a member on a real PostgreSQL lists the members as the database has them (their
// leases on its clock), replicas as the setting or the default says; a member whose lease was taken
// answers 503 "fenced, rejoining" on /api/health/ready until it is back in; a single node and a
// cluster never share a database; the database down is a 503. Who may read it (members and above) is in auth.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterMembership, ClusterStore } from '@cascade/cluster';
import { PostgresStore, startPostgres } from '../../node/test/state-engines.ts';
import { startTestServer } from './server-helpers.ts';

const MEMBER_KEYS = ['id', 'url', 'alive', 'lastSeen', 'torrents', 'freeBytes', 'downloadRate', 'uploadRate', 'epoch', 'coordinator', 'self'];

function checkShape(body: any): void {
  assert.deepEqual(Object.keys(body).sort(), ['members', 'replicas']);
  assert.ok(Number.isInteger(body.replicas) && body.replicas >= 1);
  for (const m of body.members) {
    assert.deepEqual(Object.keys(m).sort(), [...MEMBER_KEYS].sort());
    assert.match(m.id, /^did:key:z/);
    assert.equal(new Date(m.lastSeen).toISOString(), m.lastSeen, 'lastSeen is an ISO time');
    for (const k of ['torrents', 'freeBytes', 'downloadRate', 'uploadRate', 'epoch']) assert.ok(Number.isInteger(m[k]) && m[k] >= 0, `${k}: ${m[k]}`);
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('GET /api/cluster on a node not in a cluster: itself alone, alive, replicas 1 whatever the setting', async (t) => {
  const s = await startTestServer(t);
  await s.ready;
  const r = await s.json('/api/cluster');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  checkShape(r.body);
  assert.equal(r.body.members.length, 1);
  const me = r.body.members[0];
  assert.equal(me.id, s.identity.did);
  assert.equal(me.url, s.url, 'the address it was reached at');
  assert.deepEqual([me.alive, me.self, me.coordinator, me.torrents, me.epoch], [true, true, false, 0, 0]);
  assert.ok(me.freeBytes > 0, 'the free bytes of its download dir');
  assert.equal(r.body.replicas, 1);
  assert.equal((await s.json('/api/settings', { method: 'PATCH', json: { replicas: 3 } })).status, 200);
  assert.equal((await s.json('/api/settings')).body.replicas, 3);
  assert.equal((await s.json('/api/cluster')).body.replicas, 1, 'one node holds everything once');
  // A public URL is how others reach it.
  await s.json('/api/settings', { method: 'PATCH', json: { publicUrl: 'https://cascade.example.org' } });
  assert.equal((await s.json('/api/cluster')).body.members[0].url, 'https://cascade.example.org');
  assert.equal((await s.json('/api/cluster', { anonymous: true })).status, 401);
  // Nor can a node on SQLite be a member: the members share PostgreSQL.
  await assert.rejects(startTestServer(t, { cluster: { url: 'http://127.0.0.1:1' } }), /--cluster-url needs --database postgres/);
});

test('GET /api/cluster on a member: the members on the database clock, replicas, fencing seen by /api/health/ready', { timeout: 180_000 }, async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.database('cluster');
  const s = await startTestServer(t, { database, cluster: { url: 'http://127.0.0.1:18080' } });
  await s.ready;
  const member = s.node.cluster!;
  assert.ok(member, 'the node is a member');
  const first = await until('its first renewal', async () => {
    const r = await s.json('/api/cluster');
    return r.body.members?.[0]?.coordinator ? r : undefined;
  });
  assert.equal(first.status, 200);
  checkShape(first.body);
  assert.deepEqual(first.body.members.map((m: any) => [m.id, m.url, m.alive, m.self, m.epoch]), [[s.identity.did, 'http://127.0.0.1:18080', true, true, 1]]);
  assert.equal(first.body.replicas, 1, 'one member alive');
  assert.deepEqual((await s.json('/api/health/ready')).body.checks.cluster, 'member');

  // Another member joins (a membership on its own connection, as another process would be).
  const other = await PostgresStore.open(database);
  t.after(() => other.close());
  const b = await ClusterMembership.join(other, { id: 'did:key:zOtherMember', url: 'http://127.0.0.2:8080', instance: 'other-instance' });
  t.after(() => b.release());
  await b.tick();
  const two = (await s.json('/api/cluster')).body;
  checkShape(two);
  assert.deepEqual(two.members.map((m: any) => [m.url, m.alive, m.self]), [['http://127.0.0.1:18080', true, true], ['http://127.0.0.2:8080', true, false]]);
  assert.equal(two.replicas, 2, 'two members alive: 2 by default');
  await s.json('/api/settings', { method: 'PATCH', json: { replicas: 3 } });
  assert.equal((await s.json('/api/cluster')).body.replicas, 3, 'the setting, once set');

  // A single node is refused on the members' database.
  await assert.rejects(startTestServer(t, { database }), /member.* of a cluster use.* the database .*--cluster-url/);

  // Another process takes this member's place (its id, a newer epoch, alive): this one is fenced,
  // not ready, and cannot rejoin while the other holds the place.
  const cs = new ClusterStore(other);
  await other.run('UPDATE cluster_members SET instance = ?, epoch = epoch + 1, lease_until = lease_until + 600000 WHERE id = ?', ['usurper', member.id]);
  const fenced = await until('fenced', async () => {
    const r = await s.json('/api/health/ready', { anonymous: true });
    return r.status === 503 ? r : undefined;
  });
  assert.match(fenced.body.reason, /^fenced, rejoining/);
  assert.equal(fenced.body.checks.cluster, 'fenced');
  assert.equal(member.state, 'fenced');
  // The other goes away (its lease ends): this member rejoins with a new epoch and is ready again.
  await other.run('UPDATE cluster_members SET lease_until = 0 WHERE id = ?', [member.id]);
  await until('ready again', async () => ((await s.json('/api/health/ready', { anonymous: true })).status === 200 ? true : undefined));
  const back = (await cs.list()).members.find((m) => m.id === member.id)!;
  assert.equal(back.epoch, 3, 'joined, taken, rejoined');
  assert.equal(back.instance === 'usurper', false);
  assert.equal(member.epoch, 3);
  // The database gone (what an outage looks like from here): a 503 that says so, not a 500.
  await s.node.db.close();
  const down = await s.json('/api/cluster');
  assert.equal(down.status, 503, JSON.stringify(down.body));
  assert.match(down.body.message, /^the cluster's database does not answer \(postgres:/);
  assert.equal(down.res.headers.get('retry-after'), '5');
});
