// A resume through a member that holds no copy, whose view of the torrent's status disagrees with
// its holders (issue 63, found by bench:crash --cluster: after the user's pause, a surplus copy
// still stopping on a member wrote 'seeding' into the library's status; that member, restarted, then
// judged a resume by it — "not stopped" — and did nothing, so both holders stayed paused for good).
// The library's status is written here as that late status wrote it, with the non-holder down; its
// restart reads it. The resume must still reach the holder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { sqlOnce } from '../../node/test/postgres-server.ts';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, setSettings, share, testCluster } from './cluster-process.ts';

test('a resume through a member holding no copy, its view saying "seeding": the paused holder runs again', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'resume_stale');
  const a = await cluster.start('a', '127.0.0.87');
  let b = await cluster.start('b', '127.0.0.88');
  await setSettings(a, { replicas: 1 });
  const ih = await share(a, 'one.bin', randomBytes(512 * 1024 + 3));
  await holdersWhen(a, ih, 'one copy done, on a', (h) => liveDone(h).length === 1 && h.every((x) => x.member === a.id), 60_000);

  const pause = await b.node.api(`/api/torrents/${ih}/pause`, { method: 'POST' });
  assert.ok(pause.status < 300, await pause.text());
  await until('paused on a', async () => ((await detail(a, ih))!.state === 'paused' ? true : undefined), 30_000);

  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');
  const stale = await sqlOnce(cluster.database, "UPDATE torrents SET status = 'seeding' WHERE info_hash = $1", [ih]);
  assert.equal(stale.changed, 1);
  b = await cluster.start('b', '127.0.0.88');
  assert.equal((await detail(b, ih))!.state, 'seeding', "b's view: the library's status");

  const resume = await b.node.api(`/api/torrents/${ih}/resume`, { method: 'POST' });
  assert.ok(resume.status < 300, await resume.text());
  await until('seeding again on a', async () => ((await detail(a, ih))!.state === 'seeding' ? true : undefined), 30_000);
  for (const m of [a, b]) await m.node.stop();
});
