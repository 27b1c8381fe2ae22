// Two cluster members (issue 42 step 4) on one real PostgreSQL and one real redis-server, in this
// process through startServer: what is written through member A — a category, a torrent with its
// options, a settings change — is served by member B (its API and its live feed), a page connected
// to B hears A's add exactly once, and with Redis killed B still sees A's writes (by polling the
// state), and once Redis is back the feed and socket.io's adapter work again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { bencode } from '@cascade/engine';
import { freePort, startPostgres } from '../../node/test/postgres-server.ts';
import type { ClusterMember } from '@cascade/cluster';
import { startTestServer, type TestServer } from './server-helpers.ts';
import { eventually, runRedis, stopRedis } from './cluster-helpers.ts';

interface Row {
  infoHash: string;
  category: string | null;
  state: string;
  live: boolean;
}



/** A .torrent of one file whose data is nowhere: added paused, it only sits in the library. */
function fakeTorrent(name: string): Uint8Array {
  return bencode({ info: { length: 4096, name, 'piece length': 65536, pieces: createHash('sha1').update(name).digest() } });
}

async function addPaused(s: TestServer, name: string, category?: string): Promise<string> {
  const fd = new FormData();
  fd.append('paused', 'true');
  if (category) fd.append('category', category);
  fd.append('torrent', new Blob([new Uint8Array(fakeTorrent(name))]), `${name}.torrent`);
  const r = await s.json('/api/torrents', { method: 'POST', body: fd });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.infoHash as string;
}


async function rowOn(s: TestServer, ih: string): Promise<Row | undefined> {
  const r = await s.json('/api/torrents');
  assert.equal(r.status, 200);
  return (r.body.torrents as Row[]).find((row) => row.infoHash === ih);
}

async function categoryOn(s: TestServer, name: string): Promise<true | undefined> {
  const r = await s.json('/api/categories');
  return (r.body.categories as { name: string }[]).some((c) => c.name === name) ? true : undefined;
}

test('cluster members share the library, settings and categories, and the feed across them, through Redis and without it', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.database('cluster');
  const redisPort = await freePort();
  let redis = await runRedis(redisPort);
  t.after(() => stopRedis(redis));
  // Members as `serve --cluster-url … --redis …` makes them: each its own member id (its state dir's
  // node key), each holding its membership lease on the shared database.
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const a = await startTestServer(t, { database, cluster: { url: 'http://127.0.0.1:18091', redis: redisUrl } });
  const b = await startTestServer(t, { database, cluster: { url: 'http://127.0.0.1:18092', redis: redisUrl } });
  await Promise.all([a.ready, b.ready]);
  const busOf = (s: TestServer) => (s.node.cluster as ClusterMember | undefined)?.changes?.bus;
  const busUp = (s: TestServer) => (busOf(s)?.connected ? true : undefined);
  await eventually('both change buses connected', () => (busUp(a) && busUp(b)));

  // A page on member B, and one on A (so that A's feed sends too: it sends nothing with no page).
  const connect = (s: TestServer): Socket => {
    const socket = io(s.url, { forceNew: true, reconnection: false, transports: ['websocket'], extraHeaders: { authorization: `Bearer ${s.token}` } });
    t.after(() => socket.disconnect());
    return socket;
  };
  const page = connect(b);
  const pageOnA = connect(a);
  const aHeard: Row[] = [];
  pageOnA.on('torrents:changes', (c: { updated: Row[] }) => aHeard.push(...c.updated));
  const heard: { event: string; value: any }[] = [];
  for (const event of ['torrents:changes', 'settings', 'cluster:hello']) page.on(event, (value: unknown) => heard.push({ event, value }));
  await Promise.all([page, pageOnA].map((p) => new Promise((resolve) => p.once('torrents', resolve))));
  /** The rows of a torrent B's page was sent. */
  const rowsHeard = (ih: string) => heard.flatMap((h) => (h.event === 'torrents:changes' ? (h.value.updated as Row[]).filter((r) => r.infoHash === ih) : []));
  const added = (ih: string) => rowsHeard(ih).length;
  /** Each row B's page heard is B's own view (A runs the torrent: its rows say live), and none came
   *  twice: the feed of A does not also reach the page through the adapter. */
  const onceEach = (ih: string) => {
    const rows = rowsHeard(ih);
    assert.ok(rows.length > 0);
    for (const r of rows) assert.equal(r.live, false, `a row of A's own feed reached B's page: ${JSON.stringify(r)}`);
    const texts = rows.map((r) => JSON.stringify({ ...r, seedingTime: undefined }));
    assert.equal(new Set(texts).size, texts.length, `a row reached B's page twice: ${texts.join('\n')}`);
  };

  // One copy of each torrent (the replicas setting): what is added through A stays A's alone, so
  // that B's rows are B's view of a torrent it does not run (placement: cli/test/cluster-holders.test.ts).
  assert.equal((await a.json('/api/settings', { method: 'PATCH', json: { replicas: 1 } })).status, 200);
  await eventually('B has replicas 1', async () => ((await b.json('/api/settings')).body.replicas === 1 ? true : undefined));
  // A category and a torrent in it, through A: B lists both, with the torrent's options, and does
  // not run it (it has no holder row of B).
  assert.equal((await a.json('/api/categories', { method: 'POST', json: { name: 'films' } })).status, 201);
  await eventually('B has the category made on A', () => categoryOn(b, 'films'));
  const first = await addPaused(a, 'first', 'films');
  // The add is two commits on A (the torrent, then its category): B lists it, then with the category.
  await eventually('B lists the torrent added on A, in its category', async () => ((await rowOn(b, first))?.category === 'films' ? true : undefined));
  assert.equal(b.node.session.get(first), undefined, 'B does not load a torrent A holds');
  assert.equal(b.node.db.records.heldHere(first), false);
  assert.equal(a.node.db.records.heldHere(first), true);

  // A settings change on A: B's API and B's page see it.
  assert.equal((await a.json('/api/settings', { method: 'PATCH', json: { downloadLimit: 123_456 } })).status, 200);
  await eventually('B has A\'s settings', async () => ((await b.json('/api/settings')).body.downloadLimit === 123_456 ? true : undefined));
  await eventually('B\'s page hears the settings', () => (heard.some((h) => h.event === 'settings' && h.value.downloadLimit === 123_456) ? true : undefined));
  // The add (its row, then its category: two commits on A) was heard before the settings (A wrote
  // them in that order): each once, and never A's own rows through the adapter.
  await eventually('B\'s page hears the add', () => (rowsHeard(first).some((r) => r.category === 'films') ? true : undefined));
  await eventually('A\'s page hears the add', () => (aHeard.some((r) => r.infoHash === first && r.category === 'films') ? true : undefined));
  onceEach(first);
  assert.equal(a.node.session.get(first) !== undefined, true, 'A runs (holds) the torrent: its own rows say live');
  assert.equal(heard.filter((h) => h.event === 'settings' && h.value.downloadLimit === 123_456).length, 1, 'the settings event came once');

  // The other way: B answers the torrent's detail, and an option changed through B reaches A.
  const detail = await b.json(`/api/torrents/${first}`);
  assert.equal(detail.status, 200, JSON.stringify(detail.body));
  assert.equal(detail.body.category, 'films');
  const patched = await b.json(`/api/torrents/${first}`, { method: 'PATCH', json: { tags: ['from-b'] } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  await eventually('A has the tag set through B', async () => (((await rowOn(a, first)) as (Row & { tags: string[] }) | undefined)?.tags.includes('from-b') ? true : undefined));

  // Redis killed: A's next writes reach B by B's polling of the state.
  await stopRedis(redis);
  await eventually('B\'s bus sees Redis gone', () => (busOf(b)?.connected === false ? true : undefined));
  assert.equal((await a.json('/api/categories', { method: 'POST', json: { name: 'while-down' } })).status, 201);
  const second = await addPaused(a, 'second', 'while-down');
  await eventually('B has the category made while Redis was down', () => categoryOn(b, 'while-down'));
  await eventually('B lists the torrent added while Redis was down, in its category', async () => ((await rowOn(b, second))?.category === 'while-down' ? true : undefined));
  await eventually('B\'s page hears the add made while Redis was down', () => (added(second) > 0 ? true : undefined));

  // Redis back: both buses reconnect by themselves, the feed and the adapter work again.
  redis = await runRedis(redisPort);
  await eventually('both change buses reconnected', () => (busUp(a) && busUp(b)));
  const third = await addPaused(a, 'third');
  await eventually('B lists the torrent added after Redis came back', () => rowOn(b, third));
  await eventually('B\'s page hears it', () => (added(third) > 0 ? true : undefined));
  // socket.io's adapter: an event A sends to every page reaches the page on B (sent again until the
  // adapter's subscription is back).
  await eventually('the adapter carries A\'s events to B\'s page', () => {
    a.io!.emit('cluster:hello', 'from A');
    return heard.some((h) => h.event === 'cluster:hello') ? true : undefined;
  });
  onceEach(second);
  onceEach(third);

  // Removed from the library through B: A, which runs it, stops it.
  assert.ok(a.node.session.get(third));
  assert.equal((await b.json(`/api/torrents/${third}`, { method: 'DELETE' })).status, 200);
  await eventually('A stops the torrent removed through B', () => (a.node.session.get(third) === undefined && !a.node.db.records.has(third) ? true : undefined));

  // The API token rotated through A is the one B takes (no sticky sessions for scripts either);
  // last, since B then drops the page that signed in with the old one.
  const rotated = await a.json('/api/token/rotate', { method: 'POST' });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const fresh = rotated.body.token as string;
  await eventually('B takes the token rotated on A', async () => ((await b.anonymous('/api/settings', { headers: { authorization: `Bearer ${fresh}` } })).status === 200 ? true : undefined));
  assert.equal((await b.anonymous('/api/settings', { headers: { authorization: `Bearer ${a.token}` } })).status, 401, 'the old token no longer works on B');
});
