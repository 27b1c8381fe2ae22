// A member killed and started again at once (kill -9 and a service manager's restart, an OOM kill)
// keeps its copies (issue 63): its join moves its holder rows to its new epoch in the same
// transaction (cluster/src/cluster-store.ts), so the coordinator's pass that runs while its node
// starts finds them counting. Before, a pass in that window (the member's engine and library
// loading, after the join and before it registered its rows) placed each of its torrents on the
// member that held no copy and, once those copies were whole, trimmed the member's own: a restart
// could copy its library again. The window is narrow (the parent passed 4 restarts here once):
// placement.test.ts makes the race deterministic; this is the whole path, end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { holdersWhen, liveDone, share, testCluster, type Holder } from './cluster-process.ts';

const RESTARTS = 4;

test('a member killed and restarted at once: its copies count, nothing is placed elsewhere or trimmed', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'restart_quick');
  const a = await cluster.start('a', '127.0.0.151');
  let b = await cluster.start('b', '127.0.0.152');
  // Two members, two copies of each file (replicas automatic: 2).
  const files: string[] = [];
  for (let i = 0; i < 6; i++) files.push(await share(a, `f${i}.bin`, randomBytes(256 * 1024 + i)));
  for (const ih of files) await holdersWhen(a, ih, `two copies of ${ih} done`, (h) => liveDone(h).length === 2, 120_000);
  // A third member, with room and no copy: where the coordinator would place a copy that stopped counting.
  const c = await cluster.start('c', '127.0.0.153');
  const holdersOf = async (ih: string) => ((await (await a.node.api(`/api/torrents/${ih}`)).json()) as { holders: Holder[] }).holders;
  const onlyAB = async (when: string) => {
    for (const ih of files) {
      const h = await holdersOf(ih);
      assert.deepEqual(h.map((x) => x.member).sort(), [a.id, b.id].sort(), `${when}: ${ih} held by a and b alone: ${JSON.stringify(h)}`);
    }
  };
  await onlyAB('before');

  for (let i = 1; i <= RESTARTS; i++) {
    b.node.child.kill('SIGKILL');
    await once(b.node.child, 'exit');
    b = await cluster.start('b', '127.0.0.152');
    // Three of the coordinator's renewals (each a pass) after b serves again.
    await new Promise((r) => setTimeout(r, 6_500));
    await onlyAB(`restart ${i}`);
    for (const ih of files) await holdersWhen(a, ih, `both copies of ${ih} live and whole`, (h) => liveDone(h).length === 2, 30_000);
  }
  const cSaid = c.node.events.filter((e) => e.event === 'cluster' && e.state === 'copies trimmed');
  assert.deepEqual(cSaid, [], 'c was never placed a copy to trim');
  for (const m of [a, b, c]) await m.node.stop();
});
