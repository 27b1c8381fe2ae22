// Private mode: passkeys, registered torrents, readable refusals, per-user totals, admin API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { decode, text } from '@cascade/engine/bencode';
import type { BDict } from '@cascade/engine/bencode';
import { startTracker } from '../index.ts';
import type { RunningTracker } from '../index.ts';
import { announceQuery, getBencoded as get, id, esc, udpAnnounce, udpClient } from './helpers.ts';

let tracker: RunningTracker;
const registered = id(0xa1);
before(async () => {
  tracker = await startTracker({ host: '127.0.0.1', private: true, ws: true, torrents: [registered.toString('hex')] });
});
after(() => tracker.close());

const base = () => tracker.statsUrl.replace(/\/stats$/, '');

test('refuses a missing or unknown passkey and an unregistered torrent, with readable reasons', async () => {
  const noKey = await get(`${tracker.httpAnnounceUrl}${announceQuery(registered, id(1), 6001, '&left=0')}`);
  assert.match(text(noKey['failure reason'])!, /private tracker.*passkey/);
  const unknown = await get(`${tracker.httpAnnounceUrl}/nosuchpasskey${announceQuery(registered, id(1), 6001, '&left=0')}`);
  assert.equal(text(unknown['failure reason']), 'unknown passkey: this tracker has no user with that passkey');

  const alice = await tracker.registerUser({ name: 'alice' });
  assert.match(alice.passkey, /^[0-9a-f]{32}$/);
  assert.equal(alice.announceUrls.http, `${tracker.httpAnnounceUrl}/${alice.passkey}`);
  const unregistered = await get(`${alice.announceUrls.http}${announceQuery(id(0xb0), id(1), 6001, '&left=0')}`);
  assert.equal(text(unregistered['failure reason']), 'torrent not registered with this tracker');

  const ok = await get(`${alice.announceUrls.http}${announceQuery(registered, id(1), 6001, '&left=0')}`);
  assert.equal(ok['failure reason'], undefined);
  assert.equal(ok['complete'], 1);
  // The /<passkey>/announce form works too (it lets clients derive a scrape URL).
  const alt = await get(`${base()}/${alice.passkey}/announce${announceQuery(registered, id(2), 6002, '&left=5')}`);
  assert.equal(alt['incomplete'], 1);

  const scrape = await fetch(`${base()}/${alice.passkey}/scrape?info_hash=${esc(registered)}&info_hash=${esc(id(0xb0))}`);
  const files = (decode(new Uint8Array(await scrape.arrayBuffer())).value as BDict)['files'] as BDict;
  // Unregistered torrents are not reported at all.
  assert.equal(Object.keys(files).length, 1);
  const badScrape = await get(`${base()}/scrape/wrongkey?info_hash=${esc(registered)}`);
  assert.match(text(badScrape['failure reason'])!, /unknown passkey/);
});

test('UDP carries the passkey as BEP 41 URL data', async () => {
  const bob = await tracker.registerUser({ name: 'bob' });
  const c = await udpClient(tracker.udpPort);
  try {
    const conn = await c.connect();
    const unknown = (await c.request(udpAnnounce(conn, registered, id(3), 6003, 0n, 2, { urlData: '/announce/nosuchpasskey' })))!;
    assert.equal(unknown.readUInt32BE(0), 3);
    assert.match(unknown.subarray(8).toString(), /unknown passkey/);
    const bare = (await c.request(udpAnnounce(conn, registered, id(3), 6003, 0n, 2)))!;
    assert.match(bare.subarray(8).toString(), /private tracker/);
    const unreg = (await c.request(udpAnnounce(conn, id(0xb1), id(3), 6003, 0n, 2, { urlData: `/announce/${bob.passkey}` })))!;
    assert.match(unreg.subarray(8).toString(), /not registered/);
    const ok = (await c.request(udpAnnounce(conn, registered, id(3), 6003, 0n, 2, { urlData: new URL(bob.announceUrls.udp).pathname })))!;
    assert.equal(ok.readUInt32BE(0), 1);
  } finally {
    c.close();
  }
});

test('WebSocket announces need a passkey in the socket URL', async () => {
  const carol = await tracker.registerUser({ name: 'carol' });
  const ih = registered.toString('latin1');
  for (const [url, reason] of [
    [tracker.wsAnnounceUrl!, /private tracker/],
    [`${tracker.wsAnnounceUrl}/nosuchpasskey`, /unknown passkey/],
    [carol.announceUrls.ws!, null],
  ] as const) {
    const ws = new WebSocket(url);
    await once(ws, 'open');
    ws.send(JSON.stringify({ action: 'announce', info_hash: ih, peer_id: 'w'.repeat(20), left: 0, offers: [] }));
    const [data] = (await once(ws, 'message')) as [Buffer];
    const m = JSON.parse(String(data)) as Record<string, unknown>;
    if (reason) assert.match(m['failure reason'] as string, reason);
    else assert.equal(m['failure reason'], undefined);
    assert.equal(m.info_hash, ih);
    ws.close();
    await once(ws, 'close');
  }
});

test("announces add up to a user's uploaded and downloaded totals", async () => {
  const dave = await tracker.registerUser({ name: 'dave' });
  const url = (peer: number, extra: string) => `${dave.announceUrls.http}?info_hash=${esc(registered)}&peer_id=${esc(id(peer))}&port=7000${extra}`;
  await get(url(0x40, '&left=100&uploaded=0&downloaded=0&event=started'));
  await get(url(0x40, '&left=40&uploaded=1000&downloaded=60'));
  await get(url(0x40, '&left=0&uploaded=1500&downloaded=100&event=completed'));
  // A second client of the same user counts separately.
  await get(url(0x41, '&left=0&uploaded=200&downloaded=0&event=started'));
  await get(url(0x41, '&left=0&uploaded=700&downloaded=0'));
  await get(url(0x40, '&left=0&uploaded=2000&downloaded=100&event=stopped'));
  const u = await tracker.user(dave.passkey);
  assert.deepEqual({ up: u!.uploaded, down: u!.downloaded }, { up: 2000 + 700, down: 100 });
  assert.equal(u!.ratio, 27);
});

test('admin API: token required; creates users and registers torrents', async () => {
  const noToken = await fetch(`${base()}/admin/users`, { method: 'POST', body: '{}' });
  assert.equal(noToken.status, 401);
  const wrong = await fetch(`${base()}/admin/users`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);
  const auth = { authorization: `Bearer ${tracker.adminToken}`, 'content-type': 'application/json' };
  const created = await fetch(`${base()}/admin/users`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'erin' }) });
  assert.equal(created.status, 201);
  const erin = (await created.json()) as { passkey: string; announceUrls: { http: string } };
  const ih = id(0xc5);
  const refused = await get(`${erin.announceUrls.http}${announceQuery(ih, id(1), 6001, '&left=0')}`);
  assert.match(text(refused['failure reason'])!, /not registered/);
  const reg = await fetch(`${base()}/admin/torrents`, { method: 'POST', headers: auth, body: JSON.stringify({ infoHash: ih.toString('hex') }) });
  assert.equal(reg.status, 201);
  const ok = await get(`${erin.announceUrls.http}?info_hash=${esc(ih)}&peer_id=${esc(id(1))}&port=6001&left=0&uploaded=5&event=started`);
  assert.equal(ok['failure reason'], undefined);
  const stats = (await (await fetch(`${base()}/admin/users/${erin.passkey}`, { headers: auth })).json()) as Record<string, unknown>;
  assert.equal(stats.name, 'erin');
  assert.equal(stats.uploaded, 5);
  const bad = await fetch(`${base()}/admin/torrents`, { method: 'POST', headers: auth, body: '{"infoHash":"xyz"}' });
  assert.equal(bad.status, 400);
  const junk = await fetch(`${base()}/admin/users`, { method: 'POST', headers: auth, body: 'not json' });
  assert.equal(junk.status, 400);
  const list = (await (await fetch(`${base()}/admin/users`, { headers: auth })).json()) as unknown[];
  assert.ok(list.length >= 1);
  const snap = await tracker.stats();
  assert.equal(snap.mode, 'private');
  assert.ok(snap.users! >= 1);
});
