import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { decode, text } from '@cascade/engine/bencode';
import type { BDict } from '@cascade/engine/bencode';
import { startTracker } from '../index.ts';
import { TrustedProxies } from '../src/core/proxy.ts';
import type { RunningTracker } from '../index.ts';
import { esc, id, getBencoded as get, udpAnnounce, udpClient as udpClientAt, udpScrape, waitFor } from './helpers.ts';

let tracker: RunningTracker;
before(async () => {
  tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
});
after(() => tracker.close());

function announceUrl(hash: Buffer, peer: Buffer, port: number, extra = ''): string {
  return `${tracker.httpAnnounceUrl}?info_hash=${esc(hash)}&peer_id=${esc(peer)}&port=${port}&uploaded=0&downloaded=0${extra}`;
}

test('HTTP announce returns other peers and counts seeds and leechers', async () => {
  // Includes bytes that are not valid UTF-8, to prove the query is decoded as raw bytes.
  const hash = Buffer.from('ff00' + 'ab'.repeat(18), 'hex');
  const seed = await get(announceUrl(hash, id(1), 6001, '&left=0&event=started&compact=1'));
  assert.equal(seed['interval'], 60);
  assert.deepEqual(seed['peers'], new Uint8Array(0));

  const leech = await get(announceUrl(hash, id(2), 6002, '&left=100&event=started&compact=1'));
  assert.deepEqual(Buffer.from(leech['peers'] as Uint8Array), Buffer.from([127, 0, 0, 1, 0x17, 0x71]));
  assert.equal(leech['complete'], 1);
  assert.equal(leech['incomplete'], 1);
  assert.deepEqual(tracker.swarm(hash.toString('hex')), { complete: 1, incomplete: 1 });

  const dict = await get(announceUrl(hash, id(3), 6003, '&left=5&compact=0'));
  const peers = dict['peers'] as BDict[];
  assert.equal(peers.length, 2);
  assert.deepEqual(peers.map((p) => p['port']).sort(), [6001, 6002]);
  assert.equal(text(peers[0]!['ip']), '127.0.0.1');
  assert.equal((peers[0]!['peer id'] as Uint8Array).length, 20);

  await get(announceUrl(hash, id(3), 6003, '&left=5&event=stopped'));
  assert.deepEqual(tracker.swarm(hash.toString('hex')), { complete: 1, incomplete: 1 });
});

test('loopback clients may claim an ip', async () => {
  const hash = id(0x40);
  await get(announceUrl(hash, id(1), 7001, '&left=0&ip=10.1.2.3'));
  const r = await get(announceUrl(hash, id(2), 7002, '&left=9'));
  assert.deepEqual(Buffer.from(r['peers'] as Uint8Array), Buffer.from([10, 1, 2, 3, 0x1b, 0x59]));
});

test('HTTP scrape reports counts keyed by raw infohash', async () => {
  const hash = Buffer.from('80' + '01'.repeat(19), 'hex');
  await get(announceUrl(hash, id(1), 6001, '&left=0&event=completed'));
  await get(announceUrl(hash, id(2), 6002, '&left=10'));
  const scrapeUrl = tracker.httpAnnounceUrl.replace('/announce', '/scrape');
  const res = await fetch(`${scrapeUrl}?info_hash=${esc(hash)}`);
  const raw = Buffer.from(await res.arrayBuffer());
  // The key must be the raw 20 bytes, not a UTF-8 re-encoding of them.
  assert.ok(raw.includes(Buffer.concat([Buffer.from('20:'), hash])));
  const files = (decode(new Uint8Array(raw)).value as BDict)['files'] as BDict;
  const entry = Object.values(files)[0] as BDict;
  assert.deepEqual(entry, Object.assign(Object.create(null), { complete: 1, downloaded: 1, incomplete: 1 }));
});

test('malformed HTTP queries get a failure reason and the server keeps serving', async () => {
  const base = tracker.httpAnnounceUrl;
  const bad = [
    `${base}`,
    `${base}?info_hash=abc&peer_id=${esc(id(1))}&port=1`,
    `${base}?info_hash=${esc(id(1))}&peer_id=${esc(id(1))}&port=99999`,
    `${base}?info_hash=${esc(id(1))}&peer_id=${esc(id(1))}&port=1&left=-5`,
    `${base}?info_hash=%zz&peer_id=x`,
    `${base}?info_hash=${esc(id(1))}&peer_id=${esc(id(1))}`,
    tracker.httpAnnounceUrl.replace('/announce', '/scrape'),
  ];
  for (const url of bad) {
    const r = await get(url);
    assert.equal(typeof text(r['failure reason']), 'string', url);
  }
  assert.equal((await fetch(base.replace('/announce', '/nope'))).status, 404);
  const ok = await get(announceUrl(id(9), id(9), 1234, '&left=1'));
  assert.equal(ok['failure reason'], undefined);
});

// --- UDP -------------------------------------------------------------------------------------

const udpClient = () => udpClientAt(tracker.udpPort);

test('UDP connect, announce and scrape', async () => {
  const c = await udpClient();
  try {
    const conn = await c.connect();
    const hash = id(0x55);
    const first = (await c.request(udpAnnounce(conn, hash, id(1), 8001, 0n, 2)))!;
    assert.equal(first.readUInt32BE(0), 1);
    assert.equal(first.readUInt32BE(8), 60);
    const second = (await c.request(udpAnnounce(conn, hash, id(2), 8002, 10n, 2)))!;
    assert.equal(second.readUInt32BE(12), 1); // leechers
    assert.equal(second.readUInt32BE(16), 1); // seeders
    assert.deepEqual(second.subarray(20), Buffer.from([127, 0, 0, 1, 0x1f, 0x41]));

    const s = Buffer.alloc(36);
    conn.copy(s, 0);
    s.writeUInt32BE(2, 8);
    s.writeUInt32BE(9, 12);
    hash.copy(s, 16);
    const sr = (await c.request(s))!;
    assert.equal(sr.readUInt32BE(0), 2);
    assert.deepEqual([sr.readUInt32BE(8), sr.readUInt32BE(12), sr.readUInt32BE(16)], [1, 0, 1]);
  } finally {
    c.close();
  }
});

test('UDP: bad connection id is an error, oversized and short packets are dropped', async () => {
  const c = await udpClient();
  try {
    const bad = (await c.request(udpAnnounce(Buffer.alloc(8, 1), id(1), id(1), 1, 0n, 0)))!;
    assert.equal(bad.readUInt32BE(0), 3);
    assert.match(bad.subarray(8).toString(), /connection id/);

    const huge = Buffer.alloc(4000);
    huge.writeBigUInt64BE(0x41727101980n, 0);
    assert.equal(await c.request(huge, 300), undefined);
    assert.equal(await c.request(Buffer.alloc(5), 300), undefined);

    const conn = await c.connect();
    const r = (await c.request(udpAnnounce(conn, id(0x66), id(1), 9001, 0n, 2)))!;
    assert.equal(r.readUInt32BE(0), 1);
  } finally {
    c.close();
  }
});

test('UDP announce with BEP 41 URL data is accepted in public mode', async () => {
  const c = await udpClient();
  try {
    const conn = await c.connect();
    const r = (await c.request(udpAnnounce(conn, id(0x67), id(1), 9002, 5n, 2, { urlData: '/announce?x=1' })))!;
    assert.equal(r.readUInt32BE(0), 1);
    assert.equal(r.readUInt32BE(12), 1);
  } finally {
    c.close();
  }
});

test('UDP: a burst of announces to two swarms gets every reply whole, each with its own peers (replies share buffers per length)', async () => {
  // Its own tracker: the shared one's per-IP rate limit would drop most of the burst.
  const own = await startTracker({ host: '127.0.0.1', interval: 60, rateLimit: false });
  const c = await udpClientAt(own.udpPort);
  const conn = await c.connect();
  const a = id(0x74);
  const b = id(0x75);
  // Ten peers in each swarm, ports 7400.. and 7500..: replies to either are the same length.
  for (let i = 0; i < 10; i++) {
    await c.request(udpAnnounce(conn, a, id(0x10 + i), 7400 + i, 1n, 2));
    await c.request(udpAnnounce(conn, b, id(0x10 + i), 7500 + i, 1n, 2));
  }
  c.close();
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const sconn = await new Promise<Buffer>((resolve) => {
    s.once('message', (m: Buffer) => resolve(m.subarray(8, 16)));
    const req = Buffer.alloc(16);
    req.writeBigUInt64BE(0x41727101980n, 0);
    s.send(req, own.udpPort, '127.0.0.1');
  });
  const replies = new Map<number, Buffer>();
  s.on('message', (m: Buffer) => replies.set(m.readUInt32BE(4), m));
  const N = 400;
  try {
    // Bursts of 100, each answered before the next: a longer one overflows the server's socket buffer.
    for (let t = 1; t <= N; t++) {
      const req = udpAnnounce(sconn, t % 2 ? a : b, id(0x40), 7999, 1n, 0);
      req.writeUInt32BE(t, 12);
      s.send(req, own.udpPort, '127.0.0.1');
      if (t % 100 === 0) await waitFor(() => replies.size === t, 5000, `replies to ${t} announces`);
    }
    for (const [t, m] of replies) {
      assert.equal(m.readUInt32BE(0), 1);
      // The announcer (port 7999) is in both swarms and never sent itself: the ten others.
      assert.equal(m.length, 20 + 10 * 6, `reply ${t}`);
      const base = t % 2 ? 7400 : 7500;
      for (let o = 20; o < m.length; o += 6) {
        const port = m.readUInt16BE(o + 4);
        assert.ok(port >= base && port < base + 10, `reply ${t} carries port ${port}, not one of its swarm's`);
      }
    }
  } finally {
    s.close();
    await own.close();
  }
});

test('numwant is honoured and capped; seeds are not sent seeds', async () => {
  const hash = id(0x70);
  for (let i = 1; i <= 8; i++) await get(announceUrl(hash, id(i), 7100 + i, `&left=${i <= 4 ? 0 : 10}`));
  const three = await get(announceUrl(hash, id(20), 7200, '&left=10&numwant=3'));
  assert.equal((three['peers'] as Uint8Array).length, 3 * 6);
  const none = await get(announceUrl(hash, id(20), 7200, '&left=10&numwant=0'));
  assert.equal((none['peers'] as Uint8Array).length, 0);
  const all = await get(announceUrl(hash, id(20), 7200, '&left=10&numwant=100000'));
  assert.equal((all['peers'] as Uint8Array).length, 8 * 6);
  // A seed asking for everything gets the five leechers only (four others plus the one above).
  const seed = await get(announceUrl(hash, id(1), 7101, '&left=0&numwant=-1&compact=0'));
  const ports = (seed['peers'] as BDict[]).map((p) => p['port'] as number).sort();
  assert.deepEqual(ports, [7105, 7106, 7107, 7108, 7200]);
});

test('/stats answers JSON and HTML, /metrics answers Prometheus text', async () => {
  await get(announceUrl(id(0x71), id(1), 7301, '&left=0'));
  const json = (await (await fetch(tracker.statsUrl)).json()) as Record<string, number | string>;
  assert.equal(json.mode, 'public');
  assert.ok((json.torrents as number) >= 1);
  assert.ok((json.peers as number) >= 1);
  assert.equal(json.peers, (json.seeders as number) + (json.leechers as number));
  assert.ok((json.announcesPerSecond as number) > 0);
  const htmlRes = await fetch(tracker.statsUrl, { headers: { accept: 'text/html' } });
  assert.match(htmlRes.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await htmlRes.text(), /<th>torrents<\/th><td>\d+<\/td>/);
  assert.match(await (await fetch(tracker.statsUrl.replace('/stats', '/stats.html'))).text(), /Cascade tracker/);
  const metrics = await (await fetch(tracker.metricsUrl)).text();
  assert.match(metrics, /^# TYPE cascade_tracker_announces_total counter$/m);
  assert.match(metrics, /^cascade_tracker_announces_total\{protocol="http"\} [1-9]\d*$/m);
  assert.match(metrics, /^cascade_tracker_peers\{state="seeder"\} [1-9]\d*$/m);
  assert.match(metrics, /^process_resident_memory_bytes \d+$/m);
});

test('hostile HTTP: oversized URL, garbage bytes, too many scrape hashes, wrong methods', async () => {
  const huge = await fetch(`${tracker.httpAnnounceUrl}?info_hash=${'a'.repeat(20_000)}`);
  assert.equal(huge.status, 431);
  // Not HTTP at all.
  const reply = await new Promise<string>((resolve) => {
    const s = net.connect(tracker.httpPort, '127.0.0.1', () => s.write(randomBytes(3000)));
    let got = '';
    s.on('data', (d) => (got += String(d)));
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
  });
  assert.match(reply, /^HTTP\/1.1 400/);
  const scrapeUrl = tracker.httpAnnounceUrl.replace('/announce', '/scrape');
  const many = await get(`${scrapeUrl}?${Array.from({ length: 101 }, (_, i) => `info_hash=${esc(id(i))}`).join('&')}`);
  assert.match(text(many['failure reason'])!, /at most 100/);
  const short = await get(`${scrapeUrl}?info_hash=${esc(Buffer.alloc(19))}`);
  assert.match(text(short['failure reason'])!, /20 bytes/);
  assert.equal((await fetch(tracker.httpAnnounceUrl, { method: 'POST', body: 'x' })).status, 405);
  const ok = await get(announceUrl(id(0x72), id(1), 1234, '&left=1'));
  assert.equal(ok['failure reason'], undefined);
});

test('hostile UDP: a flood of junk, spoofed-looking ids and bad lengths leaves the server answering', async () => {
  const c = await udpClient();
  try {
    for (let i = 0; i < 2000; i++) {
      const junk = randomBytes(Math.floor(Math.random() * 1600));
      // Every so often, a well-formed header with a random action and a wrong connection id.
      if (junk.length >= 16 && i % 3 === 0) junk.writeUInt32BE(i % 5, 8);
      c.send(junk);
    }
    // Junk with a valid header earns an error reply (no bigger than the request); let them pass.
    await c.drain();
    const conn = await c.connect();
    const tooShort = (await c.request(udpAnnounce(conn, id(1), id(1), 1, 0n, 0).subarray(0, 60)))!;
    assert.equal(tooShort.readUInt32BE(0), 3);
    const badScrape = (await c.request(Buffer.concat([udpScrape(conn, [id(1)]), Buffer.alloc(7)])))!;
    assert.equal(badScrape.readUInt32BE(0), 3);
    const badEvent = udpAnnounce(conn, id(1), id(1), 1, 0n, 9);
    assert.match((await c.request(badEvent))!.subarray(8).toString(), /invalid event/);
    const ok = (await c.request(udpAnnounce(conn, id(0x73), id(1), 9001, 0n, 2)))!;
    assert.equal(ok.readUInt32BE(0), 1);
  } finally {
    c.close();
  }
});

test('peers that stop announcing expire', async () => {
  const t = await startTracker({ host: '127.0.0.1', interval: 1, peerTtl: 1 });
  try {
    const hash = id(0x74);
    const url = `${t.httpAnnounceUrl}?info_hash=${esc(hash)}&peer_id=${esc(id(1))}&port=1000&left=0`;
    await get(url);
    assert.deepEqual(t.swarm(hash.toString('hex')), { complete: 1, incomplete: 0 });
    await waitFor(() => t.swarm(hash.toString('hex')).complete === 0, 5000, 'expiry');
    assert.equal((await t.stats()).peers, 0);
  } finally {
    await t.close();
  }
});

test('per-IP rate limit refuses HTTP with a reason and drops UDP, then recovers', async () => {
  const t = await startTracker({ host: '127.0.0.1', rateLimit: { perSecond: 2, burst: 4 } });
  try {
    const url = `${t.httpAnnounceUrl}?info_hash=${esc(id(1))}&peer_id=${esc(id(1))}&port=1000&left=0`;
    for (let i = 0; i < 4; i++) assert.equal((await get(url))['failure reason'], undefined);
    assert.match(text((await get(url))['failure reason'])!, /rate limited/);
    const c = await udpClientAt(t.udpPort);
    try {
      const b = Buffer.alloc(16);
      b.writeBigUInt64BE(0x41727101980n, 0);
      assert.equal(await c.request(b, 300), undefined);
      await new Promise((r) => setTimeout(r, 1100));
      assert.ok(await c.request(b), 'bucket refills');
    } finally {
      c.close();
    }
    const s = await t.stats();
    assert.ok(s.rateLimited.http! >= 1 && s.rateLimited.udp! >= 1);
  } finally {
    await t.close();
  }
});

test('scrape of an unknown torrent reports zeros', async () => {
  const c = await udpClient();
  try {
    const conn = await c.connect();
    const r = (await c.request(udpScrape(conn, [id(0x7f)])))!;
    assert.deepEqual([r.readUInt32BE(8), r.readUInt32BE(12), r.readUInt32BE(16)], [0, 0, 0]);
  } finally {
    c.close();
  }
  const raw = new Uint8Array(await (await fetch(`${tracker.httpAnnounceUrl.replace('/announce', '/scrape')}?info_hash=${esc(id(0x7f))}`)).arrayBuffer());
  const files = (decode(raw).value as BDict)['files'] as BDict;
  assert.deepEqual({ ...(Object.values(files)[0] as BDict) }, { complete: 0, downloaded: 0, incomplete: 0 });
});

test('behind a trusted proxy the announcer is the X-Forwarded-For client; other callers cannot forge it', async () => {
  const t = await startTracker({ host: '127.0.0.1', trustProxy: ['127.0.0.0/8'], rateLimit: { perSecond: 1, burst: 2 } });
  const plain = await startTracker({ host: '127.0.0.1' });
  try {
    const hash = id(0x51);
    // Leechers (left=5): a seed would not be sent other seeds.
    const at = (tr: RunningTracker, peer: number, port: number, xff?: string) =>
      fetch(`${tr.httpAnnounceUrl}?info_hash=${esc(hash)}&peer_id=${esc(id(peer))}&port=${port}&left=5&compact=1`, {
        headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      }).then(async (r) => decode(new Uint8Array(await r.arrayBuffer())).value as BDict);
    // A chain "client, other proxy": the other proxy (127.0.0.9) is trusted too, so the client is 203.0.113.7.
    await at(t, 1, 7101, '198.51.100.1, 203.0.113.7, 127.0.0.9');
    const r = await at(t, 2, 7102, '198.51.100.2');
    assert.deepEqual(Buffer.from(r['peers'] as Uint8Array), Buffer.from([203, 0, 113, 7, 0x1b, 0xbd]));
    // Each forwarded client has its own rate-limit bucket: a third address is not limited by the first two.
    for (let i = 0; i < 2; i++) assert.equal((await at(t, 3, 7103, '192.0.2.3'))['failure reason'], undefined);
    assert.match(text((await at(t, 3, 7103, '192.0.2.3'))['failure reason'])!, /rate limited/);
    assert.equal((await at(t, 4, 7104, '192.0.2.4'))['failure reason'], undefined);
    // Garbage in the header: the proxy's own address stands.
    await at(t, 5, 7105, 'not-an-ip');
    // A tracker that trusts no proxy ignores the header.
    await at(plain, 1, 7201, '203.0.113.9');
    const p = await at(plain, 2, 7202);
    assert.deepEqual(Buffer.from(p['peers'] as Uint8Array), Buffer.from([127, 0, 0, 1, 0x1c, 0x21]));
  } finally {
    await t.close();
    await plain.close();
  }
  assert.throws(() => new TrustedProxies(['10.0.0.0/33']), /prefix length/);
  assert.throws(() => new TrustedProxies(['proxy.example']), /not an IP address/);
});

test('port 0 is a look-up: answered with peers, never listed (HTTP and UDP)', async () => {
  const hash = randomBytes(20);
  await get(announceUrl(hash, id(1), 9001, '&left=0&event=started'));
  const look = await get(announceUrl(hash, id(2), 0, '&left=100&event=started&compact=1'));
  assert.deepEqual(Buffer.from(look['peers'] as Uint8Array), Buffer.from([127, 0, 0, 1, 0x23, 0x29]));
  assert.deepEqual(tracker.swarm(hash.toString('hex')), { complete: 1, incomplete: 0 });
  const c = await udpClient();
  try {
    const conn = await c.connect();
    const r = (await c.request(udpAnnounce(conn, hash, id(3), 0, 50n, 2)))!;
    assert.equal(r.readUInt32BE(0), 1);
    assert.deepEqual(r.subarray(20), Buffer.from([127, 0, 0, 1, 0x23, 0x29]));
  } finally {
    c.close();
  }
  const other = await get(announceUrl(hash, id(4), 9004, '&left=5&compact=0'));
  assert.deepEqual((other['peers'] as BDict[]).map((p) => p['port']), [9001], 'the look-ups are not listed');
  assert.deepEqual(tracker.swarm(hash.toString('hex')), { complete: 1, incomplete: 1 });
});

test('/relays: the onion directory takes signed descriptors and serves a signed list', async () => {
  const { generateIdentity } = await import('@cascade/identity');
  const { signDescriptor, checkRelayList, b64u } = await import('@cascade/onion');
  const relay = generateIdentity('r');
  const now = Date.now();
  const d = signDescriptor(relay, { onionKey: b64u(new Uint8Array(32).fill(9)), tcp: '127.0.0.9:9', exit: null, published: now, expires: now + 60_000 });
  const base = tracker.httpAnnounceUrl.replace(/\/announce$/, '');
  const ok = await fetch(`${base}/relays`, { method: 'POST', body: JSON.stringify(d) });
  assert.equal(ok.status, 200);
  const stale = await fetch(`${base}/relays`, { method: 'POST', body: JSON.stringify({ ...d, expires: now - 1 }) });
  assert.equal(stale.status, 400);
  const big = await fetch(`${base}/relays`, { method: 'POST', body: 'x'.repeat(5000) });
  assert.equal(big.status, 413);
  const got = await fetch(`${base}/relays`);
  assert.equal(got.headers.get('access-control-allow-origin'), '*', 'pages of any origin may read the list');
  const list = checkRelayList(await got.json());
  assert.deepEqual(list.relays.map((r) => r.id), [relay.did]);
  assert.equal((await fetch(`${base}/relays`, { method: 'DELETE' })).status, 405);
  // One address may publish a few relays, not a flood of made-up ones.
  const statuses: number[] = [];
  for (let i = 0; i < 9; i++) {
    const other = signDescriptor(generateIdentity(`r${i}`), { onionKey: b64u(new Uint8Array(32).fill(i)), tcp: `127.0.0.9:${1000 + i}`, exit: null, published: now, expires: now + 60_000 });
    statuses.push((await fetch(`${base}/relays`, { method: 'POST', body: JSON.stringify(other) })).status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 400, 400], 'the first relay and seven more, then refused');
});
