// A holder killed halfway through a move asked through another member (issue 63, items 3 and 5;
// found by bench:crash --cluster). The holder moved its copy file by file and only then stored the
// new save path, with no journal: killed halfway, it came back with part of its files in each
// folder and a record naming the old one, so it had pieces to fetch again. Its move now goes through
// the node's move journal, and a restart puts it back; the move, still asked in its holder row, is
// then made again. The other holder is stopped before the restart, so nothing can be fetched again:
// the copy must be whole on the holder's own disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from './node-process.ts';
import { detail, testCluster } from './cluster-process.ts';
import { FILES, killInsideMove } from './cluster-move-kill.ts';

test('a holder killed halfway through a move asked through another member: its copy whole in one folder, the move made after the restart', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'move_crash');
  const { a, ih, from, to, filesIn } = await killInsideMove(cluster, ['127.0.0.81', '127.0.0.82']);

  // Nobody to fetch from: what b has after the restart is what its own disk kept.
  await a.node.stop();
  const b = await cluster.start('b', '127.0.0.82');
  const done = await until('b runs its copy whole, moved', async () => {
    const d = await detail(b, ih);
    return d && d.state === 'seeding' && d.savePath === to ? d : undefined;
  }, 120_000);
  assert.equal(done.verifiedPieces, done.pieceCount, 'nothing to fetch again');
  assert.deepEqual({ moved: filesIn(to), left: filesIn(from) }, { moved: FILES, left: 0 }, `every file in ${to}, none left in ${from}`);
  const mine = ((await detail(b, ih))!.holders as { member: string; moveTo: string | null; moveError: string | null }[]).find((h) => h.member === b.id)!;
  assert.deepEqual({ moveTo: mine.moveTo, moveError: mine.moveError }, { moveTo: null, moveError: null }, 'the move asked is settled');
  await b.node.stop();
});
