// The state's Store (issue 41, item 3) on both engines: the embedded SQLite file and a real
// PostgreSQL server started for the test. The same cases run on each, so SQL that only one of
// them takes, or a transaction that lets other statements in, fails here.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore, numberParameters } from '@cascade/node-state/postgres-store';
import { SCHEMA_VERSION, migratePostgres, postgresDdl, StateDB } from '@cascade/node-state';
import { MAX_MANUAL_PEERS, rememberPeers, storedPeers } from '../src/peers/manual-peers.ts';
import { postgres, sqlite, type Open, type StoreCases } from './store-engines.ts';
import { nodeKeyCases } from './store-cases/node-key.ts';
import { authCases } from './store-cases/auth.ts';
import { settingsCases } from './store-cases/settings.ts';
import { categoryCases } from './store-cases/categories.ts';
import { queueCases } from './store-cases/queue.ts';
import { torrentOptionCases } from './store-cases/torrent-options.ts';
import { upsertCases } from './store-cases/upserts.ts';
import { torrentWriteCases } from './store-cases/torrent-writes.ts';
import { torrentReadCases } from './store-cases/torrent-reads.ts';
import { resumeCases } from './store-cases/resume.ts';
import { ledgerCases } from './store-cases/ledgers.ts';
import { apiTokenCases } from './store-cases/api-token.ts';
import { leaseCases } from './store-cases/lease.ts';
import { memberCases } from './store-cases/members.ts';
import { clusterViewCases } from './store-cases/cluster-views.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Each store moved onto the Store brings its cases (store-cases/), run here on both engines (a package above
 *  the node runs its own the same way: packages/rss/test/store.test.ts). */
const STORES: StoreCases[] = [nodeKeyCases, authCases, settingsCases, categoryCases, queueCases, torrentOptionCases, upsertCases, torrentWriteCases, torrentReadCases, resumeCases, ledgerCases, apiTokenCases, leaseCases, memberCases, clusterViewCases];

async function cases(t: TestContext, open: Open): Promise<void> {
  await t.test('values come back as they went in: big integers, bytes, null, text with a question mark', async (t) => {
    const s = await open(t);
    const ms = 1_764_000_000_123; // a timestamp in ms: more than 32 bits
    await s.run('INSERT INTO torrent_peers (info_hash, address, added_at) VALUES (?, ?, ?)', ['a'.repeat(40), 'x?y:1', ms]);
    const row = await s.get<{ address: string; added_at: number; q: string }>(
      "SELECT address, added_at, 'what?' AS q FROM torrent_peers WHERE info_hash = ?",
      ['a'.repeat(40)],
    );
    assert.deepEqual({ ...row }, { address: 'x?y:1', added_at: ms, q: 'what?' });
    const key = new Uint8Array([0, 1, 2, 255]);
    await s.run('INSERT INTO share_keys (info_hash, key, origin) VALUES (?, ?, ?)', ['b'.repeat(40), key, 'link']);
    await s.run('INSERT INTO rss_feeds (url, title, created_at) VALUES (?, ?, ?)', ['http://127.0.0.1/f', null, 1]);
    const k = await s.get<{ key: Uint8Array }>('SELECT key FROM share_keys WHERE info_hash = ?', ['b'.repeat(40)]);
    assert.deepEqual(new Uint8Array(k!.key), key);
    assert.equal((await s.get<{ title: string | null }>('SELECT title FROM rss_feeds'))!.title, null);
    const n = await s.get<{ n: number }>('SELECT count(*) AS n FROM share_keys');
    assert.equal(n!.n, 1, 'count(*) is a number on both engines');
    assert.deepEqual(await s.run('DELETE FROM share_keys WHERE info_hash = ?', ['b'.repeat(40)]), { changes: 1 });
  });

  await t.test('a transaction commits as one; a throw rolls all of it back and passes the error on', async (t) => {
    const s = await open(t);
    await s.transaction(async (tx) => {
      await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['one', null, 1]);
      await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['two', null, 2]);
    });
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['three', null, 3]);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    // A statement that fails inside (a duplicate key) rolls back the statements before it too.
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['four', null, 4]);
        await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['one', null, 5]);
      }),
    );
    const names = (await s.all<{ name: string }>('SELECT name FROM categories ORDER BY name')).map((r) => r.name);
    assert.deepEqual(names, ['one', 'two']);
  });

  await t.test('a statement issued while a transaction is open is not part of it: the rollback keeps it', async (t) => {
    const s = await open(t);
    let outside: Promise<unknown> | undefined;
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['inside', null, 1]);
        outside = s.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', ['outside', null, 2]);
        await new Promise((r) => setTimeout(r, 30));
        throw new Error('roll back');
      }),
      /roll back/,
    );
    await outside;
    const names = (await s.all<{ name: string }>('SELECT name FROM categories ORDER BY name')).map((r) => r.name);
    assert.deepEqual(names, ['outside']);
  });

  await t.test('transactions run together read and write as if each ran alone: no update lost', async (t) => {
    const s = await open(t);
    await s.run('INSERT INTO settings (key, value) VALUES (?, ?)', ['counter', '0']);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s.transaction(async (tx) => {
          const v = Number((await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'counter'"))!.value);
          await new Promise((r) => setImmediate(r));
          await tx.run("UPDATE settings SET value = ? WHERE key = 'counter'", [String(v + 1)]);
        }),
      ),
    );
    const v = Number((await s.get<{ value: string }>("SELECT value FROM settings WHERE key = 'counter'"))!.value);
    assert.equal(v, 20);
  });

  await t.test('peers given by hand (manual-peers.ts): kept once each, newest last, at most 50', async (t) => {
    const s = await open(t);
    const ih = 'c'.repeat(40);
    await rememberPeers(s, ih, ['10.0.0.1:1', '10.0.0.2:2', 'not a peer', '10.0.0.1:1']);
    assert.deepEqual(await storedPeers(s, ih), ['10.0.0.1:1', '10.0.0.2:2']);
    await new Promise((r) => setTimeout(r, 5));
    await rememberPeers(s, ih, ['10.0.0.1:1']);
    assert.deepEqual(await storedPeers(s, ih), ['10.0.0.2:2', '10.0.0.1:1'], 'given again: now the newest');
    await rememberPeers(s, ih, Array.from({ length: 60 }, (_, i) => `10.1.0.${i}:${1000 + i}`));
    const kept = await storedPeers(s, ih);
    assert.equal(kept.length, MAX_MANUAL_PEERS);
    assert.equal(kept.at(-1), '10.1.0.59:1059');
    assert.deepEqual(await storedPeers(s, 'd'.repeat(40)), []);
  });
}

test('the Store on SQLite (the embedded state file)', async (t) => {
  const open = sqlite();
  await cases(t, open);
  for (const store of STORES) await store(t, open);
});

test('the Store on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  const { open, server } = postgres(t);
  await cases(t, open);
  for (const store of STORES) await store(t, open);

  await t.test('migrations: every table of the schema, once; a second migrate changes nothing', async (t) => {
    const s = await open(t);
    const tables = (await s.all<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name")).map((r) => r.table_name);
    for (const name of ['torrents', 'resume', 'peers', 'identity', 'members', 'sessions', 'torrent_peers', 'rss_feeds', 'rss_items', 'rss_rules', 'rss_matches', 'settings', 'categories', 'share_keys', 'file_cids', 'dht_blames', 'receipts_sent', 'receipts_held', 'api_token', 'node_lease', 'cascade_schema']) {
      assert.ok(tables.includes(name), `table ${name} is missing: ${tables.join(', ')}`);
    }
    await migratePostgres(s as PostgresStore);
    assert.equal((await s.get<{ version: number }>('SELECT version FROM cascade_schema'))!.version, SCHEMA_VERSION);
    // Identity keys number new rows as SQLite's INTEGER PRIMARY KEY does.
    await s.run('INSERT INTO rss_feeds (url, created_at) VALUES (?, ?)', ['http://127.0.0.1/feed', Date.now()]);
    assert.equal((await s.get<{ id: number }>('SELECT id FROM rss_feeds'))!.id, 1);
  });

  await t.test('two members, each its own process state on one PostgreSQL URL (schema 19): own key and status, one library', async (t) => {
    const url = await (await server()).database('two_members');
    const dirs = [mkdtempSync(join(tmpdir(), 'cascade-a-')), mkdtempSync(join(tmpdir(), 'cascade-b-'))];
    t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const [a, b] = await Promise.all([StateDB.open(dirs[0]!, { database: url, memberId: 'a' }), StateDB.open(dirs[1]!, { database: url, memberId: 'b' })]);
    try {
      assert.notEqual(a.identity.publicKeyHex, b.identity.publicKeyHex);
      const ih = 'f'.repeat(40);
      await a.records.add({ infoHash: ih, source: ih, savePath: '/a', status: 'downloading' });
      await b.records.add({ infoHash: ih, source: ih, savePath: '/a', status: 'paused' });
      const rows = await a.store.all<{ member_id: string; state: string }>('SELECT member_id, state FROM torrent_holders ORDER BY member_id');
      assert.deepEqual(rows.map((r) => [r.member_id, r.state]), [['a', 'downloading'], ['b', 'paused']]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const again = await StateDB.open(dirs[0]!, { database: url, memberId: 'a' });
    try {
      assert.equal(again.getTorrent('f'.repeat(40))!.status, 'downloading', "b's add did not change a's status");
      assert.equal(again.torrentCount(), 1);
    } finally {
      await again.close();
    }
  });

  await t.test("migration 19 on a PostgreSQL holding version 18's rows: each kept, as member ''", async (t) => {
    const s = await open(t);
    // Back to version 18's keys and columns (ALTER, as PostgreSQL can), with a row in each.
    for (const table of ['identity', 'resume', 'peers', 'identity_ledger', 'dht_blames', 'receipts_sent', 'receipts_held']) {
      await s.run(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_v19_pkey`);
      await s.run(`ALTER TABLE ${table} DROP COLUMN member_id`);
    }
    const keys: Record<string, string> = { resume: 'info_hash', peers: 'address', identity_ledger: 'did', dht_blames: 'publisher', receipts_sent: 'info_hash, seeder', receipts_held: 'info_hash, downloader' };
    for (const [table, key] of Object.entries(keys)) await s.run(`ALTER TABLE ${table} ADD PRIMARY KEY (${key})`);
    await s.run('ALTER TABLE identity ADD COLUMN id BIGINT PRIMARY KEY CHECK (id = 1)');
    await s.run('DROP TABLE torrent_holders');
    await s.run('DROP TABLE share_writes');
    await s.run('DROP TABLE cluster_members');
    await s.run('DROP TABLE cluster_coordinator');
    await s.run('DROP TABLE compat_sessions');
    await s.run('DROP TABLE compat_state');
    await s.run('DROP TABLE compat_login_failures');
    await s.run('DROP TABLE compat_torrent_ids');
    await s.run('ALTER TABLE share_keys ADD COLUMN written BYTEA');
    // Migration 25's columns (each file's UnixFS CID and chunk digests) were not there either.
    await s.run('DROP INDEX file_cids_unixfs');
    await s.run('ALTER TABLE file_cids DROP COLUMN unixfs');
    await s.run('ALTER TABLE file_cids DROP COLUMN chunks');
    await s.run('ALTER TABLE torrents DROP COLUMN super_seeding'); // migration 26
    await s.run('UPDATE cascade_schema SET version = 18');
    const ih = 'a'.repeat(40);
    await s.run("INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, error, added_at, completed_at) VALUES (?, 'magnet', ?, '/d', 'seeding', NULL, 1, 2)", [ih, ih]);
    await s.run('INSERT INTO identity (id, peer_id, private_key, public_key, created_at) VALUES (1, ?, ?, ?, 1)', [new Uint8Array(20), 'private', 'public']);
    await s.run('INSERT INTO resume (info_hash, have, updated_at) VALUES (?, ?, 1)', [ih, new Uint8Array([0xff])]);
    await s.run("INSERT INTO peers (address, last_seen) VALUES ('10.0.0.1:1', 1)");
    await s.run("INSERT INTO identity_ledger (did, first_seen, last_seen) VALUES ('did:key:z', 1, 1)");
    await s.run("INSERT INTO dht_blames (publisher, reason, at) VALUES ('did:key:y', 'lied', 1)");
    await s.run("INSERT INTO receipts_sent (info_hash, seeder, cumulative) VALUES (?, '0xs', 5)", [ih]);
    await s.run("INSERT INTO receipts_held (info_hash, downloader, seeder, cumulative, expiry, chain_id, pool, signature, received_at) VALUES (?, '0xd', '0xs', '1', '2', '3', '0xp', '0x', 1)", [ih]);
    await s.run("INSERT INTO share_keys (info_hash, key, origin, written) VALUES (?, ?, 'link', ?)", [ih, new Uint8Array(32), new Uint8Array([0x80])]);

    await migratePostgres(s as PostgresStore);
    for (const table of ['identity', 'resume', 'peers', 'identity_ledger', 'dht_blames', 'receipts_sent', 'receipts_held', 'share_writes', 'torrent_holders']) {
      assert.deepEqual((await s.all<{ member_id: string }>(`SELECT member_id FROM ${table}`)).map((r) => r.member_id), [''], `${table}: its row, as member ''`);
    }
    const holder = await s.get<Record<string, unknown>>('SELECT state, error, completed_at, progress, epoch, save_path FROM torrent_holders');
    assert.deepEqual({ ...holder }, { state: 'seeding', error: null, completed_at: 2, progress: 1, epoch: 0, save_path: '/d' }, "migration 21: the copy is at the library's path");
    assert.deepEqual(new Uint8Array((await s.get<{ written: Uint8Array }>('SELECT written FROM share_writes'))!.written), new Uint8Array([0x80]));
    assert.deepEqual(await s.all('SELECT unixfs, chunks FROM file_cids'), [], 'migration 25 ran: its columns are back');
  });

  await t.test('members starting together migrate once (advisory lock)', async () => {
    const url = await (await server()).database('together');
    const stores = await Promise.all([PostgresStore.open(url), PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      await Promise.all(stores.map((s) => migratePostgres(s)));
      assert.equal((await stores[0]!.get<{ n: number }>('SELECT count(*) AS n FROM cascade_schema'))!.n, 1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  await t.test('a database that is not ours, or newer than this cascade, is refused with a clear error', async () => {
    const url = await (await server()).database('someone_else');
    const s = await PostgresStore.open(url);
    try {
      await s.run('CREATE TABLE invoices (id INTEGER)');
      await assert.rejects(migratePostgres(s), /not a cascade database/);
      await s.run('DROP TABLE invoices');
      await migratePostgres(s);
      await s.run('UPDATE cascade_schema SET version = ?', [SCHEMA_VERSION + 1]);
      await assert.rejects(migratePostgres(s), /newer than this cascade understands/);
    } finally {
      await s.close();
    }
  });

  await t.test('a server that does not answer: a clear error naming it, without its password', async () => {
    await assert.rejects(PostgresStore.open('postgres://cascade:secret@127.0.0.1:1/none'), (err: Error) => {
      assert.match(err.message, /cannot use the PostgreSQL database postgres:\/\/cascade:\*\*\*@127\.0\.0\.1:1\/none/);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
  });
});

test('the dialect: ? numbered outside quotes only; SQLite types mapped for PostgreSQL', () => {
  assert.equal(numberParameters("SELECT ?, '?', \"a?\" WHERE x = ? AND y = 'it''s?'"), "SELECT $1, '?', \"a?\" WHERE x = $2 AND y = 'it''s?'");
  assert.equal(
    postgresDdl('id INTEGER PRIMARY KEY, one INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL, r REAL, b BLOB'),
    'id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, one BIGINT PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL, r DOUBLE PRECISION, b BYTEA',
  );
});
