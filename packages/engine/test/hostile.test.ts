// Hostile peers: corrupt data gets the peer banned and the piece fetched elsewhere; malformed wire
// messages close that one connection and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent, type TorrentHandle } from '../index.ts';
import { startRawSeeder, sendHostile } from './raw-peer.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

async function tmp(t: { after: (fn: () => unknown) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-hostile-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function waitFor<T>(h: TorrentHandle, event: string, ms = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}: ${JSON.stringify(h.stats())}`)), ms);
    h.once(event, (v: T) => (clearTimeout(timer), resolve(v)));
  });
}

// 16 KiB pieces are hashed block by block on the main thread; 64 KiB ones live in shared memory and
// are hashed whole by the hash worker (src/node/hasher.ts): a corrupt piece must fail on both paths.
for (const pieceLength of [16384, 65536]) test(`a seeder sending corrupt pieces is banned and the pieces come from an honest peer (${pieceLength / 1024} KiB pieces)`, async (t) => {
  const root = await tmp(t);
  const payload = randomBytes(40 * pieceLength + 123);
  await fs.mkdir(path.join(root, 'seed'));
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength });

  const evil = await startRawSeeder({ infoHash: metainfo.infoHash, payload, pieceLength, corrupt: () => true });
  const honest = await Session.create({ host: '127.0.0.1', dht: false });
  // 64 KiB pieces: hashed whole on the hash worker, which a 2-core machine leaves off by default.
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, hashWorker: pieceLength >= 65536 });
  t.after(() => Promise.all([evil.close(), honest.close(), leecher.close()]));
  await honest.add(torrent, { savePath: path.join(root, 'seed') });

  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${evil.port}`] });
  const failed: number[] = [];
  l.on('hash-failed', (i: number) => failed.push(i));
  const banned = await waitFor<{ address: string; reason: string }>(l, 'peer-banned');
  assert.equal(banned.address, `127.0.0.1:${evil.port}`);
  assert.match(banned.reason, /hash/);
  assert.ok(failed.length >= 1);
  assert.equal(l.stats().verifiedPieces, 0, 'no corrupt piece may count as verified');

  const done = waitFor(l, 'done');
  l.addPeer(`127.0.0.1:${honest.port}`);
  l.addPeer(`127.0.0.1:${evil.port}`); // banned: must not be dialled again
  await done;
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'data.bin')), payload);
  assert.ok(!l.peers().some((p) => p.address === `127.0.0.1:${evil.port}`));
  // The session's totals (what the node's /metrics reports) saw the same.
  const c = leecher.counters();
  assert.equal(c.hashFailures, failed.length);
  assert.equal(c.piecesVerified, metainfo.pieceCount);
  assert.ok(c.bytesReceived.tcp + c.bytesReceived.utp >= payload.length, `received ${c.bytesReceived.tcp} B over TCP, ${c.bytesReceived.utp} B over uTP`);
  assert.equal(c.bytesReceived.webrtc + c.bytesReceived.webseed, 0);
});

function msg(id: number, body: number[] | Buffer = []): Buffer {
  const b = Buffer.from(body);
  const out = Buffer.alloc(5 + b.length);
  out.writeUInt32BE(1 + b.length);
  out[4] = id;
  b.copy(out, 5);
  return out;
}
const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

test('malformed wire messages close the offending connection and the seeder keeps serving', async (t) => {
  const root = await tmp(t);
  const payload = randomBytes(10 * 16384);
  await fs.mkdir(path.join(root, 'seed'));
  await fs.writeFile(path.join(root, 'seed', 'd.bin'), payload);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'd.bin'), { pieceLength: 16384 });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => seeder.close());
  await seeder.add(torrent, { savePath: path.join(root, 'seed') });

  const interested = msg(2);
  const cases: [string, Buffer][] = [
    ['oversized length prefix', Buffer.from([0xff, 0xff, 0xff, 0xff, 5])],
    ['have past the last piece', msg(4, u32(10_000))],
    ['have with a short body', Buffer.concat([Buffer.from([0, 0, 0, 3, 4]), Buffer.from([0, 0])])],
    ['bitfield of the wrong length', msg(5, [0xff, 0xff, 0xff, 0xff, 0xff])],
    ['request for a piece that does not exist', Buffer.concat([interested, msg(6, [...u32(99), ...u32(0), ...u32(16384)])])],
    ['request past the end of a piece', Buffer.concat([interested, msg(6, [...u32(0), ...u32(16384), ...u32(16384)])])],
    ['request for a 1 MiB block', Buffer.concat([interested, msg(6, [...u32(0), ...u32(0), ...u32(1 << 20)])])],
    ['garbage extension handshake', msg(20, [0, ...Buffer.from('d1:mi5e')])],
    ['piece message without a body', msg(7, [0, 0])],
  ];
  for (const [name, bytes] of cases) {
    assert.equal(await sendHostile(seeder.port, metainfo.infoHash, bytes), 'closed', name);
  }
  // Not even a handshake.
  assert.equal(await sendHostile(seeder.port, new Uint8Array(20), Buffer.alloc(0)), 'closed', 'unknown infohash');

  const leecher = await Session.create({ host: '127.0.0.1', dht: false });
  t.after(() => leecher.close());
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  await waitFor(l, 'done');
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'd.bin')), payload);
});
