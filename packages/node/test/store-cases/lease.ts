// state/database-lease.ts on both engines: one holder at a time; a live lease refuses another
// node by name; a lease that ran out (or was given back) goes to the next node with a new epoch,
// and the old holder learns at its next renewal that it lost it; the same instance takes its own
// lease back at once (a restart after a crash); two nodes starting at once: exactly one gets it.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseLease, LEASE_MS, databaseNow } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function leaseCases(t: TestContext, open: Open): Promise<void> {
  await t.test('the database lease (state/database-lease.ts): one node at a time, named to the next; taken over once it runs out', async (t) => {
    const store = await open(t);
    const now = await databaseNow(store);
    assert.ok(Math.abs(now - Date.now()) < 60_000, `the database's clock is a clock in ms: ${now}`);
    const a = await DatabaseLease.take(store, 'instance-a', 'pid 1 on host alpha, state dir /a');
    assert.equal(a.epoch, 1);
    await assert.rejects(DatabaseLease.take(store, 'instance-b', 'pid 2 on host beta, state dir /b'), (err: Error & { kind?: string }) => {
      assert.equal(err.kind, 'conflict');
      assert.match(err.message, /another Cascade node uses the database .*: pid 1 on host alpha, state dir \/a, its lease renewed \d+\.\d s ago/);
      assert.match(err.message, /start this one again in \d+\.\d s/);
      return true;
    });
    assert.equal(await a.renew(), true);
    // The same instance (a restart after kill -9) takes it back at once, as a new epoch.
    const a2 = await DatabaseLease.take(store, 'instance-a', 'pid 3 on host alpha, state dir /a');
    assert.equal(a2.epoch, 2);
    const lost: string[] = [];
    a.keep((reason) => lost.push(reason));
    assert.equal(await a.renew(), false, 'the older epoch cannot renew');
    assert.equal(lost.length, 1);
    assert.match(lost[0]!, /taken over by pid 3 on host alpha/);
    // A lease that ran out (its node gone for LEASE_MS) goes to the next node.
    await store.run('UPDATE node_lease SET expires_at = ?', [now - LEASE_MS]);
    const b = await DatabaseLease.take(store, 'instance-b', 'pid 2 on host beta, state dir /b');
    assert.equal(b.epoch, 3);
    assert.equal(await a2.renew(), false, 'the node that lost it learns so');
    // Given back: the next node need not wait.
    await b.release();
    const c = await DatabaseLease.take(store, 'instance-c', 'pid 4 on host gamma, state dir /c');
    assert.equal(c.epoch, 4);
    assert.equal(await b.renew(), false, 'a released lease is not renewed');
    await c.release();
    // Two nodes starting together on a free lease: one gets it, the other is told who.
    const both = await Promise.allSettled([DatabaseLease.take(store, 'instance-d', 'd'), DatabaseLease.take(store, 'instance-e', 'e')]);
    assert.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  });
}
