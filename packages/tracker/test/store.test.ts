// One contract, two stores: the in-memory store and the Redis store (against a real redis-server)
// must behave the same, since either can sit behind the same tracker.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../index.ts';
import { RedisStore } from '../src/store/redis-store.ts';
import type { AnnounceInput, TrackerStore } from '../index.ts';
import type { RelayMessage } from '../src/store/store.ts';
import { startRedis, waitFor } from './helpers.ts';
import type { RedisServer } from './helpers.ts';

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

const TTL_MS = 1500;
const hex = (n: number) => n.toString(16).padStart(2, '0').repeat(20);

function input(ih: number, peer: number, o: Partial<AnnounceInput> = {}): AnnounceInput {
  return { infoHashHex: hex(ih), peerIdHex: hex(peer), kind: 'ip', host: '127.0.0.1', port: 6000 + peer, owner: '', left: 10, uploaded: 0, downloaded: 0, numwant: 50, ...o };
}

const makers: [string, (prefix: string) => Promise<TrackerStore>][] = [
  ['memory', async () => new MemoryStore({ peerTtlMs: TTL_MS })],
  ['redis', (prefix) => RedisStore.connect({ url: redis.url, peerTtlMs: TTL_MS, prefix })],
];

for (const [name, make] of makers) {
  describe(`${name} store`, () => {
    let n = 0;
    const fresh = () => make(`t${++n}:`);

    test('announce, counts, completion and stop', async () => {
      const s = await fresh();
      try {
        let r = await s.announce(input(1, 1, { left: 0, event: 'started' }));
        assert.deepEqual(r.peers, []);
        assert.deepEqual(r.counts, { complete: 1, incomplete: 0, downloaded: 0 });
        r = await s.announce(input(1, 2, { event: 'started' }));
        assert.deepEqual(r.peers.map((p) => [p.peerIdHex, p.host, p.port]), [[hex(1), '127.0.0.1', 6001]]);
        assert.deepEqual(r.counts, { complete: 1, incomplete: 1, downloaded: 0 });
        r = await s.announce(input(1, 2, { left: 0, event: 'completed' }));
        r = await s.announce(input(1, 2, { left: 0, event: 'completed' }));
        assert.deepEqual(r.counts, { complete: 2, incomplete: 0, downloaded: 1 });
        r = await s.announce(input(1, 1, { left: 0, event: 'stopped', numwant: 0 }));
        assert.deepEqual(await s.counts(hex(1)), { complete: 1, incomplete: 0, downloaded: 1 });
        assert.deepEqual(await s.totals(), { torrents: 1, peers: 1, seeders: 1, leechers: 0 });
      } finally {
        await s.close();
      }
    });

    test('samples: never yourself, numwant respected, seeds get only leechers, kinds kept apart', async () => {
      const s = await fresh();
      try {
        for (let p = 1; p <= 30; p++) await s.announce(input(2, p, { left: p <= 10 ? 0 : 5 }));
        const r = await s.announce(input(2, 11, { numwant: 7 }));
        assert.equal(r.peers.length, 7);
        assert.ok(!r.peers.some((p) => p.peerIdHex === hex(11)));
        assert.equal(new Set(r.peers.map((p) => p.peerIdHex)).size, 7);
        const seed = await s.announce(input(2, 1, { left: 0, numwant: 100 }));
        assert.equal(seed.peers.length, 20);
        assert.ok(seed.peers.every((p) => p.port > 6010));
        // The compact path (memory store) must hand out the same peers as objects would.
        const c = await s.announce(input(2, 12, { numwant: 100, compact: true }));
        const ports = [...c.peers.map((p) => p.port)];
        for (let i = 0; c.compact4 && i < c.compact4.length; i += 6) {
          assert.deepEqual([...c.compact4.subarray(i, i + 4)], [127, 0, 0, 1]);
          ports.push(c.compact4.readUInt16BE(i + 4));
        }
        assert.deepEqual(ports.sort(), Array.from({ length: 30 }, (_, i) => 6001 + i).filter((p) => p !== 6012));
        const ws = await s.announce(input(2, 99, { kind: 'ws', host: '', port: 0, owner: 'proc1', numwant: 10 }));
        assert.deepEqual(ws.peers, []);
        assert.equal(ws.counts.incomplete + ws.counts.complete, 31);
        const found = await s.findPeer(hex(2), hex(99), 'ws');
        assert.equal(found?.owner, 'proc1');
        assert.equal(await s.findPeer(hex(2), hex(99), 'ip'), undefined);
      } finally {
        await s.close();
      }
    });

    test('a peer id announced over IP and over WebSocket (a hybrid client) counts once', async () => {
      // Before: a Cascade node seeding through its own tracker showed as two seeds (issue 44).
      const s = await fresh();
      try {
        await s.announce(input(9, 1, { left: 0 }));
        const r = await s.announce(input(9, 1, { kind: 'ws', host: '', port: 0, owner: 'p', left: 0, numwant: 0 }));
        assert.deepEqual(r.counts, { complete: 1, incomplete: 0, downloaded: 0 });
        assert.deepEqual(await s.counts(hex(9)), { complete: 1, incomplete: 0, downloaded: 0 });
        const again = await s.announce(input(9, 1, { left: 0, numwant: 0 }));
        assert.deepEqual(again.counts, { complete: 1, incomplete: 0, downloaded: 0 }, 'and in the IP announce reply');
        // A browser that is only a browser still counts, and so does another IP peer.
        await s.announce(input(9, 2, { kind: 'ws', host: '', port: 0, owner: 'p', numwant: 0 }));
        await s.announce(input(9, 3));
        assert.deepEqual(await s.counts(hex(9)), { complete: 1, incomplete: 2, downloaded: 0 });
      } finally {
        await s.close();
      }
    });

    test('peers expire after the ttl', async () => {
      const s = await fresh();
      try {
        await s.announce(input(3, 1));
        await new Promise((r) => setTimeout(r, TTL_MS + 100));
        const r = await s.announce(input(3, 2));
        assert.deepEqual(r.peers, []);
        assert.equal(r.counts.incomplete, 1);
        assert.equal(await s.findPeer(hex(3), hex(1), 'ip'), undefined);
      } finally {
        await s.close();
      }
    });

    test('registry: users, torrents, authorization and credited transfer', async () => {
      const s = await fresh();
      try {
        assert.equal(await s.authorize('pk1', hex(4)), 'unknown passkey');
        await s.addUser({ passkey: 'pk1', name: 'u1' });
        assert.equal(await s.authorize('pk1', hex(4)), 'unregistered torrent');
        await s.addTorrent(hex(4));
        assert.equal(await s.authorize('pk1', hex(4)), undefined);
        assert.equal(await s.torrentRegistered(hex(4)), true);
        await s.announce(input(4, 1, { passkey: 'pk1', event: 'started', uploaded: 10 }));
        await s.announce(input(4, 1, { passkey: 'pk1', uploaded: 110, downloaded: 50 }));
        // A client restart without `started`: its counter went down, all of it is new.
        await s.announce(input(4, 1, { passkey: 'pk1', uploaded: 5, downloaded: 50 }));
        assert.deepEqual(await s.user('pk1'), { passkey: 'pk1', name: 'u1', uploaded: 115, downloaded: 50 });
        assert.equal((await s.users()).length, 1);
        assert.equal(await s.user('nobody'), undefined);
      } finally {
        await s.close();
      }
    });

    test('relay delivers to the owner', async () => {
      const s = await fresh();
      try {
        const got: RelayMessage[] = [];
        await s.onRelay('me', (m) => got.push(m));
        await s.relay('me', { toPeerIdHex: hex(1), infoHashHex: hex(5), payload: '{"x":1}' });
        await s.relay('someone-else', { toPeerIdHex: hex(1), infoHashHex: hex(5), payload: '{}' });
        await waitFor(() => got.length === 1, 3000, 'relay');
        assert.deepEqual(got[0], { toPeerIdHex: hex(1), infoHashHex: hex(5), payload: '{"x":1}' });
      } finally {
        await s.close();
      }
    });
  });
}

test('RedisStore.connect fails clearly when nothing listens', async () => {
  await assert.rejects(RedisStore.connect({ url: 'redis://127.0.0.1:1', peerTtlMs: 1000 }), /cannot connect to redis/);
});

test('memory store: browser peers past the scanned size are found, moved and removed through their index', () => {
  const s = new MemoryStore({ peerTtlMs: 60_000 });
  try {
    const ws = (peer: number, o: Partial<AnnounceInput> = {}) => s.announce(input(7, peer, { kind: 'ws', host: '', port: 0, owner: 'p', numwant: 0, ...o }));
    for (let p = 1; p <= 30; p++) ws(p, { left: p % 3 === 0 ? 0 : 5 });
    assert.deepEqual(s.counts(hex(7)), { complete: 10, incomplete: 20, downloaded: 0 });
    for (let p = 1; p <= 30; p += 2) ws(p, { event: 'stopped' });
    assert.deepEqual(s.counts(hex(7)), { complete: 5, incomplete: 10, downloaded: 0 });
    for (let p = 2; p <= 30; p += 2) assert.ok(s.findPeer(hex(7), hex(p), 'ws'), `peer ${p}`);
    for (let p = 1; p <= 30; p += 2) assert.equal(s.findPeer(hex(7), hex(p), 'ws'), undefined, `peer ${p} stopped`);
    // Leechers that complete move to the seeds; a repeat announce does not add a peer.
    for (let p = 2; p <= 30; p += 2) ws(p, { left: 0, event: p % 3 === 0 ? undefined : 'completed' });
    ws(2, { left: 0 });
    assert.deepEqual(s.counts(hex(7)), { complete: 15, incomplete: 0, downloaded: 10 });
  } finally {
    void s.close();
  }
});
