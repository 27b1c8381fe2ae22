// A save path moved while a holder checks its copy (issue 63, seen in bench:crash --cluster as
// move_error "cannot move a torrent while its data is being checked"). The engine refuses a move
// during a check; the holder settled the asked move as failed, so its copy stayed in the old folder
// for good while every other copy followed. Now the move stays asked and is made once the check is
// over. The check is b's recheck of a large copy, asked just before the move through a.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, share, testCluster } from './cluster-process.ts';

interface Placed {
  member: string;
  savePath: string | null;
  moveTo: string | null;
  moveError: string | null;
}

test("a move asked while a holder checks its copy: that copy follows once the check is over", { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'move_checking');
  const a = await cluster.start('a', '127.0.0.97');
  const b = await cluster.start('b', '127.0.0.98');
  const ih = await share(a, 'big.bin', randomBytes(192 * 1024 * 1024));
  await holdersWhen(a, ih, 'two copies done', (h) => liveDone(h).length === 2, 180_000);

  const recheck = await b.node.api(`/api/torrents/${ih}/recheck`, { method: 'POST' });
  assert.equal(recheck.status, 200, await recheck.text());
  const moved = await a.node.api(`/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: 'after-check' }) });
  assert.equal(moved.status, 200, await moved.text());
  const want = join(b.stateDir, 'downloads', 'after-check');
  const said = () => JSON.stringify(b.node.events.filter((e) => e.event === 'note' || (e.event === 'cluster' && e.state === 'moved')));
  const done = (await holdersWhen(a, ih, "b's copy moved too", (h) => (h as unknown as Placed[]).every((x) => x.moveTo === null) && (h as unknown as Placed[]).find((x) => x.member === b.id)?.savePath === want, 120_000).catch((err: Error) => {
    throw new Error(`${err.message}; b said ${said()}`);
  })) as unknown as Placed[];
  assert.equal(done.find((x) => x.member === b.id)!.moveError, null, said());
  await until('b runs its copy from there, whole', async () => {
    const d = await detail(b, ih);
    return d?.savePath === want && d.progress === 1 && d.state === 'seeding' ? true : undefined;
  }, 60_000);
  assert.ok(existsSync(join(want, 'big.bin')));
  for (const m of [a, b]) await m.node.stop();
});
