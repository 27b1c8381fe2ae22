// Issue 42 item 6: a node on PostgreSQL whose database stops (`pg_ctl stop -m immediate`, as a crash
// or a cut would) keeps seeding to a real libtorrent client, serves its reads from its views,
// answers writes 503 with a message (never a hang, never a 500), says so on /api/health/ready, and
// recovers by itself once the database is back, with what it wrote meanwhile (the upload totals)
// stored then. And under a loop of adds while the database restarts, every add answered 2xx is in
// the library afterwards with its category and paused flag. And hostile requests at the cluster
// routes get 4xx (503 only for the database away).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bencode } from '@cascade/engine';
import { startPostgres } from '../../node/test/postgres-server.ts';
import { CLI_MAIN, describeProc, ltDownload, requireClient, tempDir, waitForExit } from '../../../test/interop/helpers.ts';
import { eventually } from './cluster-helpers.ts';
import { formWith, patternBytes, startTestServer, type TestServer } from './server-helpers.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');


/** A .torrent of one file whose data is nowhere: it only sits in the library. */
function fakeTorrent(name: string): Uint8Array {
  return bencode({ info: { length: 4096, name, 'piece length': 65536, pieces: createHash('sha1').update(name).digest() } });
}

function addForm(name: string, o: { category?: string; paused?: boolean } = {}): FormData {
  const fd = new FormData();
  if (o.paused) fd.append('paused', 'true');
  if (o.category) fd.append('category', o.category);
  fd.append('torrent', new Blob([new Uint8Array(fakeTorrent(name))]), `${name}.torrent`);
  return fd;
}

/** A request with a deadline: a hang fails the test instead of stalling it. */
function bounded(s: TestServer, path: string, init: RequestInit & { json?: unknown } = {}) {
  return s.json(path, { ...init, signal: AbortSignal.timeout(45_000) });
}

const ready = async (s: TestServer) => (await s.json('/api/health/ready')).status;

test('PostgreSQL stopped mid-transfer: the seed goes on, reads answer, writes get 503, ready says so, and it all comes back by itself', { timeout: 180_000 }, async (t) => {
  requireClient('libtorrent');
  // Durable (as a real deployment is): with the helper's synchronous_commit=off an immediate stop
  // can take acknowledged commits with it, the torrent's own row among them.
  const db = await startPostgres(t, { durable: true });
  const database = await db.database('away');
  const s = await startTestServer(t, { database });
  await s.ready;
  // 3 MiB at 400 kB/s: ~8 s of transfer, the database stopped within the first second of it.
  const data = patternBytes(3 * 1024 * 1024, 42);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['payload.bin', data]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const { magnet, infoHash } = up.body as { magnet: string; infoHash: string };
  // Slow enough that the database is gone while the client is still fetching.
  assert.equal((await s.json('/api/settings', { method: 'PATCH', json: { uploadLimit: 400_000 } })).status, 200);

  const out = await tempDir(t, 'cascade-away-lt-');
  const dl = ltDownload(t, magnet, out, { peers: [`127.0.0.1:${s.node.session.port}`], timeoutSec: 120 });
  await eventually('the client is fetching', () => ((s.node.session.get(infoHash)?.stats().uploaded ?? 0) > 0 ? true : undefined));

  const login = await s.anonymous('/api/v2/auth/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${s.token}` });
  const qbCookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  assert.match(qbCookie, /^SID=/);

  const tAuth = `Basic ${Buffer.from(`x:${s.token}`).toString('base64')}`;
  const handshake = await s.anonymous('/transmission/rpc', { method: 'POST', headers: { authorization: tAuth }, body: '{"method":"session-get"}' });
  const tSession = handshake.headers.get('x-transmission-session-id') ?? '';

  // The client is mid-transfer when the database goes (what the rest of the test relies on).
  const sentBefore = s.node.session.get(infoHash)!.stats().uploaded;
  assert.ok(sentBefore < data.length, `still fetching when the database stops: ${sentBefore} of ${data.length} bytes sent`);
  db.stop();
  // Writes: 503 with the message, within the request's deadline.
  const add = await bounded(s, '/api/torrents', { method: 'POST', body: addForm('while-away') });
  assert.equal(add.status, 503, JSON.stringify(add.body));
  assert.match(add.body.message, /database is unreachable.*nothing was changed/);
  assert.equal(add.res.headers.get('retry-after'), '5');
  const settings = await bounded(s, '/api/settings', { method: 'PATCH', json: { downloadLimit: 5_000_000 } });
  assert.equal(settings.status, 503, JSON.stringify(settings.body));
  assert.match(settings.body.message, /database is unreachable/);
  // The add refused is not half there: not listed, not run.
  const list = await bounded(s, '/api/torrents');
  assert.equal(list.status, 200, JSON.stringify(list.body));
  assert.deepEqual(list.body.torrents.map((r: { infoHash: string }) => r.infoHash), [infoHash]);
  assert.equal((await bounded(s, `/api/torrents/${infoHash}`)).status, 200);
  assert.equal((await bounded(s, '/api/settings')).body.downloadLimit, 0, 'the refused settings change was not applied');
  const notReady = await bounded(s, '/api/health/ready');
  assert.equal(notReady.status, 503);
  assert.match(notReady.body.reason, /state store does not answer/);
  // The qBittorrent API: a 503 with the message as its plain text (signed in before the database
  // went: a session the state confirmed is trusted while it does not answer).
  const qb = await s.anonymous('/api/v2/torrents/setShareLimits', {
    method: 'POST',
    headers: { cookie: qbCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ hashes: infoHash, ratioLimit: '2', seedingTimeLimit: '-2', inactiveSeedingTimeLimit: '-2' }),
    signal: AbortSignal.timeout(45_000),
  });
  assert.equal(qb.status, 503, `qBittorrent API: ${qb.status}`);
  assert.match(await qb.text(), /database is unreachable/);

  // The Transmission API answers its own way: HTTP 200, the message as the call's "result".
  const tr = await s.anonymous('/transmission/rpc', {
    method: 'POST',
    headers: { authorization: tAuth, 'x-transmission-session-id': tSession },
    body: JSON.stringify({ method: 'torrent-set', arguments: { ids: [infoHash], uploadLimit: 10, uploadLimited: true } }),
    signal: AbortSignal.timeout(45_000),
  });
  assert.equal(tr.status, 200);
  assert.match(((await tr.json()) as { result: string }).result, /database is unreachable/);
  // Refused means not applied: the engine keeps the torrent's limits as they were (none).
  assert.equal((await bounded(s, `/api/torrents/${infoHash}`)).body.uploadLimit, 0);

  // A CLI verb through the running node: exit 1 with the message.
  // (Not spawnSync: the node runs in this process and must answer meanwhile.)
  const cli = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [CLI_MAIN, 'category', 'add', 'while-away', '--state-dir', join(s.root, 'state')], { encoding: 'utf8', timeout: 60_000 }, (_err, stdout, stderr) =>
      resolve({ status: child.exitCode, stdout, stderr }));
  });
  assert.equal(cli.status, 1, `${cli.stdout}${cli.stderr}`);
  assert.match(cli.stderr, /database is unreachable/);

  // The client finishes from the node while the database is down.
  const exit = await waitForExit(dl, 150_000);
  assert.equal(exit.code, 0, `libtorrent did not finish while the database was down:\n${describeProc(dl)}`);
  assert.equal(sha256(readFileSync(join(out, 'payload.bin'))), sha256(data));
  assert.equal(await ready(s), 503);

  db.start();
  await eventually('ready again by itself', async () => ((await ready(s)) === 200 ? true : undefined), 60_000);
  const later = await bounded(s, '/api/torrents', { method: 'POST', body: addForm('after') });
  assert.equal(later.status, 201, JSON.stringify(later.body));
  // What the node counted meanwhile (the upload) reaches the database once it is back (read from
  // the database, not the node's view).
  await eventually('the upload counted while the database was away is stored', async () => {
    const r = await s.node.db.store.get<{ total_uploaded: number }>('SELECT total_uploaded FROM torrents WHERE info_hash = ?', [infoHash]);
    return (r?.total_uploaded ?? 0) >= data.length ? true : undefined;
  }, 60_000);
});

test('PostgreSQL restarted under a loop of adds: every add answered 2xx is kept with its settings, the others got 503', { timeout: 180_000 }, async (t) => {
  // Durable: a commit acknowledged is on disk, so an immediate stop loses none (with the test
  // helper's usual synchronous_commit=off it could, and did).
  const db = await startPostgres(t, { durable: true });
  const database = await db.database('load');
  const s = await startTestServer(t, { database });
  await s.ready;
  const acked = new Map<string, { category: string; paused: boolean }>();
  const statuses = new Map<number, number>();
  let stopLoop = false;
  const loop = (async () => {
    for (let i = 0; !stopLoop; i++) {
      const o = { category: `c${i % 3}`, paused: i % 2 === 0 };
      const r = await bounded(s, '/api/torrents', { method: 'POST', body: addForm(`load-${i}`, o) });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      assert.ok(r.status === 201 || r.status === 503, `add ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status === 201) acked.set(r.body.infoHash as string, o);
      else assert.match(r.body.message, /database/);
      if (r.status === 503) await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const count = (n: number) => (statuses.get(n) ?? 0);
  await eventually('some adds made', () => (count(201) >= 5 ? true : undefined));
  db.stop();
  await eventually('some adds refused', () => (count(503) >= 3 ? true : undefined));
  db.start();
  const before = count(201);
  await eventually('adds succeed again', () => (count(201) >= before + 5 ? true : undefined), 60_000);
  stopLoop = true;
  await loop;

  const list = await s.json('/api/torrents');
  const rows = new Map((list.body.torrents as { infoHash: string; category: string | null; state: string }[]).map((r) => [r.infoHash, r]));
  for (const [ih, o] of acked) {
    const row = rows.get(ih);
    assert.ok(row, `acknowledged add ${ih} is not listed`);
    assert.equal(row.category, o.category, `category of ${ih}`);
    assert.equal(row.state === 'paused', o.paused, `paused flag of ${ih}: ${row.state}`);
  }
  // And in the database itself, not only in the node's view.
  const stored = new Map((await s.node.db.store.all<{ info_hash: string; category: string | null }>('SELECT info_hash, category FROM torrents')).map((r) => [r.info_hash, r]));
  for (const [ih, o] of acked) assert.equal(stored.get(ih)?.category, o.category, `stored category of ${ih}`);
  t.diagnostic(`adds: ${JSON.stringify(Object.fromEntries(statuses))}`);
});

test('hostile requests at the cluster routes get 4xx; a member cut from the database answers 503 and comes back by itself', { timeout: 120_000 }, async (t) => {
  const db = await startPostgres(t, { durable: true });
  const database = await db.database('hostile');
  const s = await startTestServer(t, { database, cluster: { url: 'http://127.0.0.1:18093' } });
  await s.ready;
  const huge = 'x'.repeat(3 * 1024 * 1024);
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    for (const body of [undefined, '{', '{"members": 5}', huge]) {
      const r = await s.request('/api/cluster', { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      assert.ok(r.status >= 400 && r.status < 500, `${method} /api/cluster with ${body?.slice(0, 20)}: ${r.status}`);
    }
  }
  for (const path of ['/api/cluster?x=%ff', '/api/cluster/../cluster', '/api/cluster/members', `/api/cluster?${'a=1&'.repeat(2000)}`]) {
    const r = await s.request(path);
    assert.ok(r.status < 500, `${path}: ${r.status}`);
  }
  assert.equal((await s.anonymous('/api/cluster')).status, 401);
  db.stop();
  const away = await bounded(s, '/api/cluster');
  assert.equal(away.status, 503, JSON.stringify(away.body));
  // A member cut from its database: writes 503, not ready; the library still listed.
  const add = await bounded(s, '/api/torrents', { method: 'POST', body: addForm('member-away') });
  assert.equal(add.status, 503, JSON.stringify(add.body));
  assert.equal((await bounded(s, '/api/health/ready')).status, 503);
  assert.equal((await bounded(s, '/api/torrents')).status, 200);
  db.start();
  await eventually('the cluster route answers again', async () => ((await s.json('/api/cluster')).status === 200 ? true : undefined), 60_000);
  // Back by itself (rejoined with a new epoch if its lease ran out meanwhile): ready, and it takes adds.
  await eventually('the member is ready again', async () => ((await ready(s)) === 200 ? true : undefined), 60_000);
  assert.equal((await bounded(s, '/api/torrents', { method: 'POST', body: addForm('member-back') })).status, 201);
});
