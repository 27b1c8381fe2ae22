// DhtRecords.publish's queue (issue 63: bench/soak's heap grew with it): statements go out one at a
// time, so on a slow DHT they wait. What waits is only what still has to go out: a statement asked
// again while it waits is published once, and forget() drops a removed torrent's at once (before,
// each waited, holding its caller's torrent, until every walk before it had ended). A real engine
// session's DHT, its walks held back at a gate the test opens: the DHT being slow, on cue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Session } from '@cascade/engine';
import { generateIdentity } from '@cascade/identity';
import { cidFromSha256, DhtRecords, type DhtTransport, type PublishResult, type TorrentStatement } from '../index.ts';

const statement = (n: number, v2 = false): TorrentStatement => ({
  name: `queued ${n}`, length: n, infoHash: v2 ? null : String(n).repeat(40).slice(0, 40), infoHashV2: v2 ? 'ab'.repeat(32) : null,
  cids: [cidFromSha256(createHash('sha256').update(`f${n}`).digest())], port: 6881,
});

test('publish: one at a time; a statement waiting is not queued twice; a removed torrent\'s is dropped at once', async (t) => {
  const session = await Session.create({ port: 0, host: '127.0.0.1', dht: { bootstrap: [] }, webrtc: false });
  t.after(() => session.close());
  const real = session.dhtQueries as DhtTransport;
  const gate = Promise.withResolvers<void>();
  let walks = 0;
  const slow: DhtTransport = {
    handle: (...a) => real.handle(...a),
    send: (...a) => real.send(...a),
    walk: async (...a) => {
      walks++;
      await gate.promise;
      return real.walk(...a);
    },
  };
  const records = new DhtRecords({ dht: slow, identity: generateIdentity('queue') });
  t.after(() => records.close());

  const first = records.publish(statement(1)); // walking, held at the gate
  const again = [records.publish(statement(2)), records.publish(statement(2))];
  const removed = records.publish(statement(3));
  const removedV2 = records.publish(statement(4, true));
  await new Promise((r) => setImmediate(r));
  assert.equal(walks, 1, 'one at a time');

  records.forget('3'.repeat(40));
  records.forget('ab'.repeat(20)); // a v2-only torrent, by the 40 digits the node knows it by
  const settled = (p: Promise<PublishResult>) => Promise.race([p, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), 200))]);
  assert.deepEqual(await settled(removed), { keys: 0, accepted: 0, errors: [] }, 'dropped at once, not after the walk before it');
  assert.deepEqual(await settled(removedV2), { keys: 0, accepted: 0, errors: [] });
  assert.equal(await settled(first), 'waiting');

  gate.resolve();
  const [r1, r2a, r2b] = await Promise.all([first, ...again]);
  assert.equal(r1!.keys, 3, 'infohash, content id, "queued" (a word of one digit is no key)');
  assert.equal(r2a, r2b, 'the statement asked twice went out once');
  assert.equal(walks, 6, 'two statements of three keys each, the removed ones none');
});
