// Reputation by verified identity, in the state DB: what the node verified of each did, kept across
// restarts; a did with a failed piece or a ban loses the fast lane; a version-1 state DB migrates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StateDB, DB_FILE, SCHEMA_VERSION } from '../src/state/state-db.ts';
import { IdentityLedger, isClean, reputationOf } from '../src/peers/identity-ledger.ts';
import { tempDir } from './helpers.ts';

const DID = 'did:key:z6MkqPdsGnMzT3eHr3FqVy44RNGR2SoJyFFwVX1zBdW2z4Ph';
const MiB = 1024 * 1024;

test('verified bytes, hash failures and bans add up per did and survive a restart', async (t) => {
  const dir = join(tempDir(t), 'state');
  let db = await StateDB.open(dir);
  let ledger = new IdentityLedger(db, 0);
  ledger.seen(DID, '0x87ED9A49D42FCa45fAb75CD1E653bF039586870A');
  ledger.verified(DID, 40 * MiB);
  assert.equal(ledger.record(DID)!.verifiedBytes, 40 * MiB, 'pending counts before the flush');
  assert.ok(isClean(ledger.record(DID)));
  const good = reputationOf(ledger.record(DID));
  assert.ok(good > 0.9 && good < 1, `40 MiB verified: ${good}`);
  await ledger.close();
  await db.close();

  db = await StateDB.open(dir);
  ledger = new IdentityLedger(db, 0);
  assert.equal(ledger.record(DID)!.verifiedBytes, 40 * MiB);
  assert.equal(ledger.record(DID)!.account, '0x87ED9A49D42FCa45fAb75CD1E653bF039586870A');
  ledger.hashFailed(DID);
  assert.equal(isClean(ledger.record(DID)), false, 'one failed piece: no fast lane');
  assert.ok(reputationOf(ledger.record(DID)) < good);
  ledger.banned(DID);
  assert.equal(reputationOf(ledger.record(DID)), 0);
  await ledger.close();
  await db.close();
  const reopened = await StateDB.open(dir);
  assert.deepEqual(reopened.identityRecord(DID)?.bans, 1);
  await reopened.close();
  assert.equal(reputationOf(undefined), 0);
  assert.ok(isClean(undefined), 'a stranger has nothing against it');
});

test('a version 1 state DB gains the identity ledger on open', async (t) => {
  const dir = join(tempDir(t), 'state');
  await (await StateDB.open(dir)).close();
  const raw = new DatabaseSync(join(dir, DB_FILE));
  // Back to version 1: what migrations 2-12 added goes.
  const v5Columns = ['category', 'tags', 'queue_position', 'force_start', 'download_limit', 'upload_limit', 'ratio_limit',
    'seeding_time_limit', 'seeding_time', 'total_downloaded', 'total_uploaded'];
  raw.exec('DROP TABLE cluster_members; DROP TABLE cluster_coordinator;'); // migration 20 (19 is reserved: empty)
  raw.exec('DROP TABLE node_lease;'); // migration 18
  raw.exec('DROP TABLE api_token;'); // migration 17
  raw.exec('DROP TABLE receipts_sent; DROP TABLE receipts_held;'); // migration 16
  raw.exec('ALTER TABLE torrents DROP COLUMN piece_order;'); // migration 15
  raw.exec('DROP TABLE created_tags; ALTER TABLE torrents DROP COLUMN display_name; ALTER TABLE torrents DROP COLUMN tracker_tiers; ALTER TABLE torrents DROP COLUMN renamed_files;'); // migration 12
  raw.exec('ALTER TABLE torrents DROP COLUMN mirrors;'); // migration 11
  raw.exec('DROP TABLE file_cids; DROP TABLE dht_blames;'); // migration 10
  raw.exec('ALTER TABLE torrents DROP COLUMN private_discovery;'); // migration 9
  raw.exec('DROP TABLE share_keys;'); // migration 8
  raw.exec('DROP INDEX torrents_queue_position;'); // migration 7
  raw.exec(v5Columns.map((c) => `ALTER TABLE torrents DROP COLUMN ${c};`).join(' ') + ' DROP TABLE settings; DROP TABLE categories;');
  raw.exec('DROP TABLE identity_ledger; DROP TABLE members; DROP TABLE sessions; DROP TABLE torrent_peers; ' +
    'DROP TABLE rss_feeds; DROP TABLE rss_items; DROP TABLE rss_rules; DROP TABLE rss_matches; DROP TABLE rss_settings; PRAGMA user_version = 1;');
  raw.close();
  const db = await StateDB.open(dir);
  await db.recordIdentities([{ did: DID, verifiedBytes: 1, hashFailures: 0, bans: 0, lastSeen: 1 }]);
  assert.equal(db.identityRecord(DID)?.verifiedBytes, 1);
  await db.close();
  const check = new DatabaseSync(join(dir, DB_FILE));
  assert.equal((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION);
  check.close();
});
