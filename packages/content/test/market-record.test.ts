// A market listing's signed DHT record (issue 62): the seller's node files "this share is for sale:
// chain, contract, listing" under the listing's name words and the share's infohash, and the torrent
// search finds it — beside the share's own record of the same publisher (neither replaces the other).
// A record whose listing field is malformed is refused, by the publisher itself and by any reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '@cascade/engine';
import { generateIdentity, signBytes } from '@cascade/identity';
import { encode } from '@cascade/engine/bencode';
import { DhtRecords, openRecord, RECORD_SIGNING_DOMAIN, signRecord, type DhtTransport, type TorrentStatement } from '../index.ts';

const HOST = '127.0.0.1';
const MARKET = { chainId: 31337, contract: '0x5fbdb2315678afecb367f032d93f642f64180aa3', listingId: 7 };

test('a listing record: found by a word of its name and by the infohash, with its chain, contract and listing; malformed ones refused', async (t) => {
  const sessions: Session[] = [];
  const records: DhtRecords[] = [];
  t.after(async () => {
    for (const r of records) r.close();
    await Promise.all(sessions.map((s) => s.close()));
  });
  const start = async (bootstrap: string[]) => {
    const s = await Session.create({ port: 0, host: HOST, dht: { bootstrap }, webrtc: false });
    sessions.push(s);
    return s;
  };
  const hub = await start([]);
  const more = await Promise.all([1, 2, 3].map(() => start([`${HOST}:${hub.dhtPort}`])));
  const seller = generateIdentity('seller');
  const nodeOf = (s: Session, identity?: ReturnType<typeof generateIdentity>) => {
    const r = new DhtRecords({ dht: s.dhtQueries as DhtTransport, ...(identity ? { identity } : {}) });
    records.push(r);
    return r;
  };
  const onSeller = nodeOf(more[0]!, seller);
  const onBuyer = nodeOf(more[1]!);
  for (const s of [hub, more[2]!]) nodeOf(s);
  for (let i = 0; i < 100 && !sessions.every((s) => s.health().dhtNodes >= 2); i++) await new Promise((r) => setTimeout(r, 50));

  const ih = 'ab'.repeat(20);
  const share: TorrentStatement = { name: 'Concert Film 2026', length: 300_000, infoHash: ih, infoHashV2: null, cids: [], port: more[0]!.port };
  const listing: TorrentStatement = { ...share, market: MARKET };
  await onSeller.publish(share);
  const published = await onSeller.publish(listing);
  assert.equal(published.keys, 1 + 3, 'the infohash and three words of its name');
  assert.ok(published.accepted >= published.keys, published.errors.join('; '));

  const byWord = await onBuyer.search('concert');
  const sale = byWord.filter((r) => r.market);
  assert.equal(sale.length, 1, JSON.stringify(byWord));
  assert.deepEqual(sale[0]!.market, { ...MARKET, link: `cascade://market/31337/${MARKET.contract}/7` });
  assert.equal(sale[0]!.publisher, seller.did);
  assert.equal(sale[0]!.infoHash, ih);
  assert.equal(byWord.filter((r) => !r.market).length, 1, 'the share\'s own record is still there');
  const byHash = await onBuyer.search(ih);
  assert.deepEqual(byHash.map((r) => r.market?.listingId ?? null).sort(), [7, null]);

  // Malformed listing fields: the publisher refuses to sign them, a reader refuses them signed by hand.
  assert.throws(() => signRecord(seller, 'keyword_idx::concert', { ...share, market: { ...MARKET, listingId: 0 } }, Date.now() / 1000), /m must be \[chain id, 20-byte contract, listing id\]/);
  const now = Math.floor(Date.now() / 1000);
  const forged = encode({ c: [], ih: Buffer.from(ih, 'hex'), k: 'keyword_idx::concert', l: 1, m: [31337, new Uint8Array(19), 7], n: 'Concert', p: 0, pk: seller.signPublic, t: now, x: now + 600 });
  assert.throws(() => openRecord(forged, signBytes(seller, RECORD_SIGNING_DOMAIN, forged), { now }), /m must be/);
});
