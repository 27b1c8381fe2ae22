import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { Dht, PEER_MAX_AGE_MS } from '../src/node/dht.ts';
import type { PeerAddress } from '../src/types.ts';
import { newTally } from '../src/events/counters.ts';

const HOST = '127.0.0.1';

test('a DHT of local nodes only: announce from one, look up from another', async () => {
  const tallies = Array.from({ length: 5 }, () => newTally());
  const first = new Dht({ bootstrap: [], host: HOST, tally: tallies[0] });
  const firstPort = await first.listen(0);
  const nodes = [first];
  for (let i = 0; i < 4; i++) {
    const d = new Dht({ bootstrap: [`${HOST}:${firstPort}`], host: HOST, tally: tallies[i + 1] });
    await d.listen(0);
    nodes.push(d);
  }
  try {
    // Let bootstrapping finish so the routing tables know each other.
    await waitFor(() => nodes.every((n) => n.nodeCount() >= 1), 5000);

    const infoHash = 'ab'.repeat(20);
    await nodes[1]!.announce(infoHash, 6881);

    const found = await new Promise<PeerAddress>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('lookup found nothing')), 5000);
      nodes[4]!.lookup(infoHash, (peers) => {
        const hit = peers.find((p) => p.port === 6881);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        }
      });
    });
    assert.deepEqual(found, { host: HOST, port: 6881 });
    // Queries are counted by method on both ends (what the node's /metrics reports).
    assert.ok(tallies[0]!.dhtQueriesIn.find_node >= 4, `the bootstrap node answered ${tallies[0]!.dhtQueriesIn.find_node} find_node`);
    assert.ok(tallies[1]!.dhtQueriesOut.announce_peer >= 1, 'the announcer sent announce_peer');
    assert.ok(tallies[4]!.dhtQueriesOut.get_peers >= 1, 'the looker-up sent get_peers');
    const sentIn = tallies.reduce((n, t) => n + Object.values(t.dhtQueriesIn).reduce((a, b) => a + b, 0), 0);
    const sentOut = tallies.reduce((n, t) => n + Object.values(t.dhtQueriesOut).reduce((a, b) => a + b, 0), 0);
    assert.ok(sentIn > 0 && sentIn <= sentOut, `queries received (${sentIn}) are among those sent (${sentOut})`);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('bootstrap: [] and false never reach beyond loopback (no public routers)', async () => {
  // bittorrent-dht falls back to router.bittorrent.com & co. when bootstrap is undefined; spy on
  // every datagram and DNS lookup to prove our wrapper never lets that happen.
  const destinations: string[] = [];
  const send = dgram.Socket.prototype.send;
  const lookup = dns.lookup;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    destinations.push(String(args.find((a) => typeof a === 'string')));
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof send;
  (dns as { lookup: unknown }).lookup = (host: string, ...rest: unknown[]) => {
    destinations.push(`dns:${host}`);
    return (lookup as (...a: unknown[]) => void)(host, ...rest);
  };
  const local = new Dht({ bootstrap: false, host: HOST });
  const localPort = await local.listen(0);
  try {
    for (const bootstrap of [[], false, [`${HOST}:${localPort}`]] as (string[] | false)[]) {
      const d = new Dht({ bootstrap, host: HOST });
      await d.listen(0);
      d.lookup('cd'.repeat(20), () => {});
      await d.announce('cd'.repeat(20), 1).catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(d.nodeCount(), bootstrap === false || bootstrap.length === 0 ? 0 : 1);
      await d.close();
    }
  } finally {
    dgram.Socket.prototype.send = send;
    (dns as { lookup: unknown }).lookup = lookup;
    await local.close();
  }
  // The local bootstrap case proves the spy sees traffic; all of it stayed on loopback.
  assert.ok(destinations.length > 0);
  assert.deepEqual(new Set(destinations), new Set([HOST]));
});

test('addNode joins a running node', async () => {
  const a = new Dht({ bootstrap: false, host: HOST });
  const b = new Dht({ bootstrap: false, host: HOST });
  const aPort = await a.listen(0);
  await b.listen(0);
  try {
    b.addNode({ host: HOST, port: aPort });
    await waitFor(() => b.nodeCount() === 1 && a.nodeCount() === 1, 3000);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('peers announced to a node are kept as bytes of their own, for PEER_MAX_AGE_MS (issue 63)', async (t) => {
  // record-cache ages the store on an interval: mocked, so half an hour passes at once.
  t.mock.timers.enable({ apis: ['setInterval'] });
  const a = new Dht({ bootstrap: false, host: HOST });
  const aPort = await a.listen(0);
  const b = new Dht({ bootstrap: [`${HOST}:${aPort}`], host: HOST });
  await b.listen(0);
  type Store = { size: number; _fresh: { records: Map<string, { list: { record: Uint8Array }[] }> } };
  const store = (a as unknown as { dht: { _peers: Store } }).dht._peers;
  try {
    await waitFor(() => b.nodeCount() >= 1, 5000);
    for (let i = 0; i < 20; i++) await b.announce(i.toString(16).padStart(40, '0'), 7000 + i);
    assert.equal(store.size, 20);
    // A slice of Node's 64 KiB Buffer pool would keep the whole slab alive as long as the record.
    for (const set of store._fresh.records.values()) for (const r of set.list) assert.equal(r.record.buffer.byteLength, 6);
    // So would the target of each walk's table (an announce walks first), kept up to 1,000 tables.
    const tables = (b as unknown as { dht: { _tables: { cache: Record<string, { value: { localNodeId: Uint8Array } }> } } }).dht._tables.cache;
    assert.ok(Object.keys(tables).length >= 20);
    for (const t of Object.values(tables)) assert.equal(t.value.localNodeId.buffer.byteLength, 20);
    t.mock.timers.tick(PEER_MAX_AGE_MS);
    t.mock.timers.tick(PEER_MAX_AGE_MS);
    assert.equal(store.size, 0, 'peers not announced again within the age are forgotten');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > end) return reject(new Error('timed out waiting'));
      setTimeout(tick, 20);
    };
    tick();
  });
}
