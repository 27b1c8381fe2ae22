// A holder killed halfway through a move asked through another member (issue 63, items 3 and 5;
// found by bench:crash --cluster). The holder moved its copy file by file and only then stored the
// new save path, with no journal: killed halfway, it came back with part of its files in each
// folder and a record naming the old one, so it had pieces to fetch again. Its move now goes through
// the node's move journal, and a restart puts it back; the move, still asked in its holder row, is
// then made again. The other holder is stopped before the restart, so nothing can be fetched again:
// the copy must be whole on the holder's own disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, testCluster, type Member } from './cluster-process.ts';

const FILES = 1500;

test('a holder killed halfway through a move asked through another member: its copy whole in one folder, the move made after the restart', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'move_crash');
  const a = await cluster.start('a', '127.0.0.81');
  let b = await cluster.start('b', '127.0.0.82');
  // A folder of many small files, shared through a: the move of b's copy is long enough to kill it inside.
  const form = new FormData();
  for (let i = 0; i < FILES; i++) form.append('files', new Blob([randomBytes(1500 + (i % 7))]), `f${String(i).padStart(4, '0')}.bin`);
  const r = await a.node.api('/api/torrents', { method: 'POST', body: form });
  const { infoHash: ih } = (await r.json()) as { infoHash: string };
  assert.equal(r.status, 201);
  await holdersWhen(a, ih, 'both copies done', (h) => liveDone(h).length === 2, 120_000);
  const name = (await detail(b, ih))!.name as string;
  const filesIn = (dir: string) => (existsSync(join(dir, name)) ? readdirSync(join(dir, name), { recursive: true }).filter((n) => String(n).endsWith('.bin')).length : 0);
  const from = (await detail(b, ih))!.savePath as string;
  const to = join(b.stateDir, 'downloads', 'moved');
  assert.equal(filesIn(from), FILES);

  // The move through a: a moves its own copy before the answer, then b follows, file by file.
  const moved = await a.node.api(`/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: 'moved' }) });
  assert.equal(moved.status, 200, await moved.text());
  const end = Date.now() + 60_000;
  while (filesIn(to) < 50) {
    assert.ok(Date.now() < end, 'b never moved its copy');
    await new Promise((r) => setTimeout(r, 2));
  }
  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');
  const split = filesIn(to);
  assert.ok(split > 0 && split < FILES, `the kill landed inside b's move (${split} of ${FILES} files moved)`);

  // Nobody to fetch from: what b has after the restart is what its own disk kept.
  await a.node.stop();
  b = await cluster.start('b', '127.0.0.82');
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
