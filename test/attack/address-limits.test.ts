// Per-address connection limits (issue 44, item 5): IPv6 peers count by their /64, as one
// subscriber is handed a whole prefix; and the connections we dial to one address are capped as the
// ones it opens to us are, so a peer list naming one host at many ports cannot make us flood it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Session, createTorrent, type TorrentHandle } from '../../packages/engine/index.ts';
import { CONNECTION_DEFAULTS, HANDSHAKES_PER_ADDRESS_FACTOR } from '../../packages/engine/src/node/session.ts';
import { addressGroup } from '../../packages/engine/src/swarm/admission.ts';
import { closeAfter, sleep, tmp } from './peers-helpers.ts';
import { startTestServer } from '../../packages/http/test/server-helpers.ts';

/** Resolves once the torrent is seeding (its data checked, or downloaded). */
function whenSeeding(h: TorrentHandle): Promise<void> {
  return h.stats().state === 'seeding' ? Promise.resolve() : new Promise((resolve, reject) => {
    h.once('done', () => resolve());
    h.once('error', reject);
  });
}

/** `n` ports on `host` that accept and never answer; `most()` is the most held open at once. */
async function silentPorts(t: { after: (fn: () => void) => void }, host: string, n: number) {
  const open = new Set<net.Socket>();
  let most = 0;
  const servers: net.Server[] = [];
  t.after(() => {
    for (const s of open) s.destroy();
    for (const s of servers) s.close();
  });
  for (let i = 0; i < n; i++) {
    const server = net.createServer((sock) => {
      open.add(sock);
      most = Math.max(most, open.size);
      sock.on('close', () => open.delete(sock)).on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    servers.push(server);
  }
  return { addresses: servers.map((s) => `${host}:${(s.address() as net.AddressInfo).port}`), most: () => most };
}

test('IPv6 addresses of one /64 share one budget; IPv4 and other prefixes do not', () => {
  // Before: the limit counted '2001:db8::1' and '2001:db8::2' as two hosts with 8 connections each,
  // so one subscriber had 2^64 budgets.
  const same = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:DB8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:db8:1:2::1.2.3.4', 'fe80::1%eth0'.replace('fe80::', '2001:db8:1:2::')];
  for (const a of same) assert.equal(addressGroup(a), addressGroup('2001:db8:1:2::1'), a);
  assert.notEqual(addressGroup('2001:db8:1:3::1'), addressGroup('2001:db8:1:2::1'), 'the next /64 is another subscriber');
  assert.notEqual(addressGroup('2001:db8::1'), addressGroup('2001:db8:0:1::1'));
  assert.equal(addressGroup('::1'), addressGroup('::2'));
  // IPv4 stays per address, whichever way it is written.
  assert.equal(addressGroup('127.0.0.2'), '127.0.0.2');
  assert.notEqual(addressGroup('127.0.0.2'), addressGroup('127.0.0.3'));
  assert.equal(addressGroup('::ffff:127.0.0.2'), '127.0.0.2');
});

test('connections from ::1 over its real sockets meet the per-address limit', { timeout: 30_000 }, async (t) => {
  const usable = await new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(0, '::1', () => s.close(() => resolve(true)));
  });
  // Loopback has one IPv6 address, so this checks the IPv6 path of the count, not the /64 itself
  // (the test above does that).
  if (!usable) return t.diagnostic('::1 is not usable here');
  const root = await tmp(t);
  const session = closeAfter(t, await Session.create({ host: '::', dht: false, webrtc: false }));
  void root;
  const socks: net.Socket[] = [];
  t.after(() => socks.forEach((s) => s.destroy()));
  // Connections that never send a handshake: held up to the unfinished-handshake cap, no more.
  const cap = CONNECTION_DEFAULTS.maxConnectionsPerAddress * HANDSHAKES_PER_ADDRESS_FACTOR;
  let closed = 0;
  for (let i = 0; i < cap + 8; i++) {
    const s = net.connect({ host: '::1', port: session.port });
    s.on('close', () => closed++).on('error', () => {});
    socks.push(s);
  }
  await sleep(500);
  assert.equal(socks.length - closed, cap, `${socks.length - closed} of ${socks.length} stay open`);
});

test('we dial at most maxOutgoingPerAddress connections to one host, however many ports a peer list names', { timeout: 30_000 }, async (t) => {
  // Twenty "peers" on 127.0.0.5, each a port that accepts and never answers.
  const ports = await silentPorts(t, '127.0.0.5', 20);
  const root = await tmp(t);
  const session = closeAfter(t, await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, handshakeTimeoutMs: 5000 }));
  await session.add(`magnet:?xt=urn:btih:${'ab'.repeat(20)}`, { savePath: root, peers: ports.addresses });
  await sleep(1500);
  t.diagnostic(`${ports.most()} connections at once to 127.0.0.5 (limit ${CONNECTION_DEFAULTS.maxOutgoingPerAddress})`);
  assert.ok(ports.most() > 0, 'the peers were dialled');
  assert.ok(ports.most() <= CONNECTION_DEFAULTS.maxOutgoingPerAddress, `${ports.most()} connections to one host at once`);
});

test('a node takes its connection limits as a setting (startServer connectionLimits)', { timeout: 30_000 }, async (t) => {
  const ports = await silentPorts(t, '127.0.0.6', 6);
  const s = await startTestServer(t, { connectionLimits: { maxOutgoingPerAddress: 2 } });
  const added = await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${'cd'.repeat(20)}`, peers: ports.addresses } });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  await sleep(1500);
  t.diagnostic(`${ports.most()} connections at once to 127.0.0.6 (limit set to 2)`);
  assert.ok(ports.most() > 0, 'the peers were dialled');
  assert.ok(ports.most() <= 2, `${ports.most()} connections to one host at once`);
});

test('one peer sharing twelve torrents with us: all twelve connect at once, both ways (the caps count peers and torrents, not connections)', { timeout: 60_000 }, async (t) => {
  // A seedbox (or a cluster member) and a node downloading twelve of its torrents: one connection
  // per torrent between the same two addresses, dialled in one burst. A cap of 8 connections per
  // address over all torrents refused the ninth dial ("already 8 connections to 127.0.0.1"), and a
  // cap of 8 unfinished handshakes the ninth accept.
  const root = await tmp(t);
  const seeder = closeAfter(t, await Session.create({ host: '127.0.0.1', dht: false, webrtc: false }));
  const downloader = closeAfter(t, await Session.create({ host: '127.0.0.1', dht: false, webrtc: false }));
  const torrents: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    const dir = path.join(root, `s${i}`);
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'f.bin'), randomBytes(64 * 1024 + i));
    const { torrent } = await createTorrent(path.join(dir, 'f.bin'), { pieceLength: 16 * 1024 });
    const h = await seeder.add(torrent, { savePath: dir });
    await whenSeeding(h);
    torrents.push(torrent);
  }
  const handles = await Promise.all(torrents.map((torrent, i) => downloader.add(torrent, { savePath: path.join(root, `d${i}`), peers: [`127.0.0.1:${seeder.port}`] })));
  await Promise.all(handles.map((h) => whenSeeding(h)));
  const firstTries = handles.map((h) => h.discovery().peersTried[0]?.result);
  t.diagnostic(`first dial of each: ${[...new Set(firstTries)].join(', ')}`);
  assert.deepEqual(firstTries, handles.map(() => 'connected'));
});
