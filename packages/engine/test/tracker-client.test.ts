import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startTracker } from '@cascade/tracker';
import type { RunningTracker } from '@cascade/tracker';
import { TrackerClient } from '../src/discovery/tracker-client.ts';
import type { TrackerClientOptions } from '../src/discovery/tracker-client.ts';
import { announceUrl, escapeBytes, httpAnnounce, httpScrape, scrapeUrlFor } from '../src/discovery/tracker-http.ts';
import { UdpTracker } from '../src/node/tracker-udp.ts';
import { dualStackHttp, dualStackUdp } from '../src/node/tracker-families.ts';
import { createHttpTransport } from '../src/discovery/tracker-http.ts';
import { encode } from '../src/encoding/bencode.ts';
import type { PeerAddress } from '../src/types.ts';

let tracker: RunningTracker;
const udp = new UdpTracker({ timeoutMs: 200, maxRetries: 1 });
before(async () => {
  tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
});
after(async () => {
  await udp.close();
  await tracker.close();
});

const hash = (n: number) => new Uint8Array(20).fill(n);

function client(over: Partial<TrackerClientOptions> & { onPeers?: TrackerClientOptions['onPeers'] }): TrackerClient {
  return new TrackerClient({
    infoHash: hash(1),
    peerId: hash(2),
    port: 5000,
    tiers: [[tracker.httpAnnounceUrl]],
    getStats: () => ({ uploaded: 0, downloaded: 0, left: 100 }),
    onPeers: () => {},
    udp: () => udp,
    retryDelay: 0.05,
    ...over,
  });
}

function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > end) return reject(new Error('timed out waiting'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

test('escapes raw bytes exactly and builds the scrape URL', () => {
  assert.equal(escapeBytes(new Uint8Array([0x00, 0x41, 0x7e, 0x2d, 0xff, 0x20, 0x2f])), '%00A~-%FF%20%2F');
  const url = announceUrl('http://t/announce?passkey=x', {
    infoHash: hash(0xab), peerId: hash(0x61), port: 1, uploaded: 0, downloaded: 0, left: 0, event: 'started', key: 1,
  });
  assert.match(url, /^http:\/\/t\/announce\?passkey=x&info_hash=(%AB){20}&peer_id=a{20}&port=1&/);
  assert.match(url, /&event=started&key=00000001$/);
  assert.equal(scrapeUrlFor('http://t:1/x/announce.php?a=b'), 'http://t:1/x/scrape.php?a=b');
  assert.equal(scrapeUrlFor('http://t/a'), undefined);
});

for (const kind of ['http', 'udp'] as const) {
  test(`${kind}: two clients find each other and stop cleanly`, async () => {
    const url = kind === 'http' ? tracker.httpAnnounceUrl : tracker.udpAnnounceUrl;
    const infoHash = hash(kind === 'http' ? 10 : 11);
    const got: { peers: PeerAddress[]; source: string }[] = [];
    const seed = client({ infoHash, peerId: hash(20), port: 6881, tiers: [[url]], getStats: () => ({ uploaded: 0, downloaded: 0, left: 0 }) });
    let left = 100;
    const leech = client({
      infoHash, peerId: hash(21), port: 6882, tiers: [[url]],
      getStats: () => ({ uploaded: 0, downloaded: 100 - left, left }),
      onPeers: (peers, source) => got.push({ peers, source }),
    });
    seed.start();
    await waitFor(() => seed.status()[0]!.status === 'ok');
    leech.start();
    await waitFor(() => got.length > 0);
    assert.deepEqual(got[0], { peers: [{ host: '127.0.0.1', port: 6881 }], source: url });
    const hex = Buffer.from(infoHash).toString('hex');
    assert.deepEqual(tracker.swarm(hex), { complete: 1, incomplete: 1 });
    const st = leech.status()[0]!;
    assert.equal(st.status, 'ok');
    assert.equal(st.peers, 1);
    assert.ok(st.lastAnnounce! > 0);

    left = 0;
    leech.completed();
    await waitFor(() => tracker.swarm(hex).complete === 2);
    await leech.stop();
    await seed.stop();
    assert.deepEqual(tracker.swarm(hex), { complete: 0, incomplete: 0 });
  });
}

test('a dead first tracker fails over to a live one, which moves to the front', async () => {
  // A UDP port nobody answers and a closed HTTP port.
  const silent = dgram.createSocket('udp4');
  silent.bind(0, '127.0.0.1');
  await once(silent, 'listening');
  const closed = http.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const dead = [`udp://127.0.0.1:${silent.address().port}/announce`, `http://127.0.0.1:${closedPort}/announce`];

  for (const deadUrl of dead) {
    const c = client({
      infoHash: hash(30),
      shuffle: false,
      tiers: [[deadUrl, tracker.httpAnnounceUrl], [deadUrl], ['wss://tracker.invalid/announce']],
    });
    c.start();
    await waitFor(() => c.status().some((s) => s.url === tracker.httpAnnounceUrl && s.status === 'ok'));
    const [live, deadInTier0, deadTier1, wss] = c.status();
    assert.equal(live!.url, tracker.httpAnnounceUrl, 'working tracker moved to the front of its tier');
    assert.equal(live!.tier, 0);
    assert.equal(deadInTier0!.url, deadUrl);
    assert.equal(deadInTier0!.status, 'error');
    assert.ok(deadInTier0!.message);
    // Tiers are announced to independently: tier 1 has nothing to fall over to.
    await waitFor(() => c.status()[2]!.status === 'error');
    assert.equal(deadTier1!.tier, 1);
    assert.equal(wss!.status, 'error');
    assert.match(wss!.message!, /unsupported/);
    await c.stop();
  }
  silent.close();
});

test('failure reason and warnings surface in status, timers keep retrying', async () => {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    const body = hits < 3 ? { 'failure reason': 'torrent not registered' } : { interval: 1800, peers: new Uint8Array(0), 'warning message': 'be nice' };
    res.end(encode(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`;
  const c = client({ tiers: [[url]] });
  c.start();
  await waitFor(() => c.status()[0]!.status === 'error');
  assert.equal(c.status()[0]!.message, 'torrent not registered');
  await waitFor(() => c.status()[0]!.status === 'ok');
  assert.equal(c.status()[0]!.message, 'be nice');
  await c.stop();
  server.close();
});

test('stop() is bounded even when the tracker hangs', async () => {
  let first = true;
  const server = http.createServer((_req, res) => {
    if (first) {
      first = false;
      res.end(encode({ interval: 1800, peers: new Uint8Array(0) }));
    }
    // Later requests never get an answer.
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`;
  const c = client({ tiers: [[url]], stopTimeoutMs: 200 });
  c.start();
  await waitFor(() => c.status()[0]!.status === 'ok');
  const t0 = Date.now();
  await c.stop();
  assert.ok(Date.now() - t0 < 1000);
  server.closeAllConnections();
  server.close();
});

test('parses dictionary peers and peers6; scrapes over HTTP and UDP', async () => {
  const v6 = Buffer.alloc(18);
  v6.writeUInt16BE(0x2001, 0);
  v6.writeUInt16BE(0x0db8, 2);
  v6.writeUInt16BE(1, 14);
  v6.writeUInt16BE(51413, 16);
  const server = http.createServer((_req, res) => {
    res.end(encode({ interval: 900, 'min interval': 300, complete: 4, incomplete: 2, peers: [{ ip: '10.0.0.1', port: 1 }, { ip: 'x', port: 0 }], peers6: v6 }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`;
  const r = await httpAnnounce(url, { infoHash: hash(1), peerId: hash(2), port: 1, uploaded: 0, downloaded: 0, left: 0 });
  assert.deepEqual(r.peers, [{ host: '10.0.0.1', port: 1 }, { host: '2001:db8::1', port: 51413 }]);
  assert.equal(r.interval, 900);
  assert.equal(r.minInterval, 300);
  assert.equal(r.complete, 4);
  server.close();

  const h = hash(0xc3); // not valid UTF-8 on its own
  await udp.announce(tracker.udpAnnounceUrl, { infoHash: h, peerId: hash(5), port: 9, uploaded: 0, downloaded: 0, left: 0, event: 'completed' });
  const hex = Buffer.from(h).toString('hex');
  assert.deepEqual((await httpScrape(tracker.httpAnnounceUrl, [h])).get(hex), { complete: 1, incomplete: 0, downloaded: 1 });
  assert.deepEqual((await udp.scrape(tracker.udpAnnounceUrl, [h])).get(hex), { complete: 1, incomplete: 0, downloaded: 1 });
});

test('a dual-stack scrape of a name with both families reaches a tracker that listens on one (HTTP and UDP)', async () => {
  // `dual.test` names ::1 first, then 127.0.0.1; the tracker listens on 127.0.0.1 only. Before, the
  // scrape went over the first address alone and failed; the announces already went over both.
  const resolve = async () => [{ address: '::1', family: 6 as const }, { address: '127.0.0.1', family: 4 as const }];
  const h = hash(0xd4);
  await udp.announce(tracker.udpAnnounceUrl, { infoHash: h, peerId: hash(6), port: 9, uploaded: 0, downloaded: 0, left: 0, event: 'completed' });
  const hex = Buffer.from(h).toString('hex');
  const http4 = dualStackHttp(resolve, createHttpTransport());
  assert.deepEqual((await http4.scrape!(tracker.httpAnnounceUrl.replace('127.0.0.1', 'dual.test'), [h])).get(hex), { complete: 1, incomplete: 0, downloaded: 1 });
  const named = new UdpTracker({ timeoutMs: 200, maxRetries: 0, resolve });
  try {
    const udp4 = dualStackUdp(named, resolve);
    assert.deepEqual((await udp4.scrape!(tracker.udpAnnounceUrl.replace('127.0.0.1', 'dual.test'), [h])).get(hex), { complete: 1, incomplete: 0, downloaded: 1 });
  } finally {
    await named.close();
  }
});

test('UDP tracker error (action 3) is reported, not retried', async () => {
  const fake = dgram.createSocket('udp4');
  fake.on('message', (msg, r) => {
    const reply = Buffer.alloc(16);
    reply.writeUInt32BE(msg.readUInt32BE(8) === 0 ? 0 : 3, 0);
    msg.copy(reply, 4, 12, 16);
    const out = msg.readUInt32BE(8) === 0 ? reply : Buffer.concat([reply.subarray(0, 8), Buffer.from('go away')]);
    fake.send(out, r.port, r.address);
  });
  fake.bind(0, '127.0.0.1');
  await once(fake, 'listening');
  await assert.rejects(
    udp.announce(`udp://127.0.0.1:${fake.address().port}`, { infoHash: hash(1), peerId: hash(2), port: 1, uploaded: 0, downloaded: 0, left: 0 }),
    { name: 'TrackerError', message: 'go away' },
  );
  fake.close();
});

test('IPv6: over ::1 the UDP tracker answers with 18-byte peers and HTTP with peers6', async () => {
  // The dev and CI machines have ::1 on lo; a machine without it fails here rather than hiding it.
  const v6: RunningTracker = await startTracker({ host: '::1', interval: 60 });
  try {
    const base = { peerId: hash(7), port: 7777, uploaded: 0, downloaded: 0, left: 0 };
    await udp.announce(v6.udpAnnounceUrl, { ...base, infoHash: hash(0x61), event: 'started' });
    const r = await udp.announce(v6.udpAnnounceUrl, { ...base, infoHash: hash(0x61), peerId: hash(8), port: 7778, left: 5 });
    assert.deepEqual(r.peers, [{ host: '::1', port: 7777 }]);
    const h = await httpAnnounce(v6.httpAnnounceUrl, { ...base, infoHash: hash(0x61), peerId: hash(9), left: 5 });
    assert.deepEqual(h.peers.sort((a, b) => a.port - b.port), [{ host: '::1', port: 7777 }, { host: '::1', port: 7778 }]);
  } finally {
    await v6.close();
  }
});
