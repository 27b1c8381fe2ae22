// An operator's trial (issue 42): a member's disk fills. Members A and C on one real PostgreSQL and
// redis-server; C's download directory is an 8 MiB tmpfs mounted in a mount namespace made for C's
// process alone (`unshare -m`), so its free bytes are what it reports with each lease renewal.
//
//   - A 12 MiB file shared through A is never placed on C (it cannot hold it): it waits at one
//     holder, while a small file shared after it is placed on C and copied.
//   - A 5 MiB file shared paused through A is placed on C (it fits); then something else fills C's
//     disk (a file written into its tmpfs through /proc/PID/root), and the file is resumed: C's copy
//     hits ENOSPC. Its holder row says so (state error, the error), C keeps serving its API and
//     streaming what it holds, and the failed copy does not count.
//   - B joins with room: both files get their second holder there, complete, the same bytes.
//   - Nothing acknowledged is lost: every file is listed by every member.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from '../../node/test/state-engines.ts';
import { startRedis } from '../../tracker/test/helpers.ts';
import { detail, holdersWhen, liveDone, memberStarter, sha256, share, type Member } from './cluster-members.ts';
import { until } from './node-process.ts';
import { tempDir } from './helpers.ts';

const MiB = 1024 * 1024;
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function listed(m: Member): Promise<string[]> {
  const r = await m.node.api('/api/torrents?limit=1000');
  assert.equal(r.status, 200);
  const body = (await r.json()) as { torrents: { infoHash: string }[] };
  return body.torrents.map((x) => x.infoHash);
}

test('a member whose disk fills: never placed what it cannot hold, its failed copy reported and replaced, still serving', { timeout: 600_000 }, async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this trial mounts a tmpfs in a mount namespace of its own: run it as root (npm test does)');
  const pg = await startPostgres(t);
  const database = await pg.database('disk');
  const redis = await startRedis();
  t.after(() => redis.stop());
  const root = tempDir(t);
  const start = memberStarter(t, root, database, redis.url);
  // C's downloads on a small disk of its own: a tmpfs in a mount namespace made for its process.
  const small = join(root, 'c-disk');
  mkdirSync(small, { recursive: true });
  // A and C start together (each start waits on its own process: 8-12 s apiece on a loaded machine).
  const [a, c] = await Promise.all([
    start('a', '127.0.0.41'),
    start('c', '127.0.0.43', {
      args: ['--download-dir', small],
      wrap: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=8m cascade-trial "$0" && exec "$@"', small],
    }),
  ]);
  // What C sees there (from outside its namespace the directory is the empty one beneath).
  const cDisk = `/proc/${c.node.child.pid}/root${small}`;
  assert.ok(statfsSync(cDisk).blocks * statfsSync(cDisk).bsize <= 8 * MiB, 'C saves to its 8 MiB disk');

  // (a) 12 MiB does not fit C: it stays at one holder, though a file shared after it is placed on C.
  const big = randomBytes(12 * MiB);
  const y = await share(a, 'big.bin', big);
  const small1 = randomBytes(200_000);
  const z = await share(a, 'small.bin', small1);
  await holdersWhen(a, z, 'small.bin copied to C', (h) => liveDone(h).length === 2 && h.some((x) => x.member === c.id));
  assert.deepEqual(((await detail(a, y))!.holders as { member: string }[]).map((h) => h.member), [a.id], 'big.bin is not placed on C: it cannot hold it');

  // (b) 5 MiB fits: placed on C, paused (shared paused). Then C's disk fills under it, and the copy
  // runs into ENOSPC once resumed.
  const mid = randomBytes(5 * MiB);
  const x = await share(a, 'mid.bin', mid, { paused: 'true' });
  await holdersWhen(a, x, 'mid.bin placed on C', (h) => h.some((m) => m.member === c.id));
  const free = statfsSync(cDisk).bavail * statfsSync(cDisk).bsize;
  writeFileSync(join(cDisk, 'someone-else.bin'), Buffer.alloc(Math.max(0, free - 2 * MiB), 1));
  const resumedAt = Date.now();
  const resumed = await a.node.api(`/api/torrents/${x}/resume`, { method: 'POST' });
  assert.ok(resumed.status < 300, await resumed.text());
  const failed = await holdersWhen(a, x, "C's copy failed", (h) => h.some((m) => m.member === c.id && m.state === 'error'));
  const cCopy = failed.find((h) => h.member === c.id)!;
  assert.match(cCopy.error ?? '', /ENOSPC|no space/i, `the holder says why: ${JSON.stringify(cCopy)}`);
  // How long the copy took to fail (the wait once timed out at 90 s in a full run; 0.1-1 s here).
  t.diagnostic(`C's copy failed ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after the resume: ${JSON.stringify(cCopy)}`);

  // C keeps serving: its API, readiness, and the file it holds, streamed from its own disk.
  assert.equal((await c.node.api('/api/health/ready')).status, 200);
  assert.equal((await detail(c, z))!.state, 'seeding');
  const streamed = await c.node.api(`/api/torrents/${z}/files/0`);
  assert.equal(streamed.status, 200);
  assert.equal(hex(new Uint8Array(await streamed.arrayBuffer())), hex(small1), 'C streams what it holds');

  // (c) B joins with room: both files get a complete second copy there.
  const b = await start('b', '127.0.0.42');
  for (const [ih, name, bytes] of [[x, 'mid.bin', mid], [y, 'big.bin', big]] as const) {
    const h = await holdersWhen(a, ih, `${name} complete on B`, (hs) => liveDone(hs).length === 2 && hs.some((m) => m.member === b.id && m.progress === 1), 180_000);
    assert.deepEqual(liveDone(h).map((m) => m.member).sort(), [a.id, b.id].sort(), `${name}: back at replicas complete copies`);
    const there = (await detail(b, ih))!;
    assert.equal(sha256(join(there.savePath, name)), hex(bytes), `${name} on B: the same bytes`);
  }
  const after = (await detail(a, x))!.holders as { member: string; state: string }[];
  assert.equal(after.find((h) => h.member === c.id)?.state, 'error', "C's failed copy stays listed as such");

  // Nothing acknowledged is lost: every member lists every file.
  for (const m of [a, b, c]) {
    const l = await until(`every file listed by ${m.host}`, async () => {
      const ihs = await listed(m);
      return [x, y, z].every((ih) => ihs.includes(ih)) ? ihs : undefined;
    });
    assert.ok(l.length >= 3);
  }
  await Promise.all([a, b, c].map((m) => m.node.stop()));
});
