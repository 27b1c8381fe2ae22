// Issue 20, defect 9 (engine side): a magnet nobody has says what was tried and what answered.
// torrent.discovery() reports each tracker's last reply or error with its time, the DHT's state
// and lookups, and the last peers tried with how each attempt ended: here a tracker that answers
// with no peers, a dead tracker, a peer that refuses, one that never answers the handshake and
// one that answers for another torrent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTracker } from '@cascade/tracker';
import { Session, toMagnet } from '../index.ts';
import { encodeHandshake } from '../src/wire/protocol.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listen(onConn: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const l = await listen(() => {});
  await l.close();
  return l.port;
}

test('a magnet nobody has: trackers, DHT and peers tried, each with what answered', async (t) => {
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
  const deadTracker = `http://127.0.0.1:${await deadPort()}/announce`;
  const silent = await listen(() => {}); // accepts, never answers the handshake
  const wrong = await listen((s) => s.once('data', () => s.write(encodeHandshake(new Uint8Array(20).fill(9), new Uint8Array(20).fill(8), { extended: true, fast: true, dht: false }))));
  const refused = await deadPort();
  const session = await Session.create({ host: '127.0.0.1', dht: { bootstrap: [] }, webrtc: false, handshakeTimeoutMs: 700 });
  t.after(async () => {
    await session.close();
    await Promise.all([tracker.close(), silent.close(), wrong.close()]);
  });
  const infoHash = 'c0ffee'.padEnd(40, '1');
  const magnet = toMagnet({ infoHashHex: infoHash, name: 'nobody has this', trackers: [tracker.httpAnnounceUrl, deadTracker] });
  const started = Date.now();
  const h = await session.add(magnet, {
    savePath: path.join(os.tmpdir(), 'cascade-discovery-unused'),
    peers: [`127.0.0.1:${refused}`, `127.0.0.1:${silent.port}`, `127.0.0.1:${wrong.port}`],
  });

  let report = h.discovery();
  for (let i = 0; i < 100; i++) {
    report = h.discovery();
    const answered = report.trackers.filter((x) => x.lastReplyAt || x.lastErrorAt).length;
    if (answered === 2 && report.peersTried.length >= 3) break;
    await sleep(100);
  }
  assert.equal(h.stats().state, 'metadata');

  const live = report.trackers.find((x) => x.url === tracker.httpAnnounceUrl)!;
  assert.equal(live.status, 'ok');
  assert.equal(live.peers, 0, 'the tracker answered with no peers');
  assert.ok(live.lastReplyAt! >= started);
  const dead = report.trackers.find((x) => x.url === deadTracker)!;
  assert.equal(dead.status, 'error');
  assert.match(dead.lastError!, /ECONNREFUSED|refused/i);
  assert.ok(dead.lastErrorAt! >= started);

  assert.equal(report.dht.enabled, true);
  assert.ok(report.dht.lookups >= 1, 'the DHT was asked');
  assert.equal(report.dht.peersFound, 0);
  assert.ok(report.dht.lastLookupAt! >= started);
  assert.equal(typeof report.dht.nodes, 'number');

  const result = (port: number) => report.peersTried.find((p) => p.address === `127.0.0.1:${port}`);
  assert.equal(result(refused)?.result, 'connection refused');
  assert.equal(result(refused)?.source, 'manual');
  assert.equal(result(silent.port)?.result, 'handshake timeout');
  assert.equal(result(wrong.port)?.result, 'infohash mismatch');
  for (const p of report.peersTried) assert.ok(p.at >= started && p.at <= Date.now());
  assert.ok(report.peersTried.length <= 20);
  // Pure data: it survives JSON as is (the server sends it in GET /api/torrents/:infoHash).
  const json = JSON.parse(JSON.stringify(report));
  assert.deepEqual(json.peersTried, report.peersTried);
  assert.deepEqual(json.dht, report.dht);
});

test('a private torrent reports the DHT as not used; a session without DHT as disabled', async (t) => {
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add('d'.repeat(40), { savePath: path.join(os.tmpdir(), 'cascade-discovery-unused') });
  const report = h.discovery();
  assert.deepEqual(report.dht, { enabled: false, nodes: 0, lookups: 0, peersFound: 0, lastLookupAt: null });
  assert.deepEqual(report.trackers, []);
  assert.deepEqual(report.peersTried, []);
});
