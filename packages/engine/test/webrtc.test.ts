// Node sessions trading over WebRTC data channels (node-datachannel), found through a WebSocket
// tracker (@cascade/tracker with `ws: true`; see ws-tracker.ts). ICE binds to 127.0.0.1 with no STUN servers, so every
// packet stays on loopback; the tests check the selected candidate pairs to be sure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { startWsTracker } from './ws-tracker.ts';
import { Session, createTorrent, toMagnet, type SessionOptions, type TorrentHandle, type TransferEvent, type WebRtcOptions } from '../index.ts';

const RTC: WebRtcOptions = { iceServers: [], bindAddress: '127.0.0.1', minAnnounceInterval: 2 };
const rtcSession = (extra: SessionOptions = {}) => Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC, ...extra });

async function tmp(t: { after: (fn: () => unknown) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-webrtc-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function wsTracker(t: { after: (fn: () => unknown) => void }): Promise<string> {
  const tr = await startWsTracker();
  t.after(() => tr.close());
  return tr.url;
}

function done(h: TorrentHandle, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())} ${JSON.stringify(h.trackers())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
    h.once('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
}

const sha = async (p: string) => createHash('sha256').update(await fs.readFile(p)).digest('hex');

async function assertLoopback(...sessions: Session[]): Promise<void> {
  for (const s of sessions) {
    const pairs = await s.webrtcCandidatePairs();
    assert.ok(pairs.length > 0, 'an open WebRTC connection');
    for (const p of pairs) {
      assert.match(p.local, /^127\.0\.0\.1:\d+$/, `local candidate ${p.local}`);
      assert.match(p.remote, /^127\.0\.0\.1:\d+$/, `remote candidate ${p.remote}`);
    }
  }
}

for (const mode of ['torrent', 'magnet'] as const) {
  test(`two Node sessions exchange a torrent over WebRTC only, given the ${mode}`, async (t) => {
    const root = await tmp(t);
    const ws = await wsTracker(t);
    const src = path.join(root, 'seed', 'data.bin');
    await fs.mkdir(path.dirname(src), { recursive: true });
    await fs.writeFile(src, randomBytes(3_000_017));
    const { torrent, metainfo } = await createTorrent(src, { pieceLength: 64 * 1024, announce: [ws] });

    const seeder = await rtcSession();
    const leecher = await rtcSession();
    t.after(() => Promise.all([seeder.close(), leecher.close()]));
    const s = await seeder.add(torrent, { savePath: path.join(root, 'seed') });
    await done(s);
    const source = mode === 'torrent' ? torrent : toMagnet({ infoHashHex: metainfo.infoHashHex, trackers: [ws] });
    const l = await leecher.add(source, { savePath: path.join(root, 'out') });
    // Once done, both ends are seeds and hang up: look at the connection while it is in use.
    const during = new Promise<[ReturnType<TorrentHandle['peers']>, void]>((resolve, reject) => {
      l.once('verified', () => Promise.all([l.peers(), assertLoopback(seeder, leecher)]).then(resolve, reject));
    });
    await done(l);
    const [peers] = await during;

    assert.equal(await sha(path.join(root, 'out', 'data.bin')), await sha(src));
    assert.ok(peers.length >= 1);
    for (const p of peers) assert.equal(p.transport, 'webrtc');
    assert.match(peers[0]!.address, /^webrtc:[0-9a-f]{40}$/);
    assert.equal(peers[0]!.address, `webrtc:${seeder.peerIdHex}`);
    assert.ok(s.stats().uploaded >= metainfo.length);
    // The sessions' totals count it all under WebRTC (cascade_bytes_total{transport="webrtc"}).
    const [sent, got] = [seeder.counters().bytesSent, leecher.counters().bytesReceived];
    assert.ok(sent.webrtc >= metainfo.length && sent.tcp === 0, JSON.stringify(sent));
    assert.ok(got.webrtc >= metainfo.length && got.tcp === 0, JSON.stringify(got));
    assert.ok(leecher.counters().announces.ok >= 1, 'the WebSocket tracker answered');
    const ts = l.trackers();
    assert.equal(ts.length, 1);
    assert.equal(ts[0]!.url, ws);
    assert.equal(ts[0]!.status, 'ok');
  });
}

test('a hybrid session relays between a TCP-only seeder and a WebRTC-only leecher', async (t) => {
  const root = await tmp(t);
  const ws = await wsTracker(t);
  const src = path.join(root, 'seed', 'pack');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(1_500_000));
  await fs.writeFile(path.join(src, 'b.bin'), randomBytes(700_001));
  const { torrent, metainfo } = await createTorrent(src, { pieceLength: 32 * 1024 });

  // TCP only: no WebRTC at all.
  const tcpSeeder = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  // Both: dials the TCP seeder, and announces to the WS tracker (given through `trackers`).
  const hybrid = await rtcSession({ trackers: [ws] });
  // WebRTC only: knows no TCP address, finds the hybrid through the WS tracker.
  const browserLike = await rtcSession({ trackers: [ws] });
  t.after(() => Promise.all([tcpSeeder.close(), hybrid.close(), browserLike.close()]));

  const s = await tcpSeeder.add(torrent, { savePath: path.join(root, 'seed') });
  await done(s);
  const h = await hybrid.add(torrent, { savePath: path.join(root, 'hybrid'), peers: [`127.0.0.1:${tcpSeeder.port}`] });
  const w = await browserLike.add(toMagnet({ infoHashHex: metainfo.infoHashHex }), { savePath: path.join(root, 'web') });
  const sources = new Set<string>();
  w.on('transfer', (e: TransferEvent) => sources.add(e.peer));
  await Promise.all([done(h), done(w)]);
  assert.deepEqual([...sources], [`webrtc:${hybrid.peerIdHex}`], 'every byte came from the hybrid, over WebRTC');

  for (const f of ['a.bin', 'b.bin']) {
    const want = await sha(path.join(src, f));
    assert.equal(await sha(path.join(root, 'hybrid', 'pack', f)), want);
    assert.equal(await sha(path.join(root, 'web', 'pack', f)), want);
  }
  assert.equal(s.stats().uploaded >= metainfo.length, true, 'the hybrid got its data over TCP');
  assert.equal(w.stats().downloaded >= metainfo.length, true);
  assert.ok(h.stats().uploaded > 0, 'the hybrid uploaded to the WebRTC peer');
  // The TCP-only session never heard of the WebRTC peer.
  assert.ok(s.peers().every((p) => p.transport === 'tcp'));
});

test('webrtc: false leaves ws:// trackers unsupported and opens no WebRTC connections', async (t) => {
  const root = await tmp(t);
  const session = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const src = path.join(root, 'x.bin');
  await fs.writeFile(src, randomBytes(10_000));
  const { torrent } = await createTorrent(src, { announce: ['ws://127.0.0.1:9/announce'] });
  const h = await session.add(torrent, { savePath: root });
  const [tr] = h.trackers();
  assert.equal(tr?.status, 'error');
  assert.match(tr?.message ?? '', /unsupported tracker scheme/);
  assert.deepEqual(await session.webrtcCandidatePairs(), []);
});
