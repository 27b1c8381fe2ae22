// The ledgers' retention (issue 63, docs/retention.md): peer addresses, verified identities and
// lying DHT publishers are forgotten past their bounds — idle ones by age (a ban and a bad record
// are kept longer), the rest by a cap on rows — on the store and in the ledger's memory. Before,
// none of these tables ever lost a row: a seeder's peers table gained one per remote host:port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RETENTION, sweepRetention, StateDB } from '@cascade/node-state';
import { PeerLedger } from '../src/peers/peer-ledger.ts';

const DAY = 86_400_000;

test('the retention sweep forgets idle peers, identities and DHT blames, caps each ledger, and the ledger in memory follows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-retention-'));
  const db = await StateDB.open(dir);
  t.after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const s = db.store;
  const now = Date.now();
  const peer = (address: string, lastSeen: number, banned = 0) =>
    s.run('INSERT INTO peers (member_id, address, score, bytes_up, bytes_down, banned, last_seen) VALUES (?, ?, 0, 0, 0, ?, ?)', [db.memberId, address, banned, lastSeen]);
  await peer('10.0.0.1:1', now - 31 * DAY); // idle past 30 days: goes
  await peer('10.0.0.2:1', now - 31 * DAY, 1); // banned, idle 31 days: its ban stays
  await peer('10.0.0.3:1', now - 91 * DAY, 1); // banned, idle past 90 days: goes
  await peer('10.0.0.4:1', now - DAY); // recent: stays
  await db.recordIdentities([
    { did: 'did:key:old-clean', verifiedBytes: 1, hashFailures: 0, bans: 0, lastSeen: now - 181 * DAY },
    { did: 'did:key:old-bad', verifiedBytes: 1, hashFailures: 2, bans: 0, lastSeen: now - 181 * DAY },
    { did: 'did:key:recent', verifiedBytes: 1, hashFailures: 0, bans: 0, lastSeen: now - DAY },
  ]);
  await s.run('INSERT INTO dht_blames (member_id, publisher, reason, at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [db.memberId, 'did:key:liar-old', 'x', now - 91 * DAY, db.memberId, 'did:key:liar-new', 'x', now - DAY]);
  assert.ok(db.identities.get('did:key:old-clean'), 'in memory before the sweep');

  const ledger = new PeerLedger(db, 0);
  t.after(() => ledger.close());
  assert.deepEqual(await ledger.sweep(now), { peers: 2, identities: 1, dhtBlames: 1 });
  const col = async (sql: string) => (await s.all<Record<string, string>>(sql)).map((r) => Object.values(r)[0]);
  assert.deepEqual(await col('SELECT address FROM peers ORDER BY address'), ['10.0.0.2:1', '10.0.0.4:1']);
  assert.deepEqual(await col('SELECT did FROM identity_ledger ORDER BY did'), ['did:key:old-bad', 'did:key:recent'], 'a bad record is kept: it still decides who gets the fast lane');
  assert.equal(db.identities.get('did:key:old-clean'), undefined, 'forgotten in memory too');
  assert.ok(db.identities.get('did:key:recent'));
  assert.deepEqual(await col('SELECT publisher FROM dht_blames'), ['did:key:liar-new']);

  // The caps: a seeder met by 30 fresh addresses and identities keeps the 10 most recent of each
  // (bans first among peers).
  for (let i = 0; i < 30; i++) await peer(`10.1.0.${i}:6881`, now - i * 1000);
  await db.recordIdentities(Array.from({ length: 30 }, (_, i) => ({ did: `did:key:z${i}`, verifiedBytes: 1, hashFailures: 0, bans: 0, lastSeen: now - i * 1000 })));
  const small = { ...RETENTION, maxPeers: 10, maxIdentities: 10 };
  const r = await sweepRetention(s, db.memberId, now, small, (dids) => db.identities.forget(dids));
  assert.equal((await col('SELECT count(*) FROM peers'))[0], 10);
  assert.deepEqual(await col("SELECT address FROM peers WHERE banned = 1"), ['10.0.0.2:1'], 'the ban is among those kept');
  assert.equal(Number((await col('SELECT count(*) FROM identity_ledger'))[0]), 10);
  assert.equal(db.identities.size, 10, 'memory holds what the store holds');
  assert.equal(r.identities.length, 22);
});
