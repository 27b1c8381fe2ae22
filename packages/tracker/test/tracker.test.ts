import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { decode, isDict, text } from '../../engine/src/bencode.ts';
import type { BDict } from '../../engine/src/bencode.ts';
import { startTracker } from '../index.ts';
import type { RunningTracker } from '../index.ts';

let tracker: RunningTracker;
before(async () => {
  tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
});
after(() => tracker.close());

const esc = (b: Uint8Array) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
const id = (seed: number) => Buffer.alloc(20, seed);

async function get(url: string): Promise<BDict> {
  const res = await fetch(url);
  const v = decode(new Uint8Array(await res.arrayBuffer())).value;
  assert.ok(isDict(v));
  return v;
}

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

async function udpClient() {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const request = async (buf: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> => {
    s.send(buf, tracker.udpPort, '127.0.0.1');
    const timer = AbortSignal.timeout(timeoutMs);
    try {
      const [msg] = (await once(s, 'message', { signal: timer })) as [Buffer];
      return msg;
    } catch {
      return undefined;
    }
  };
  const connect = async (): Promise<Buffer> => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64BE(0x41727101980n, 0);
    b.writeUInt32BE(0, 8);
    b.writeUInt32BE(0xdead, 12);
    const r = (await request(b))!;
    assert.equal(r.readUInt32BE(0), 0);
    assert.equal(r.readUInt32BE(4), 0xdead);
    return r.subarray(8, 16);
  };
  return { request, connect, close: () => s.close() };
}

function udpAnnounce(conn: Buffer, hash: Buffer, peer: Buffer, port: number, left: bigint, event: number): Buffer {
  const b = Buffer.alloc(98);
  conn.copy(b, 0);
  b.writeUInt32BE(1, 8);
  b.writeUInt32BE(7, 12);
  hash.copy(b, 16);
  peer.copy(b, 36);
  b.writeBigUInt64BE(left, 64);
  b.writeUInt32BE(event, 80);
  b.writeInt32BE(-1, 92);
  b.writeUInt16BE(port, 96);
  return b;
}

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
