// Records on the IPv6 DHT (BEP 32), between Cascade nodes on ::1: a record published by a node
// reachable only over IPv6 is found by a dual-stack node, and a node on IPv6 only finds one a
// dual-stack node published. The dual-stack reader knows another node at 127.0.0.1 only: it
// reaches the IPv6 nodes through that node's IPv4 answer to `want: ["n6"]` (both ends Cascade).
// Before: our methods rode the IPv4 DHT only (an IPv6-only session had no dhtQueries at all), and
// no `want` was asked or answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Session } from '@cascade/engine';
import { generateIdentity } from '@cascade/identity';
import { cidFromSha256, DhtRecords, type DhtTransport, type TorrentStatement } from '../index.ts';

const cid = (s: string) => cidFromSha256(createHash('sha256').update(s).digest());

test('records over IPv6: published on ::1 only, found by a dual-stack node; published dual-stack, found on ::1 only', { timeout: 30_000 }, async (t) => {
  const sessions: Session[] = [];
  const records: DhtRecords[] = [];
  t.after(async () => {
    for (const r of records) r.close();
    await Promise.all(sessions.map((s) => s.close()));
  });
  const start = async (host: string | undefined, bootstrap: string[]) => {
    const s = await Session.create({ port: 0, ...(host ? { host } : {}), dht: { bootstrap }, webrtc: false });
    sessions.push(s);
    return s;
  };
  const on = (s: Session, identity?: ReturnType<typeof generateIdentity>) => {
    const r = new DhtRecords({ dht: s.dhtQueries as DhtTransport, ...(identity ? { identity } : {}) });
    records.push(r);
    return r;
  };
  // E: dual-stack, the others' bootstrap node; G and V on ::1 only; F dual-stack, knowing E's IPv4 address only.
  const e = await start(undefined, []);
  const g = await start('::1', [`[::1]:${e.dhtPort}`]);
  const v = await start('::1', [`[::1]:${e.dhtPort}`]);
  on(e);
  await waitFor(() => g.health().dhtNodes >= 1 && v.health().dhtNodes >= 1, 10_000);
  const f = await start(undefined, [`127.0.0.1:${e.dhtPort}`]);
  // E's IPv4 node, and G and V through the nodes6 of E's IPv4 answer.
  await waitFor(() => f.health().dhtNodes >= 3, 10_000);

  const alice = generateIdentity('alice');
  const bob = generateIdentity('bob');
  const onG = on(g, alice);
  const onV = on(v);
  const onF = on(f, bob);
  const six: TorrentStatement = { name: 'Aurora over IPv6.mkv', length: 6666, infoHash: '66'.repeat(20), infoHashV2: null, cids: [cid('aurora')], port: g.port };
  const published = await onG.publish(six);
  assert.ok(published.accepted > 0, published.errors.join('; '));
  const found = await onF.search('aurora ipv6');
  assert.deepEqual(found.map((r) => [r.publisher, r.infoHash]), [[alice.did, six.infoHash]]);
  // The provider as the storing nodes saw the publisher: its IPv6 address, never the handle the
  // IPv6 DHT shows bittorrent-dht.
  assert.deepEqual(found[0]!.providers, [`[::1]:${g.port}`]);

  const dual: TorrentStatement = { name: 'Dual stack notes.txt', length: 44, infoHash: '44'.repeat(20), infoHashV2: null, cids: [cid('notes')], port: f.port };
  await onF.publish(dual);
  const byCid = await onV.resolveContentId(dual.cids[0]!);
  assert.deepEqual(byCid.map((r) => [r.publisher, r.infoHash]), [[bob.did, dual.infoHash]]);
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
