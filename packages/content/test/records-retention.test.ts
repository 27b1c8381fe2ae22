// What DhtRecords keeps in its store stays bounded by what is true now (issue 63: bench/soak's heap
// grew ~2 MB/h in RecordStore, 412 of this node's own records after 25 minutes, 64 of them about
// torrents removed long before). This node's own records go with their torrent (forget) and a
// renamed torrent's old words with its next publish; anyone's expired records go even under keys
// nobody asks or puts again. And a record of its own that the store's limits refuse (a ninth torrent
// with the same word) is not kept here but still published, with the rest of its keys (before, the
// refusal ended the publish). A real engine session's DHT (no other node: walks find nobody).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Session } from '@cascade/engine';
import { generateIdentity } from '@cascade/identity';
import { cidFromSha256, DhtRecords, PRUNE_EVERY_SECONDS, RecordStore, recordKey, signRecord, targetOf, type DhtTransport, type TorrentStatement } from '../index.ts';

const statement = (n: number, name: string): TorrentStatement => ({
  name, length: n, infoHash: String(n).repeat(40).slice(0, 40), infoHashV2: null,
  cids: [cidFromSha256(createHash('sha256').update(`f${n}`).digest())], port: 6881,
});

test("own records: a removed torrent's go at once, a renamed one's old words at its next publish", async (t) => {
  const session = await Session.create({ port: 0, host: '127.0.0.1', dht: { bootstrap: [] }, webrtc: false });
  t.after(() => session.close());
  const records = new DhtRecords({ dht: session.dhtQueries as DhtTransport, identity: generateIdentity('retention') });
  t.after(() => records.close());

  const a = statement(1, 'alpha film');
  const b = statement(2, 'beta film');
  await records.publish(a);
  await records.publish(b);
  assert.equal(records.store.size, 8, 'infohash, content id, two words: four keys each');
  assert.equal((await records.search('alpha')).length, 1);

  records.forget(a.infoHash!);
  assert.equal(records.store.size, 4, "the removed torrent's records are gone");
  assert.deepEqual(await records.search('alpha'), [], 'and no longer found here');
  assert.deepEqual(await records.search(a.infoHash!), []);

  await records.publish({ ...b, name: 'gamma film' });
  assert.equal(records.store.size, 4, 'renamed: the old word went, the new one came');
  assert.deepEqual(await records.search('beta'), []);
  assert.equal((await records.search('gamma')).length, 1);
  assert.equal((await records.search('film')).length, 1);

  // Published again unchanged: the same records, replaced.
  await records.publish({ ...b, name: 'gamma film' });
  assert.equal(records.store.size, 4);

  // A v2-only torrent goes by its v2 infohash cut to 40 digits in the node.
  await records.publish({ ...statement(7, 'delta'), infoHash: null, infoHashV2: 'cd'.repeat(32) });
  assert.equal(records.store.size, 7);
  records.forget('cd'.repeat(20));
  assert.equal(records.store.size, 4);
});

test('expired records under keys nobody asks again are pruned by a later put', () => {
  let now = 1_000_000;
  const store = new RecordStore({ now: () => now });
  const put = (id: ReturnType<typeof generateIdentity>, word: string, ttl: number) => {
    const key = recordKey('keyword_idx', word);
    const { bytes, sig } = signRecord(id, key, statement(3, word), now, ttl);
    store.put(bytes, sig, targetOf(key), '127.0.0.1');
  };
  const other = generateIdentity('other');
  for (const word of ['one', 'two', 'three']) put(other, word, 60);
  assert.equal(store.size, 3);
  now += 61 + PRUNE_EVERY_SECONDS;
  put(generateIdentity('later'), 'four', 600);
  assert.equal(store.size, 1, 'the three expired records under keys never touched again are gone');
  // ...and no longer count against their publisher: it may keep its 512 again.
  assert.doesNotThrow(() => put(other, 'five', 600));
});

test("own records past the store's limits: the node keeps no copy and publishes the rest", async (t) => {
  const session = await Session.create({ port: 0, host: '127.0.0.1', dht: { bootstrap: [] }, webrtc: false });
  t.after(() => session.close());
  // A publisher keeps at most 2 records under one key here (8 by default: a ninth torrent with a word).
  const records = new DhtRecords({ dht: session.dhtQueries as DhtTransport, identity: generateIdentity('limits'), limits: { perPublisherPerKey: 2 } });
  t.after(() => records.close());
  for (const n of [4, 5]) await records.publish(statement(n, `film ${'abcdefgh'[n]}word`));
  const third = await records.publish(statement(6, 'film gword'));
  assert.equal(third.keys, 4, 'every key went out');
  assert.match(third.errors.join('\n'), /kept here: a publisher keeps at most 2 records under one key/);
  assert.equal((await records.search('gword')).length, 1, 'the keys after the refused word are kept here too');
  assert.equal(records.store.size, 4 * 3 - 1);
});
