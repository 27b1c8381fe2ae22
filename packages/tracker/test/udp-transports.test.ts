// The two ways UDP datagrams move (src/udp/transport.ts): batched through the native addon
// (recvmmsg/sendmmsg) and node:dgram. The same BEP 15 exchanges over each, with real sockets on
// loopback: both must answer alike, including bursts bigger than the addon's ring, datagrams
// bigger than its slots, and IPv4 clients of a dual-stack socket.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startTracker } from '../index.ts';
import { id, udpAnnounce, udpClient, udpScrape } from './helpers.ts';

const ADDON = new URL('../native/build/udp-mmsg.node', import.meta.url).pathname;

before(() => {
  // npm install builds it; a fresh checkout may not have run that.
  if (!existsSync(ADDON)) execFileSync(process.execPath, [new URL('../native/build.js', import.meta.url).pathname], { stdio: 'inherit' });
  assert.ok(existsSync(ADDON), 'native/build.js did not build the addon on this Linux machine');
});

/** The compact peers of an IPv4 announce reply, as "a.b.c.d:port". */
function peersOf(r: Buffer): string[] {
  const out: string[] = [];
  for (let o = 20; o + 6 <= r.length; o += 6) out.push(`${r[o]}.${r[o + 1]}.${r[o + 2]}.${r[o + 3]}:${r.readUInt16BE(o + 4)}`);
  return out.sort();
}

for (const io of ['mmsg', 'dgram'] as const) {
  test(`udp io ${io}: connect, announce, scrape and error replies`, async () => {
    const t = await startTracker({ host: '127.0.0.1', udpIo: io, rateLimit: false, interval: 60 });
    const c = await udpClient(t.udpPort);
    try {
      assert.equal((await t.stats()).udpIo, io);
      const conn = await c.connect();
      const hash = id(0xa1);
      const first = (await c.request(udpAnnounce(conn, hash, id(1), 7001, 100n, 2)))!;
      assert.equal(first.readUInt32BE(0), 1);
      assert.equal(first.readUInt32BE(8), 60);
      const second = (await c.request(udpAnnounce(conn, hash, id(2), 7002, 0n, 2)))!;
      assert.deepEqual(peersOf(second), ['127.0.0.1:7001']);
      assert.deepEqual([second.readUInt32BE(12), second.readUInt32BE(16)], [1, 1], 'leechers, seeders');
      const scrape = (await c.request(udpScrape(conn, [hash, id(0xa2)])))!;
      assert.equal(scrape.length, 8 + 24);
      assert.deepEqual([scrape.readUInt32BE(8), scrape.readUInt32BE(16), scrape.readUInt32BE(20)], [1, 1, 0]);
      // A wrong connection id: an error reply, cut to the request's size.
      const bad = Buffer.from(udpAnnounce(Buffer.alloc(8, 7), hash, id(3), 7003, 1n, 2));
      const err = (await c.request(bad))!;
      assert.equal(err.readUInt32BE(0), 3);
      assert.equal(err.subarray(8).toString(), 'invalid connection id');
    } finally {
      c.close();
      await t.close();
    }
  });

  test(`udp io ${io}: scrapes (answered after their batch) and announces of two clients in one burst each reach their sender`, async () => {
    const t = await startTracker({ host: '127.0.0.1', udpIo: io, rateLimit: false });
    const a = await udpClient(t.udpPort);
    const b = await udpClient(t.udpPort);
    try {
      const [ca, cb] = [await a.connect(), await b.connect()];
      const got = { a: [] as number[], b: [] as number[] };
      const done = [a.drain(300, got.a), b.drain(300, got.b)];
      for (let i = 0; i < 40; i++) {
        const scrape = udpScrape(ca, [id(0xc0)]);
        scrape.writeUInt32BE(1000 + i, 12);
        a.send(scrape);
        const ann = udpAnnounce(cb, id(0xc0), id(i), 9000 + i, 1n, 2);
        ann.writeUInt32BE(2000 + i, 12);
        ann.writeInt32BE(0, 92);
        b.send(ann);
      }
      await Promise.all(done);
      assert.deepEqual(got.a.sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => 1000 + i), 'client a: its 40 scrape replies, nothing else');
      assert.deepEqual(got.b.sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => 2000 + i), 'client b: its 40 announce replies, nothing else');
    } finally {
      a.close();
      b.close();
      await t.close();
    }
  });

  test(`udp io ${io}: bursts of 150 announces are answered in full; oversized datagrams are dropped`, async () => {
    const t = await startTracker({ host: '127.0.0.1', udpIo: io, rateLimit: false });
    const c = await udpClient(t.udpPort);
    try {
      const conn = await c.connect();
      // Bursts of more than the addon's ring (64) at once. Asking for no peers keeps the replies
      // small: a burst of them must fit the client's receive buffer (rmem_default, ~200 kB).
      for (let burst = 0; burst < 2; burst++) {
        for (let i = burst * 150; i < (burst + 1) * 150; i++) {
          const a = udpAnnounce(conn, id(0xb0), Buffer.from(id(i & 255).fill(i >> 8, 0, 1)), 8000 + i, 1n, 2);
          a.writeInt32BE(0, 92);
          c.send(a);
        }
        assert.equal(await c.drain(), 150);
      }
      assert.equal((await t.stats()).peers, 300);
      // Bigger than any request (and than the addon's 1500-byte slots): dropped unanswered.
      const before = (await (await fetch(t.metricsUrl)).text()).match(/cascade_tracker_udp_dropped_total (\d+)/)![1];
      const big = Buffer.alloc(1600);
      conn.copy(big, 0);
      big.writeUInt32BE(2, 8);
      assert.equal(await c.request(big, 300), undefined);
      const after = (await (await fetch(t.metricsUrl)).text()).match(/cascade_tracker_udp_dropped_total (\d+)/)![1];
      assert.equal(Number(after), Number(before) + 1);
      const r = (await c.request(udpScrape(conn, [id(0xb0)])))!;
      assert.equal(r.readUInt32BE(16), 300, 'still answering, with every peer counted');
    } finally {
      c.close();
      await t.close();
    }
  });

  test(`udp io ${io}: a dual-stack socket answers IPv4 and IPv6 clients, each from its own address`, async () => {
    const t = await startTracker({ host: '::', udpIo: io, rateLimit: false });
    const v4 = await udpClient(t.udpPort, '127.0.0.1');
    const v6 = await udpClient(t.udpPort, '::1');
    try {
      const hash = id(0xc1);
      const c4 = await v4.connect();
      const c6 = await v6.connect();
      assert.notDeepEqual(c4, c6, 'connection ids are bound to the address');
      assert.ok(await v4.request(udpAnnounce(c4, hash, id(1), 9001, 1n, 2)));
      const r6 = (await v6.request(udpAnnounce(c6, hash, id(2), 9002, 1n, 2)))!;
      // BEP 15: an IPv6 request gets IPv6 peers (none here), an IPv4 one IPv4 peers.
      assert.equal(r6.length, 20);
      const r4 = (await v4.request(udpAnnounce(c4, hash, id(3), 9003, 1n, 2)))!;
      assert.deepEqual(peersOf(r4), ['127.0.0.1:9001']);
      // An id issued to one family's address is refused from the other's.
      const crossed = (await v6.request(udpAnnounce(c4, hash, id(4), 9004, 1n, 2)))!;
      assert.equal(crossed.readUInt32BE(0), 3);
      // A port in use fails as bind(2) does, with the code callers turn into a message.
      await assert.rejects(startTracker({ host: '::', udpIo: io, udpPort: t.udpPort }), { code: 'EADDRINUSE' });
    } finally {
      v4.close();
      v6.close();
      await t.close();
    }
  });
}
