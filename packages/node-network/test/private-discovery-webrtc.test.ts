// WebRTC peers found with private discovery (issue 14): a hidden torrent's WebSocket tracker session
// is tunnelled through a circuit, its SDP offers stripped of addresses, and it still downloads over
// a WebRTC data channel. A recording WebSocket proxy in front of the tracker shows who connected and
// what they sent: the seeder and exits, never the client; no offer of the client carries a candidate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateIdentity } from '@cascade/identity';
import { offersOf, recordingWsProxy } from '../../onion/test/recording-proxy.ts';
import { startTracker } from '@cascade/tracker';
import { Session, createTorrent, toMagnet, type TransferEvent, type WebRtcOptions } from '@cascade/engine';
import { OnionClient, directoryRelays, onionDiscovery } from '@cascade/onion';
import { dialRelay } from '@cascade/onion/node';
import { silentLog } from '@cascade/node';
import { startNodeRelay } from '../src/onion.ts';

const RTC: WebRtcOptions = { iceServers: [], bindAddress: '127.0.0.1', minAnnounceInterval: 2 };
const RELAYS = ['127.0.0.74', '127.0.0.75', '127.0.0.76'];

test('a hidden torrent finds a WebRTC seeder through a tunnelled WebSocket tracker and downloads from it', { timeout: 90_000 }, async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-pd-rtc-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60, ws: true });
  t.after(() => tracker.close());
  const directory = `http://127.0.0.1:${tracker.httpPort}`;

  // The proxy: who connects, and every message they send on.
  const { url: wsUrl, seen } = await recordingWsProxy(t, '127.0.0.24', tracker.wsAnnounceUrl!);

  const relays = await Promise.all(
    RELAYS.map((host) => startNodeRelay({ identity: generateIdentity(host), host, port: 0, directories: [directory], exit: true, dhtBootstrap: [] }, silentLog)),
  );
  t.after(() => Promise.all(relays.map((r) => r.close())));

  const src = path.join(root, 'clip.bin');
  await fs.writeFile(src, randomBytes(1_200_000));
  const { torrent, metainfo } = await createTorrent(src, { pieceLength: 32 * 1024, announce: [wsUrl] });
  const seeder = await Session.create({ port: 0, host: '127.0.0.1', dht: false, webrtc: RTC });
  t.after(() => seeder.close());
  await seeder.add(torrent, { savePath: root });

  const client = new OnionClient({ relays: directoryRelays([directory]), dial: (a, s) => dialRelay(a, s, '127.0.0.5') });
  t.after(() => client.close());
  const hidden = await Session.create({ port: 0, host: '127.0.0.5', dht: false, webrtc: RTC, privateDiscovery: onionDiscovery(client) });
  t.after(() => hidden.close());
  const out = path.join(root, 'out');
  const h = await hidden.add(toMagnet({ infoHashHex: metainfo.infoHashHex, trackers: [wsUrl] }), { savePath: out, privateDiscovery: true });
  const sources = new Set<string>();
  h.on('transfer', (e: TransferEvent) => sources.add(e.peer));
  await new Promise<void>((resolve) => (h.stats().progress === 1 ? resolve() : h.once('done', () => resolve())));
  assert.ok((await fs.readFile(path.join(out, 'clip.bin'))).equals(await fs.readFile(src)));
  assert.deepEqual([...sources], [`webrtc:${seeder.peerIdHex}`], 'the data came over WebRTC from the seeder');

  const froms = new Set(seen.map((s) => s.from));
  assert.ok(!froms.has('127.0.0.5'), `the tracker saw the client: ${[...froms]}`);
  assert.ok([...froms].some((f) => RELAYS.includes(f)), `no exit reached the tracker: ${[...froms]}`);
  const viaExits = seen.filter((s) => RELAYS.includes(s.from)).flatMap((s) => s.messages);
  const offers = offersOf(seen.filter((s) => RELAYS.includes(s.from)));
  assert.ok(offers.length > 0, 'the client sent offers through the exit');
  for (const sdp of offers) {
    assert.ok(!/a=candidate/.test(sdp), 'an offer carries a candidate');
    assert.ok(!/127\.0\.0\.(1|5)\b/.test(sdp), 'an offer carries an address');
  }
  assert.ok(viaExits.every((m) => m.peer_id !== Buffer.from(hidden.peerIdHex, 'hex').toString('latin1')), 'the session peer id went to the tracker');
});
