// A member's copy with no resume record (the member killed before its first resume save of a copy
// just placed on it), removed with its data or trimmed while the member was down (issue 63, found by
// bench:crash --cluster: "data in exactly one place", b91d5c96). Its tombstone is acted on when it
// is back, but the files to delete were named only by the info dict in its resume record, so they
// stayed for good ("removed copy dropped", files null). Now a removal leaves each such holder a
// resume record with the info dict and no pieces (Y), and a trimmed copy, whose torrent the library
// keeps, is named by the library's .torrent (X; it passed on the parent while b happened to load the
// copy at its start and delete it as a loaded one, which it no longer does since its tombstone's drop
// waits for the statuses on their way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { sqlOnce } from '../../node/test/postgres-server.ts';
import { until } from './node-process.ts';
import { detail, holdersWhen, liveDone, setSettings, share, testCluster } from './cluster-process.ts';

test('copies with no resume record, removed with their data or trimmed while their member was down: deleted once it is back', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'unsaved_copy');
  const a = await cluster.start('a', '127.0.0.99');
  let b = await cluster.start('b', '127.0.0.94');
  const x = await share(a, 'x.bin', randomBytes(1024 * 1024 + 3));
  const y = await share(a, 'y.bin', randomBytes(1024 * 1024 + 7));
  for (const ih of [x, y]) await holdersWhen(a, ih, `two copies of ${ih} done`, (h) => liveDone(h).length === 2, 120_000);
  const copies = [join((await detail(b, x))!.savePath as string, 'x.bin'), join((await detail(b, y))!.savePath as string, 'y.bin')];
  for (const c of copies) assert.ok(existsSync(c), c);
  // Killed first, then replicas lowered so that nothing is placed on b again: lowered while b ran,
  // the coordinator would trim b's copy at once (a surplus copy), and b delete it before the kill.
  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');
  await setSettings(a, { replicas: 1 });

  // b as if killed before it saved either copy's resume record.
  const forgot = await sqlOnce(cluster.database, 'DELETE FROM resume WHERE member_id = $1 AND info_hash IN ($2, $3)', [b.id, x, y]);
  assert.equal(forgot.changed, 2);
  const trimmed = await sqlOnce(cluster.database, "UPDATE torrent_holders SET state = 'removed+data' WHERE info_hash = $1 AND member_id = $2", [x, b.id]);
  assert.equal(trimmed.changed, 1);
  const removed = await a.node.api(`/api/torrents/${y}?deleteData=true`, { method: 'DELETE' });
  assert.equal(removed.status, 200, await removed.text());
  const rows = async (ih: string) => (await sqlOnce<{ h: string; r: string }>(cluster.database, 'SELECT (SELECT count(*) FROM torrent_holders WHERE info_hash = $1 AND member_id = $2) AS h, (SELECT count(*) FROM resume WHERE info_hash = $1 AND member_id = $2) AS r', [ih, b.id])).rows[0]!;
  assert.deepEqual(await rows(y), { h: '1', r: '1' }, "the removal left b's tombstone a resume record with the info dict");

  b = await cluster.start('b', '127.0.0.94');
  for (const c of copies) {
    await until(`b deleted ${c}`, async () => (existsSync(c) ? undefined : true), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; b said ${JSON.stringify(b.node.events.filter((e) => e.event === 'cluster' || e.event === 'note'))}`);
    });
  }
  for (const ih of [x, y]) {
    await until(`b's tombstone and resume record of ${ih} gone`, async () => {
      const r = await rows(ih);
      return r.h === '0' && r.r === '0' ? true : undefined;
    }, 30_000);
  }
  assert.equal((await detail(a, x))!.progress, 1, "the library keeps X, a's copy");
  assert.equal((await a.node.api(`/api/torrents/${y}`)).status, 404, 'Y is gone');
  for (const m of [a, b]) await m.node.stop();
});

// The same stray file by another road (cluster-readd under load: "removed copy dropped", files 0,
// the file still there). A torrent removed and added again before a holder heard: placement made
// that holder a new row with no save path (its copy "left to it to take") while its engine still ran
// the old copy, and a take skipped torrents already running, so the row never named the copy's
// folder; a later removal's tombstone then had no folder to delete from. The row is written here
// as placement writes it while b runs its copy.
test('a copy placed while its member already runs it: its holder row names its folder, so a later removal deletes it', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'untaken_running');
  const a = await cluster.start('a', '127.0.0.95');
  let b = await cluster.start('b', '127.0.0.96');
  const ih = await share(a, 'z.bin', randomBytes(1024 * 1024 + 11));
  await holdersWhen(a, ih, 'two copies done', (h) => liveDone(h).length === 2, 120_000);
  const folder = (await detail(b, ih))!.savePath as string;
  const untaken = await sqlOnce(cluster.database, 'UPDATE torrent_holders SET save_path = NULL WHERE info_hash = $1 AND member_id = $2', [ih, b.id]);
  assert.equal(untaken.changed, 1);
  const savePath = async () => (await sqlOnce<{ p: string | null }>(cluster.database, 'SELECT save_path AS p FROM torrent_holders WHERE info_hash = $1 AND member_id = $2', [ih, b.id])).rows[0]?.p;
  await until("b's holder row names its running copy's folder", async () => ((await savePath()) === folder ? true : undefined), 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: it says ${JSON.stringify(await savePath())}`);
  });

  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');
  const removed = await a.node.api(`/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
  assert.equal(removed.status, 200, await removed.text());
  b = await cluster.start('b', '127.0.0.96');
  const file = join(folder, 'z.bin');
  await until(`b deleted ${file}`, async () => (existsSync(file) ? undefined : true), 60_000);
  for (const m of [a, b]) await m.node.stop();
});
