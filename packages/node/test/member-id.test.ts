// Which member a state dir is on a shared PostgreSQL (state/member-id.ts, docs/cluster.md
// "State"): a fresh member gets its own node key, the state dir that ran as the single node keeps
// the single node's rows (and only that one), and a start interrupted between the member-id file
// and the rows' move finishes the move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateDB, startPostgres } from './state-engines.ts';
import { stateOpenOptions } from '../src/core/member-id.ts';
import { DatabaseLease, instanceId } from '@cascade/node-state';
import { nodeIdentity } from '../src/core/node-identity.ts';
import { tempDir } from './helpers.ts';

const member = (dir: string) => readFileSync(join(dir, 'member-id'), 'utf8').trim();

test('member ids on one PostgreSQL: the single node keeps its rows as a member, a fresh member gets its own key', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.database('member_ids');
  const root = tempDir(t);
  const [single, fresh, late] = ['single', 'fresh', 'late'].map((d) => join(root, d));

  // A single node on the database: member '', with a key, a resume record and a lease naming it.
  const s0 = await StateDB.open(single, stateOpenOptions(single, database));
  assert.equal(s0.memberId, '');
  const singleDid = nodeIdentity(s0).did;
  await s0.resume.save('a'.repeat(40), { have: new Uint8Array([0xc0]) });
  await (await DatabaseLease.take(s0.store, instanceId(single), 'test')).release();
  await s0.close();

  // Another state dir joining first: its own key, not the single node's rows.
  const f = await StateDB.open(fresh, stateOpenOptions(fresh, database, true));
  assert.notEqual(f.memberId, '');
  assert.equal(member(fresh), f.memberId);
  assert.equal(nodeIdentity(f).did, f.memberId, 'the member id is its node key\'s did');
  assert.notEqual(f.memberId, singleDid);
  assert.equal(f.verifiedPieces('a'.repeat(40)) ?? 0, 0, 'a fresh member claimed the single node\'s pieces');
  await f.close();

  // The single node's state dir joining: its own key and pieces, now under its did.
  const s1 = await StateDB.open(single, stateOpenOptions(single, database, true));
  assert.equal(s1.memberId, singleDid);
  assert.equal(member(single), singleDid);
  assert.equal(nodeIdentity(s1).did, singleDid);
  assert.equal(s1.verifiedPieces('a'.repeat(40)), 2);
  assert.equal(await s1.store.get("SELECT 1 AS one FROM identity WHERE member_id = ''"), undefined, 'the single node\'s rows were left behind');
  await s1.close();

  // Restarted, each is the same member; a verb on the state dir (no --cluster-url) reads its rows.
  const again = await StateDB.open(fresh, stateOpenOptions(fresh, database, true));
  assert.equal(again.memberId, member(fresh));
  await again.close();
  const verb = await StateDB.open(single, stateOpenOptions(single, database));
  assert.equal(verb.memberId, singleDid);
  assert.equal(verb.verifiedPieces('a'.repeat(40)), 2);
  await verb.close();

  // A join interrupted after the file was written and before the rows moved finishes the move.
  const db2 = await pg.database('member_ids_2');
  const l0 = await StateDB.open(late, stateOpenOptions(late, db2));
  const lateDid = nodeIdentity(l0).did;
  await (await DatabaseLease.take(l0.store, instanceId(late), 'test')).release();
  await l0.close();
  writeFileSync(join(late, 'member-id'), `${lateDid}\n`);
  const l1 = await StateDB.open(late, stateOpenOptions(late, db2, true));
  assert.equal(l1.memberId, lateDid);
  assert.equal(nodeIdentity(l1).did, lateDid);
  await l1.close();
});
