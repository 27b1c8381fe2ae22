// A holder killed halfway through a move asked through another member, and the torrent removed with
// its data through that member while the holder was down (issue 63, found by bench:crash --cluster:
// m1's crash-0.bin left in moved-b). At its restart the holder undid moves a crash cut short only for
// torrents still in its records; the removed torrent's journal was dropped with the files moved so
// far left in the new folder, while its tombstone named the old one, so they stayed for good. Now
// the tombstone's folder is where they go back to, and the tombstone deletes them there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from './node-process.ts';
import { testCluster } from './cluster-process.ts';
import { killInsideMove } from './cluster-move-kill.ts';

test('a holder killed inside a move, its torrent removed with the data meanwhile: back, none of its files stay in either folder', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'move_crash_removed');
  const { a, ih, from, to, filesIn } = await killInsideMove(cluster, ['127.0.0.83', '127.0.0.84']);

  const removed = await a.node.api(`/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
  assert.equal(removed.status, 200, await removed.text());
  const b = await cluster.start('b', '127.0.0.84');
  await until(`none of b's files left (in ${from} or ${to})`, async () => (filesIn(from) + filesIn(to) === 0 ? true : undefined), 60_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${filesIn(from)} in ${from}, ${filesIn(to)} in ${to}; b said ${JSON.stringify(b.node.events.filter((e) => e.event === 'note' || e.event === 'cluster'))}`);
  });
  for (const m of [a, b]) await m.node.stop();
});
