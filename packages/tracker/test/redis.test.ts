// Two tracker processes behind one Redis share the swarm: an announce to one is seen by a scrape
// on the other, peers found on one are handed out by the other, and browser offers cross over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { decode, text } from '@cascade/engine/bencode';
import type { BDict } from '@cascade/engine/bencode';
import { announceQuery, esc, getBencoded as get, id, spawnTracker, startRedis, udpAnnounce, udpClient, udpPortOf, udpScrape, waitFor } from './helpers.ts';
import type { RedisServer, TrackerProcess } from './helpers.ts';

let redis: RedisServer;
let a: TrackerProcess;
let b: TrackerProcess;
before(async () => {
  redis = await startRedis();
  const args = ['--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0', '--ws', '--redis', redis.url, '--interval', '60'];
  [a, b] = await Promise.all([spawnTracker(args), spawnTracker(args)]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

const scrapeUrl = (t: TrackerProcess, hash: Buffer) => `${t.listening.http.replace('/announce', '/scrape')}?info_hash=${esc(hash)}`;

async function scrapeHttp(t: TrackerProcess, hash: Buffer): Promise<BDict> {
  const raw = new Uint8Array(await (await fetch(scrapeUrl(t, hash))).arrayBuffer());
  const files = (decode(raw).value as BDict)['files'] as BDict;
  return Object.values(files)[0] as BDict;
}

test('an announce to one process is seen by a scrape and an announce on the other (HTTP and UDP)', async () => {
  const hash = id(0xd1);
  const seed = await get(`${a.listening.http}${announceQuery(hash, id(1), 6881, '&left=0&event=started')}`);
  assert.equal(seed['failure reason'], undefined);
  const onB = await scrapeHttp(b, hash);
  assert.deepEqual([onB['complete'], onB['incomplete']], [1, 0]);

  // A UDP leecher on B is introduced to A's seed.
  const c = await udpClient(udpPortOf(b.listening.udp));
  try {
    const conn = await c.connect();
    const r = (await c.request(udpAnnounce(conn, hash, id(2), 6882, 100n, 2)))!;
    assert.equal(r.readUInt32BE(0), 1);
    assert.deepEqual([r.readUInt32BE(12), r.readUInt32BE(16)], [1, 1]);
    assert.deepEqual(r.subarray(20), Buffer.from([127, 0, 0, 1, 0x1a, 0xe1]));
  } finally {
    c.close();
  }
  // And A's UDP scrape sees B's leecher.
  const d = await udpClient(udpPortOf(a.listening.udp));
  try {
    const conn = await d.connect();
    const s = (await d.request(udpScrape(conn, [hash])))!;
    assert.deepEqual([s.readUInt32BE(8), s.readUInt32BE(12), s.readUInt32BE(16)], [1, 0, 1]);
  } finally {
    d.close();
  }
  // A stop on B leaves A's view with just the seed.
  await get(`${b.listening.http}${announceQuery(hash, id(2), 6882, '&left=100&event=stopped')}`);
  const after = await scrapeHttp(a, hash);
  assert.deepEqual([after['complete'], after['incomplete']], [1, 0]);

  const stats = (await (await fetch(b.listening.stats)).json()) as { store: string; torrents: number; peers: number };
  assert.equal(stats.store, 'redis');
  assert.ok(stats.torrents >= 1 && stats.peers >= 1);
});

test('a UDP look-up (port 0) through Redis is answered and not listed: the record taken back is the one it made', async () => {
  const hash = id(0xd4);
  const seed = await get(`${a.listening.http}${announceQuery(hash, id(1), 6881, '&left=0&event=started')}`);
  assert.equal(seed['failure reason'], undefined);
  const c = await udpClient(udpPortOf(b.listening.udp));
  try {
    const conn = await c.connect();
    const r = (await c.request(udpAnnounce(conn, hash, id(3), 0, 100n, 2)))!;
    assert.equal(r.readUInt32BE(0), 1);
    assert.deepEqual(r.subarray(20), Buffer.from([127, 0, 0, 1, 0x1a, 0xe1]), 'the seed is in the reply');
  } finally {
    c.close();
  }
  // The look-up's record was taken back from this torrent's swarm (before: the UDP announce's
  // infohash and peer id were getters, which the copy for the take-back lost, and Redis was told to
  // stop a peer of the swarm "undefined").
  const onA = await scrapeHttp(a, hash);
  assert.deepEqual([onA['complete'], onA['incomplete']], [1, 0]);
});

test('a browser on one process gets the offer of a browser on the other, and the answer comes back', async () => {
  const ih = Buffer.from('e0'.repeat(20), 'hex').toString('latin1');
  const open = async (url: string) => {
    const ws = new WebSocket(url);
    const inbox: Record<string, unknown>[] = [];
    ws.on('message', (d) => inbox.push(JSON.parse(String(d))));
    await once(ws, 'open');
    const next = async (pred: (m: Record<string, unknown>) => boolean) => {
      let found: Record<string, unknown> | undefined;
      await waitFor(() => (found = inbox.find(pred)) !== undefined, 5000, 'ws message');
      inbox.splice(inbox.indexOf(found!), 1);
      return found!;
    };
    return { ws, next, send: (m: unknown) => ws.send(JSON.stringify(m)) };
  };
  const x = await open(a.listening.ws!);
  const y = await open(b.listening.ws!);
  try {
    x.send({ action: 'announce', info_hash: ih, peer_id: 'X'.repeat(20), left: 0, event: 'started', offers: [] });
    assert.equal((await x.next((m) => m.complete !== undefined)).complete, 1);
    y.send({ action: 'announce', info_hash: ih, peer_id: 'Y'.repeat(20), left: 9, event: 'started', offers: [{ offer: { type: 'offer', sdp: 'y' }, offer_id: 'o'.repeat(20) }] });
    assert.deepEqual((await y.next((m) => m.complete !== undefined)).incomplete, 1);
    const offer = await x.next((m) => m.offer !== undefined);
    assert.equal(offer.peer_id, 'Y'.repeat(20));
    x.send({ action: 'announce', info_hash: ih, peer_id: 'X'.repeat(20), to_peer_id: 'Y'.repeat(20), answer: { type: 'answer', sdp: 'x' }, offer_id: 'o'.repeat(20) });
    const answer = await y.next((m) => m.answer !== undefined);
    assert.deepEqual(answer, { action: 'announce', answer: { type: 'answer', sdp: 'x' }, offer_id: 'o'.repeat(20), peer_id: 'X'.repeat(20), info_hash: ih });
  } finally {
    x.ws.close();
    y.ws.close();
  }
});

test('private registry is shared: a user made on one process announces on the other, and is credited', async () => {
  const args = ['--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0', '--private', '--redis', redis.url, '--admin-token', 'sekrit'];
  const [p, q] = await Promise.all([spawnTracker(args), spawnTracker(args)]);
  try {
    assert.equal(p.listening.adminToken, 'sekrit');
    const adminBase = p.listening.stats.replace(/\/stats$/, '');
    const auth = { authorization: 'Bearer sekrit' };
    const user = (await (await fetch(`${adminBase}/admin/users`, { method: 'POST', headers: auth, body: '{"name":"zed"}' })).json()) as { passkey: string };
    const hash = id(0xd2);
    const qUrl = `${q.listening.http}/${user.passkey}?info_hash=${esc(hash)}&peer_id=${esc(id(1))}&port=7000&left=0`;
    assert.match(text((await get(`${qUrl}&event=started`))['failure reason'])!, /not registered/);
    await fetch(`${adminBase}/admin/torrents`, { method: 'POST', headers: auth, body: JSON.stringify({ infoHash: hash.toString('hex') }) });
    assert.equal((await get(`${qUrl}&event=started&uploaded=0`))['failure reason'], undefined);
    assert.equal((await get(`${qUrl}&uploaded=4096`))['failure reason'], undefined);
    const u = (await (await fetch(`${adminBase}/admin/users/${user.passkey}`, { headers: auth })).json()) as { uploaded: number };
    assert.equal(u.uploaded, 4096);
  } finally {
    await Promise.all([p.stop(), q.stop()]);
  }
});

test('tracker processes exit cleanly on SIGTERM', async () => {
  const t = await spawnTracker(['--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0', '--redis', redis.url]);
  assert.equal(await t.stop(), 0);
  assert.match(t.stdout.join(''), /"event":"closed"/);
});
