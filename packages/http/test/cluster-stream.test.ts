// Issue 42 item 4: a file of a torrent added through member A, streamed with HTTP Range through
// member B, which holds no copy: B proxies A's bytes (206, Content-Range, the same bytes as the
// file), also to a reader that pauses longer than the holder's 10 s to answer; with no live holder
// left, B answers 503 with a message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startPostgres } from '../../node/test/postgres-server.ts';
import { eventually, runRedis, stopRedis } from './cluster-helpers.ts';
import { formWith, patternBytes, startTestServer, type TestServer } from './server-helpers.ts';
import { HOLDER_ANSWER_MS, HOLDER_IDLE_MS } from '../src/routes/stream-proxy.ts';


/** A member whose --cluster-url is its real HTTP address (the others stream from it). */
async function member(t: Parameters<typeof startTestServer>[0], database: string, redis: string): Promise<TestServer> {
  const port = await freePort();
  const s = await startTestServer(t, { database, httpPort: port, cluster: { url: `http://127.0.0.1:${port}`, redis } });
  await s.ready;
  return s;
}

test('a file added through member A streams with Range through member B, from A; no live holder is a 503', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.database('stream');
  const redisPort = await freePort();
  const redis = await runRedis(redisPort);
  t.after(() => stopRedis(redis));
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const a = await member(t, database, redisUrl);
  const b = await member(t, database, redisUrl);
  // One copy of each torrent (placement would otherwise give B a copy of its own, which B then
  // serves itself): the bytes must come from A.
  assert.equal((await a.json('/api/settings', { method: 'PATCH', json: { replicas: 1 } })).status, 200);
  await eventually('B has the replicas setting', async () => ((await b.json('/api/settings')).body.replicas === 1 ? true : undefined));

  const data = patternBytes(2 * 1024 * 1024 + 777, 9);
  const up = await a.json('/api/torrents', { method: 'POST', body: formWith([['clip.bin', data]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const ih = up.body.infoHash as string;
  await eventually('B lists the torrent added on A', () => (b.node.db.records.has(ih) ? true : undefined));
  assert.equal(b.node.session.get(ih), undefined, 'B holds no copy: the bytes must come from A');

  const url = `/api/torrents/${ih}/files/0`;
  const ranged = await b.request(url, { headers: { range: 'bytes=1000-299999' } });
  assert.equal(ranged.status, 206, await ranged.clone().text());
  assert.equal(ranged.headers.get('content-range'), `bytes 1000-299999/${data.length}`);
  assert.equal(ranged.headers.get('content-length'), String(300_000 - 1000));
  assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), data.subarray(1000, 300_000));
  // A suffix range and the whole file, through B too.
  const tail = await b.request(url, { headers: { range: 'bytes=-4096' } });
  assert.equal(tail.status, 206);
  assert.equal(tail.headers.get('content-range'), `bytes ${data.length - 4096}-${data.length - 1}/${data.length}`);
  assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), data.subarray(data.length - 4096));
  const whole = await b.request(url);
  assert.equal(whole.status, 200);
  assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), data);
  // Beyond the end: the holder's 416, passed on.
  assert.equal((await b.request(url, { headers: { range: `bytes=${data.length + 10}-` } })).status, 416);
  // Without credentials the holder refuses as B would.
  assert.equal((await b.anonymous(url, { headers: { range: 'bytes=0-9' } })).status, 401);

  // A stream read slowly (a player paused for a while): the holder's answer may take longer than
  // the 10 s it is given to start answering. It was cut off at 10 s, whatever came after lost.
  // (What a member runs: the partition trial shortens both through the environment.)
  assert.equal(HOLDER_ANSWER_MS, 10_000, 'a holder is given 10 s to start answering');
  assert.equal(HOLDER_IDLE_MS, 20_000, 'and 20 s of silence mid-body');
  const big = patternBytes(24 * 1024 * 1024, 3);
  const bigUp = await a.json('/api/torrents', { method: 'POST', body: formWith([['film.bin', big]]) });
  assert.equal(bigUp.status, 201, JSON.stringify(bigUp.body));
  const bigIh = bigUp.body.infoHash as string;
  await eventually('B lists the film', () => (b.node.db.records.has(bigIh) ? true : undefined));
  const slow = await b.request(`/api/torrents/${bigIh}/files/0`);
  assert.equal(slow.status, 200);
  const reader = slow.body!.getReader();
  const parts: Uint8Array[] = [(await reader.read()).value!];
  await new Promise((r) => setTimeout(r, 12_000));
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  assert.equal(Buffer.concat(parts).length, big.length, 'the whole file, read after a 12 s pause');
  assert.ok(Buffer.concat(parts).equals(Buffer.from(big)));

  // The holder gone (its lease ends as it stops): B says why instead of hanging.
  await a.close();
  const none = await b.json(url, { headers: { range: 'bytes=0-9' }, signal: AbortSignal.timeout(30_000) });
  assert.equal(none.status, 503, JSON.stringify(none.body));
  assert.match(none.body.message, /no copy.*(no live member|no holder answered)/);
});
