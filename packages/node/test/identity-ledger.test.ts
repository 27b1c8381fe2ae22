// Reputation by verified identity, in the state DB: what the node verified of each did, kept across
// restarts; a did with a failed piece or a ban loses the fast lane; a version-1 state DB migrates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StateDB, DB_FILE, SCHEMA_VERSION } from '@cascade/node-state';
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
  const first = await StateDB.open(dir);
  const key = first.identity.publicKeyHex;
  await first.resume.save('a'.repeat(40), { have: new Uint8Array([0xc0]) });
  await first.recordPeers([{ address: '127.0.0.1:1', up: 1, down: 1, lastSeen: 1 }]);
  await first.close();
  const raw = new DatabaseSync(join(dir, DB_FILE));
  // Back to version 1: what migrations 2-23 added goes.
  raw.exec('DROP TABLE compat_torrent_ids; DROP TABLE compat_login_failures; DROP TABLE compat_state; ALTER TABLE torrent_holders DROP COLUMN move_error; ALTER TABLE torrent_holders DROP COLUMN move_to;'); // migration 23
  raw.exec('DROP TABLE compat_sessions;'); // migration 22
  raw.exec('ALTER TABLE torrent_holders DROP COLUMN save_path;'); // migration 21
  raw.exec('DROP TABLE cluster_members; DROP TABLE cluster_coordinator;'); // migration 20
  // Migration 19: the holders and share writes go; identity, resume and peers are version 1's again
  // (the other tables it rebuilt are dropped below with the migrations that made them).
  raw.exec(`DROP TABLE torrent_holders; DROP TABLE share_writes;
    CREATE TABLE identity_v1 (id INTEGER PRIMARY KEY CHECK (id = 1), peer_id BLOB NOT NULL, private_key TEXT NOT NULL, public_key TEXT NOT NULL, created_at INTEGER NOT NULL);
    INSERT INTO identity_v1 SELECT 1, peer_id, private_key, public_key, created_at FROM identity WHERE member_id = '';
    DROP TABLE identity; ALTER TABLE identity_v1 RENAME TO identity;
    CREATE TABLE resume_v1 (info_hash TEXT PRIMARY KEY, have BLOB NOT NULL, info BLOB, files TEXT, updated_at INTEGER NOT NULL);
    INSERT INTO resume_v1 SELECT info_hash, have, info, files, updated_at FROM resume WHERE member_id = '';
    DROP TABLE resume; ALTER TABLE resume_v1 RENAME TO resume;
    CREATE TABLE peers_v1 (address TEXT PRIMARY KEY, peer_id TEXT, score REAL NOT NULL DEFAULT 0, bytes_up INTEGER NOT NULL DEFAULT 0,
      bytes_down INTEGER NOT NULL DEFAULT 0, banned INTEGER NOT NULL DEFAULT 0, ban_reason TEXT, last_seen INTEGER NOT NULL);
    INSERT INTO peers_v1 SELECT address, peer_id, score, bytes_up, bytes_down, banned, ban_reason, last_seen FROM peers WHERE member_id = '';
    DROP TABLE peers; ALTER TABLE peers_v1 RENAME TO peers;`);
  const v5Columns = ['category', 'tags', 'queue_position', 'force_start', 'download_limit', 'upload_limit', 'ratio_limit',
    'seeding_time_limit', 'seeding_time', 'total_downloaded', 'total_uploaded'];
  raw.exec('ALTER TABLE torrents DROP COLUMN super_seeding;'); // migration 26
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
  // Migration 19 keeps a single node's rows as member '': the same key, resume record and peer.
  assert.equal(db.identity.publicKeyHex, key);
  assert.equal(db.verifiedPieces('a'.repeat(40)), 2);
  assert.deepEqual((await db.listPeers()).map((p) => p.address), ['127.0.0.1:1']);
  await db.close();
  const check = new DatabaseSync(join(dir, DB_FILE));
  assert.equal((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION);
  check.close();
});
