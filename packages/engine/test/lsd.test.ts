// BEP 14 local service discovery without sockets (no test multicasts outside a namespace of its
// own: the sockets are proved in packages/cli/test/lsd.lab.test.ts): the message as libtorrent
// writes and reads it, hostile bytes, and the service's rules over real torrents of a session —
// a private torrent is never announced, our own cookie is ignored, announces are paced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Session, createTorrent } from '../index.ts';
import { LocalDiscovery, formatLsdMessage, parseLsdMessage, type LsdTorrent, type LsdTransport } from '../src/discovery/lsd.ts';
import { tmpDir } from './session-helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const IH = 'ab'.repeat(20);

test('BT-SEARCH: what libtorrent sends parses, ours is what libtorrent sends, hostile bytes give null', () => {
  // libtorrent 2.0's message, byte for byte (cookie in hex, one Infohash line).
  const lt = `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ${IH.toUpperCase()}\r\ncookie: 50ae9ad0\r\n\r\n\r\n`;
  assert.deepEqual(parseLsdMessage(enc(lt)), { port: 6881, infoHashes: [IH], cookie: '50ae9ad0' });
  assert.equal(formatLsdMessage(4, 6881, [IH.toUpperCase()], '50ae9ad0'), lt);
  const v6 = formatLsdMessage(6, 7000, [IH, 'cd'.repeat(20)], '1');
  assert.match(v6, /^BT-SEARCH \* HTTP\/1\.1\r\nHost: \[ff15::efc0:988f\]:6771\r\n/);
  assert.deepEqual(parseLsdMessage(enc(v6))?.infoHashes, [IH, 'cd'.repeat(20)], 'several infohashes in one message');

  const bad = [
    '', 'BT-SEARCH', `GET / HTTP/1.1\r\nPort: 1\r\nInfohash: ${IH}\r\n\r\n`,
    `BT-SEARCH * HTTP/1.1\r\nInfohash: ${IH}\r\n\r\n`,
    ...['0', '65536', '-1', '1e3', ' ', '99999999'].map((p) => `BT-SEARCH * HTTP/1.1\r\nPort: ${p}\r\nInfohash: ${IH}\r\n\r\n`),
    ...['0'.repeat(40), 'zz'.repeat(20), IH.slice(1), IH + 'a'].map((h) => `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${h}\r\n\r\n`),
    `BT-SEARCH * HTTP/1.1\r\nPort 1\r\nInfohash: ${IH}\r\n\r\n`,
    `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${IH}\r\n${'x'.repeat(5000)}\r\n\r\n`,
  ];
  for (const b of bad) assert.equal(parseLsdMessage(enc(b)), null, JSON.stringify(b.slice(0, 80)));
  const random = new Uint8Array(3000);
  for (let i = 0; i < 200; i++) {
    for (let j = 0; j < random.length; j++) random[j] = (Math.random() * 256) | 0;
    assert.equal(parseLsdMessage(random.subarray(0, (Math.random() * 3000) | 0)), null);
  }
  // 200 Infohash lines: only the first 50 are read.
  const many = `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n${Array.from({ length: 200 }, (_, i) => `Infohash: ${i.toString(16).padStart(40, '0')}\r\n`).join('').slice(0, 3500)}\r\n`;
  assert.ok((parseLsdMessage(enc(many))?.infoHashes.length ?? 0) <= 50);
});

/** The sockets' place: records what would be multicast. */
function recorder(): LsdTransport & { sent: string[] } {
  const sent: string[] = [];
  return { families: [4, 6], sent, send: (_f, m) => void sent.push(new TextDecoder().decode(m)), close() {} };
}

test('the service over real torrents: private never announced, own cookie ignored, peers added as "lsd", sends paced', async (t) => {
  const dir = await tmpDir(t);
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const add = async (name: string, priv: boolean) => {
    await fs.writeFile(path.join(dir, name), Buffer.alloc(40_000, name));
    const made = await createTorrent(path.join(dir, name), { private: priv });
    return session.add(made.torrent, { savePath: dir });
  };
  const pub = await add('public.bin', false);
  const priv = await add('private.bin', true);
  assert.equal(pub.lsdAllowed(), true);
  assert.equal(priv.lsdAllowed(), false, 'BEP 27: a private torrent is never announced on the LAN');

  const torrents = new Map<string, LsdTorrent>([[pub.infoHashHex, pub], [priv.infoHashHex, priv]]);
  const counters = { lsdSent: 0, lsdReceived: 0, lsdDropped: 0, lsdPeers: 0, lsdPeerHosts: [], lsdPeersByHost: new Map<string, number>() };
  const lsd = new LocalDiscovery({ port: () => 6881, find: (hex) => torrents.get(hex), intervalMs: 400, counters });
  t.after(() => lsd.close());
  const wire = recorder();
  lsd.attach(wire);
  lsd.join(pub);
  lsd.join(priv);
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(wire.sent.length >= 2, 'announced on both families');
  assert.ok(wire.sent.every((m) => m.includes(pub.infoHashHex) && !m.includes(priv.infoHashHex)), 'only the public torrent');
  // Over 1.5 s with a 400 ms interval (and so a 400 ms floor): at most 4 rounds, 2 families each.
  assert.ok(wire.sent.length <= 8, `paced: ${wire.sent.length} messages`);

  const from = (cookie: string, port: number, ih = pub.infoHashHex) => enc(formatLsdMessage(4, port, [ih], cookie));
  lsd.receive(from(lsd.cookie, 7001), '127.9.0.1');
  lsd.receive(from(lsd.cookie.toUpperCase(), 7002), '127.9.0.1');
  assert.equal(pub.discovery().lsd?.peersFound, 0, 'our own messages teach us nothing');
  lsd.receive(from('1234', 7003, priv.infoHashHex), '127.9.0.2');
  assert.equal(priv.discovery().lsd?.peersFound, 0, 'nor do announces of a private torrent');
  lsd.receive(from('1234', 7004), 'fe80::1%eth0');
  lsd.receive(from('1234', 7005), '127.9.0.3');
  lsd.receive(from('1234', 7005), '127.9.0.3');
  assert.equal(pub.discovery().lsd?.peersFound, 1, 'one new peer (scoped addresses and repeats are not)');
  // Dialled as an LSD peer (nothing listens there: the attempt is refused at once, on loopback).
  for (let i = 0; i < 100 && !pub.discovery().peersTried.some((p) => p.address === '127.9.0.3:7005'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(pub.discovery().peersTried.some((p) => p.address === '127.9.0.3:7005' && p.source === 'lsd'), JSON.stringify(pub.discovery().peersTried));

  // A flood from one sender, each message another port: a handful of peers, a handful of replies.
  const before = wire.sent.length;
  for (let i = 0; i < 1000; i++) lsd.receive(from('beef', 20_000 + i), '127.9.0.4');
  assert.ok(pub.discovery().lsd!.peersFound <= 21, `peers from one sender are capped (${pub.discovery().lsd!.peersFound})`);
  assert.deepEqual(Object.fromEntries(counters.lsdPeersByHost), { '127.9.0.3': 1, '127.9.0.4': 20 }, 'counted by the host that gave them');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(wire.sent.length - before <= 4, `the flood made us send little (${wire.sent.length - before} messages)`);
});
