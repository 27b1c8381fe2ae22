// Cluster membership (src/membership.ts, cluster-store.ts; issue 42 step 3) on both engines: the embedded SQLite file and
// a real PostgreSQL server. Members join with an epoch and renew their lease with their figures; a
// lease that runs out makes a member dead, which the coordinator declares by bumping its epoch (the
// fence): that member's next renewal is refused, it says so and rejoins with a new epoch. One
// coordinator at a time, however many try at once; a member and a single node never share a
// database. Time passing is written into the rows (as store-cases/lease.ts does), except in the
// case that runs the real timers with the real lease lengths.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { nowSql, type Store } from '@cascade/node/cluster-host';
import { ClusterMembership, MEMBER_LEASE_MS, MEMBER_RENEW_MS, clusterView, type MemberRow, type MemberStats } from '../index.ts';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';

const stats = (torrents: number): MemberStats => ({ torrents, freeBytes: 5_000_000_000 + torrents, downloadRate: 1000 * torrents, uploadRate: 2000 * torrents, btPort: 6000 + torrents });

function member(store: Store, name: string, instance = `instance-${name}`, figures = stats(name.length)): Promise<ClusterMembership> {
  return ClusterMembership.join(store, { id: `did:key:z${name}`, url: `http://127.0.0.${name.length}:8080`, instance, stats: () => figures });
}

/** `ms` of the database's clock passing for one member's lease (the test does not wait them out). */
async function age(store: Store, m: ClusterMembership, ms: number): Promise<void> {
  await store.run('UPDATE cluster_members SET lease_until = lease_until - ?, last_seen = last_seen - ? WHERE id = ?', [ms, ms, m.id]);
}

async function row(m: ClusterMembership): Promise<MemberRow> {
  const r = (await m.store.list()).members.find((x) => x.id === m.id);
  assert.ok(r, `${m.id} has a row`);
  return r;
}

function events(m: ClusterMembership): { fenced: string[]; rejoined: number[]; dead: string[]; coordinator: boolean[] } {
  const e = { fenced: [] as string[], rejoined: [] as number[], dead: [] as string[], coordinator: [] as boolean[] };
  m.on('fenced', (r) => e.fenced.push(r));
  m.on('rejoined', (epoch) => e.rejoined.push(epoch));
  m.on('dead', (rows) => e.dead.push(...rows.map((r) => r.id)));
  m.on('coordinator', (holds) => e.coordinator.push(holds));
  return e;
}

async function cases(t: TestContext, open: Open): Promise<void> {
  await t.test('members join, renew with their figures, and are listed alive by their lease on the database clock', async (t) => {
    const store = await open(t);
    const a = await member(store, 'alpha');
    const b = await member(store, 'beta!');
    assert.equal(a.epoch, 1);
    await a.tick();
    await b.tick();
    const list = await a.store.list();
    assert.deepEqual(list.members.map((m) => m.id).sort(), ['did:key:zalpha', 'did:key:zbeta!']);
    const ra = await row(a);
    assert.deepEqual({ torrents: ra.torrents, freeBytes: ra.freeBytes, downloadRate: ra.downloadRate, uploadRate: ra.uploadRate, btPort: ra.btPort }, stats(5));
    assert.equal(ra.leaseUntil - ra.lastSeen, MEMBER_LEASE_MS, 'a renewal gives a 6 s lease from the database clock');
    const view = clusterView(list, null, a.id);
    assert.deepEqual(view.members.map((m) => [m.alive, m.self]), [[true, true], [true, false]]);
    assert.equal(view.replicas, 2, 'two members alive: 2 replicas by default');
    assert.equal(clusterView(list, 3).replicas, 3, 'the setting wins');
    assert.equal(view.members[0]!.lastSeen, new Date(ra.lastSeen).toISOString());
    assert.equal(view.members.filter((m) => m.coordinator).length, 1, 'the first to renew took the coordinator lease');
    // Another process with the same node key is refused while the first is alive.
    await assert.rejects(member(store, 'alpha', 'instance-other'), (err: Error & { kind?: string }) => {
      assert.equal(err.kind, 'conflict');
      assert.match(err.message, /cluster member did:key:zalpha already runs at http:\/\/127\.0\.0\.5:8080 .*two nodes with one node key/);
      return true;
    });
    // A lease that ran out is not alive, and one alive member means 1 replica.
    await age(store, b, MEMBER_LEASE_MS + 1000);
    const later = clusterView(await a.store.list(), null);
    assert.deepEqual(later.members.map((m) => m.alive), [true, false]);
    assert.equal(later.replicas, 1);
    await a.release();
    await b.release();
    const left = await a.store.list();
    assert.equal(left.members.filter((m) => m.leaseUntil >= left.now).length, 0, 'members that left are not alive');
  });

  await t.test('a lease that ran out is declared dead by the coordinator (the fence); that member is refused, says so and rejoins', async (t) => {
    const store = await open(t);
    const a = await member(store, 'alpha');
    const b = await member(store, 'beta!');
    const ea = events(a);
    const eb = events(b);
    await b.tick();
    await a.tick();
    assert.equal(b.isCoordinator, true);
    assert.equal(a.isCoordinator, false);
    // alpha is cut off: its lease runs out without a renewal.
    await age(store, a, MEMBER_LEASE_MS + 1);
    await b.tick();
    assert.deepEqual(eb.dead, ['did:key:zalpha']);
    const dead = await row(a);
    assert.equal(dead.epoch, 2, 'declaring dead bumps the epoch');
    assert.ok(dead.deadAt !== null && dead.deadAt > dead.leaseUntil, 'declared once its lease had run out');
    await b.tick();
    assert.deepEqual(eb.dead, ['did:key:zalpha'], 'declared once, not at every sweep');
    // alpha comes back: its renewal names epoch 1 and is refused.
    await a.tick();
    assert.equal(a.state, 'fenced');
    assert.equal(ea.fenced.length, 1);
    assert.match(ea.fenced[0]!, /epoch 1\) was taken from it/);
    assert.equal((await row(a)).epoch, 2, 'a fenced member changes nothing');
    // At its next tick it rejoins with a new epoch, alive again.
    await a.tick();
    assert.equal(a.state, 'member');
    assert.deepEqual(ea.rejoined, [3]);
    const back = await row(a);
    assert.equal(back.epoch, 3);
    assert.equal(back.deadAt, null);
    await a.tick();
    assert.ok((await row(a)).leaseUntil >= (await a.store.now()), 'renewed at its new epoch');
    // The same instance restarted (kill -9, then start) takes its place back at once; the old process is fenced.
    const a2 = await member(store, 'alpha');
    assert.equal(a2.epoch, 4);
    await a.tick();
    assert.equal(a.state, 'fenced');
    a.abandon();
    await a2.release();
    await b.release();
  });

  await t.test('two members taking the coordinator lease at once: exactly one; a coordinator that lost it declares nothing', async (t) => {
    const store = await open(t);
    const ms = await Promise.all(['one', 'two!', 'three', 'four!!'].map((n) => member(store, n)));
    const taken = await Promise.all(ms.map((m) => m.store.takeCoordinator(m.id, MEMBER_LEASE_MS)));
    assert.equal(taken.filter((e) => e !== undefined).length, 1, `one took it: ${JSON.stringify(taken)}`);
    // Free again (its taker above was no membership), for the members' own race.
    await store.run('UPDATE cluster_coordinator SET lease_until = 0');
    await Promise.all(ms.map((m) => m.tick()));
    assert.equal(ms.filter((m) => m.isCoordinator).length, 1, 'after a round of ticks, one coordinator');
    const first = ms.find((m) => m.isCoordinator)!;
    const firstEpoch = (await store.get<{ epoch: number }>('SELECT epoch FROM cluster_coordinator WHERE id = 1'))!.epoch;
    // The coordinator is cut off long enough for its lease to run out; another takes over.
    await store.run('UPDATE cluster_coordinator SET lease_until = lease_until - ?', [MEMBER_LEASE_MS + 1]);
    const other = ms.find((m) => m !== first)!;
    await other.tick();
    assert.equal(other.isCoordinator, true);
    // The old coordinator, back, cannot declare anyone dead with its old epoch.
    const victim = ms.find((m) => m !== first && m !== other)!;
    await age(store, victim, MEMBER_LEASE_MS + 1);
    assert.deepEqual(await first.store.declareDead(first.id, Number(firstEpoch)), []);
    await first.tick();
    assert.equal(first.isCoordinator, false, 'it learns at its next renewal');
    await other.tick();
    assert.equal((await row(victim)).epoch, 2, 'the live coordinator declares it');
    for (const m of ms) await m.release();
  });

  await t.test('the whole machine stood still past the lease (a VM paused): nobody is declared dead; one that does not come back is, a lease later', async (t) => {
    // Real time on a short lease: the database's clock runs on while no member renews, as it does
    // for a VM paused and resumed (its clock catches up) or a database restarted under the cluster.
    const store = await open(t);
    const short = { leaseMs: 600, renewMs: 150 };
    const join = (name: string) => ClusterMembership.join(store, { id: `did:key:z${name}`, url: `http://127.0.0.${name.length}:8080`, instance: `instance-${name}`, stats: () => stats(1), ...short });
    const [a, b, c] = [await join('alpha'), await join('beta!'), await join('gamma')];
    const ev = [a, b, c].map((m) => {
      const e = events(m);
      const spared: string[] = [];
      m.on('spared', (ids) => spared.push(...ids));
      return { ...e, spared };
    });
    for (const m of [a, b, c]) await m.tick();
    assert.equal(a.isCoordinator, true);
    const pause = () => new Promise((r) => setTimeout(r, 900));

    // Stood still 0.9 s, a lease and a half; the coordinator renews first.
    await pause();
    await a.tick();
    assert.equal(ev[0]!.dead.length, 0, 'nobody declared dead by a coordinator that stood still with them');
    assert.deepEqual(ev[0]!.spared.sort(), [b.id, c.id].sort(), 'the lapsed leases were given a new one');
    await b.tick();
    await c.tick();
    assert.deepEqual([a, b, c].map((m) => m.state), ['member', 'member', 'member'], 'nobody fenced');
    assert.deepEqual((await Promise.all([a, b, c].map(row))).map((r) => r.epoch), [1, 1, 1]);

    // Again, but another member renews first: the coordinator's lease ran out too, so it takes it over
    // (it stood still as well) and spares the old coordinator.
    await pause();
    await b.tick();
    assert.equal(b.isCoordinator, true, 'the first back takes the lapsed coordinator lease');
    assert.equal(ev[1]!.dead.length, 0, 'nobody declared dead');
    assert.ok(ev[1]!.spared.includes(a.id) && ev[1]!.spared.includes(c.id), `spared: ${ev[1]!.spared.join(', ')}`);
    await a.tick();
    await c.tick();
    assert.equal(a.isCoordinator, false, 'the old coordinator learns it lost the lease');
    assert.deepEqual([a, b, c].map((m) => m.state), ['member', 'member', 'member'], 'still nobody fenced');

    // A third pause after which gamma never comes back (it died in it): spared once, then declared
    // dead once its new lease runs out unrenewed, while the coordinator watches.
    await pause();
    const spared = ev[1]!.spared.length;
    await b.tick();
    assert.ok(ev[1]!.spared.slice(spared).includes(c.id));
    const deadline = Date.now() + 5_000;
    while (!ev[1]!.dead.includes(c.id) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await a.tick();
      await b.tick();
    }
    assert.deepEqual(ev[1]!.dead, [c.id], 'declared dead a lease after the pause');
    assert.equal(a.state, 'member');
    assert.equal((await row(c)).epoch, 2, 'fenced');

    // One member standing still alone while the coordinator runs is declared dead as before.
    const e = ev[0]!;
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150));
      await b.tick();
    }
    assert.deepEqual(ev[1]!.dead, [c.id, a.id], 'alpha, which stopped alone, is declared dead');
    await a.tick();
    assert.equal(a.state, 'fenced');
    assert.equal(e.fenced.length, 1);
    for (const m of [a, b, c]) await m.release();
  });

  await t.test('a cluster member and a single node never share a database', async (t) => {
    const store = await open(t);
    // The single node's lease (the node's state/database-lease.ts), alive 10 s on the database's clock.
    const n = nowSql(store.dialect);
    await store.run(`INSERT INTO node_lease (id, holder, description, epoch, renewed_at, expires_at) VALUES (1, 'single', 'pid 7 on host solo, state dir /solo', 1, ${n}, ${n} + 10000)`);
    await assert.rejects(member(store, 'alpha'), (err: Error & { kind?: string }) => {
      assert.equal(err.kind, 'conflict');
      assert.match(err.message, /a single Cascade node \(not in a cluster\) uses the database .*pid 7 on host solo/);
      return true;
    });
    await store.run('UPDATE node_lease SET expires_at = 0 WHERE id = 1'); // released
    const a = await member(store, 'alpha');
    const { now, members } = await a.store.list();
    assert.equal(members.filter((m) => m.leaseUntil >= now).length, 1, 'a live member: what keeps a single node off the database');
    await a.release();
  });

  await t.test('a database that does not answer: said once, renewals retried, said again once it answers', async (t) => {
    const store = await open(t);
    let down = false;
    // The store as a member sees it through a network that drops: its statements fail while down.
    const flaky = new Proxy(store, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (down && ['run', 'get', 'all'].includes(String(prop)) ? Promise.reject(new Error('connect ECONNREFUSED')) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const a = await member(flaky, 'alpha');
    const said: string[] = [];
    a.on('unreachable', (message) => said.push(message));
    a.on('reachable', () => said.push('back'));
    await a.tick();
    down = true;
    await a.tick();
    await a.tick();
    assert.deepEqual(said, ['connect ECONNREFUSED'], 'once per outage');
    assert.equal(a.state, 'member', 'not fenced by an outage shorter than its lease');
    down = false;
    await a.tick();
    assert.deepEqual(said, ['connect ECONNREFUSED', 'back']);
    await a.release();
  });

  await t.test('the real timers: a member that stops renewing (killed) is declared dead by the other', { timeout: 60_000 }, async (t) => {
    const store = await open(t);
    const a = await member(store, 'alpha');
    const b = await member(store, 'beta!');
    const eb = events(b);
    b.keep();
    a.keep();
    await a.tick();
    await b.tick();
    const killed = Date.now();
    a.abandon();
    await until(async () => eb.dead.includes(a.id));
    const r = await row(a);
    // Within 10 s of its last renewal: a 6 s lease, the coordinator looking every 2 s, and its last
    // renewal up to 2 s before it died. The figures are the database's; reported, not asserted.
    assert.equal(r.leaseUntil - r.lastSeen, MEMBER_LEASE_MS);
    assert.ok(r.deadAt! > r.leaseUntil);
    t.diagnostic(`declared dead ${((r.deadAt! - r.lastSeen) / 1000).toFixed(1)} s after its last renewal (bound: ${(MEMBER_LEASE_MS + 2 * MEMBER_RENEW_MS) / 1000} s), ${((Date.now() - killed) / 1000).toFixed(1)} s after it stopped`);
    await b.release();
  });
}

async function until(ok: () => Promise<boolean>): Promise<void> {
  while (!(await ok())) await new Promise((r) => setTimeout(r, 200));
}

test('cluster membership on SQLite', async (t) => {
  await cases(t, sqlite());
});

test('cluster membership on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  await cases(t, postgres(t).open);
});
