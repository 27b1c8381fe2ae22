// The whole machine standing still past the lease (issue 63: the 2-hour cluster soak's VM stood
// still ~10 s, longer than the 6 s lease; a member was declared dead and fenced, and the take-over
// of its copies opened ~1,500 connections on the others). Here three real members are frozen
// together with SIGSTOP for 10 s while the database's clock runs on, as a paused VM's would, then
// thawed: nobody is fenced or declared dead, no epoch moves, no copy is placed anew, and the
// coordinator says it spared the members whose lease ran out meanwhile. Production timing (a 6 s
// lease renewed every 2 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { holdersWhen, liveDone, share, testCluster, type Member } from './cluster-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function membership(m: Member): Promise<{ id: string; alive: boolean; epoch: number }[]> {
  const r = await m.node.api('/api/cluster');
  assert.equal(r.status, 200);
  const view = (await r.json()) as { members: { id: string; alive: boolean; epoch: number }[] };
  return view.members.map(({ id, alive, epoch }) => ({ id, alive, epoch })).sort((x, y) => (x.id < y.id ? -1 : 1));
}

const clusterStates = (m: Member) => m.node.events.filter((e) => e.event === 'cluster').map((e) => String(e.state));

test('every member frozen together for longer than the lease: nobody fenced, nobody declared dead, nothing placed again', { timeout: 240_000 }, async (t) => {
  const cluster = await testCluster(t, 'stand_still');
  const members = [await cluster.start('a', '127.0.0.101'), await cluster.start('b', '127.0.0.102'), await cluster.start('c', '127.0.0.103')];
  const [a] = members as [Member, Member, Member];
  const ih = await share(a, 'still.bin', randomBytes(256 * 1024 + 3));
  const before = await holdersWhen(a, ih, 'two copies done', (h) => liveDone(h).length === 2, 90_000);
  const seen = await membership(a);
  assert.equal(seen.filter((x) => x.alive).length, 3);
  const fencedBefore = members.map((m) => clusterStates(m).filter((s) => s === 'fenced').length);

  for (const m of members) process.kill(m.node.child.pid!, 'SIGSTOP');
  t.after(() => {
    for (const m of members) if (m.node.child.exitCode === null) process.kill(m.node.child.pid!, 'SIGCONT');
  });
  await sleep(10_000);
  for (const m of members) process.kill(m.node.child.pid!, 'SIGCONT');
  // Four renewals' time: a declaration, a fence and a placement would all have happened by then.
  await sleep(8_000);

  for (const m of members) assert.deepEqual(await membership(m), seen, `membership as ${m.host} sees it: every member alive at the same epoch`);
  assert.deepEqual(members.map((m) => clusterStates(m).filter((s) => s === 'fenced').length), fencedBefore, 'nobody fenced');
  const after = await holdersWhen(a, ih, 'holders read', () => true);
  assert.deepEqual(after.map((h) => [h.member, h.alive]).sort(), before.map((h) => [h.member, h.alive]).sort(), 'the same two holders, alive: no copy placed again');
  // Said only when the coordinator renewed before the others after the thaw (they may renew their
  // lapsed leases first: nobody left to spare); under load the order varies, so not asserted.
  const spared = members.flatMap((m) => m.node.events.filter((e) => e.event === 'note' && /stood still/.test(String(e.message))));
  t.diagnostic(spared.length > 0 ? `the coordinator said: ${String(spared[0]!.message)}` : 'the others renewed before the coordinator looked: nobody to spare');
});
