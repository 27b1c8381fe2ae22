// The per-member split of the state (schema 19, docs/cluster.md, issue 42 step 2) on both engines:
// two StateDBs on one database with member ids 'a' and 'b' each keep their own node key, peer id,
// resume records, peers, identity ledger, DHT blames, receipts, share writes and torrent status,
// while the library is one; torrent_holders has a row per member per torrent; a single node's rows
// are renamed to a member id in one transaction (state/member-rows.ts), never over another's.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDB, MEMBER_TABLES, renameMember, torrentHolders, stateTables } from '@cascade/node-state';
import type { Store } from '@cascade/node-state/store';
import type { Open } from '../store-engines.ts';

const X = 'a'.repeat(40);
const SHARE = 'e'.repeat(40);
const DID = 'did:key:z6MkqPdsGnMzT3eHr3FqVy44RNGR2SoJyFFwVX1zBdW2z4Ph';

function dir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'cascade-member-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function count(s: Store, sql: string, params: string[] = []): Promise<number> {
  return Number((await s.get<{ n: number }>(sql, params))!.n);
}

/** Opens a member's state on the store, closed (its saves awaited) when the case ends. */
async function member(t: TestContext, s: Store, memberId: string | undefined): Promise<StateDB> {
  const db = await StateDB.open(dir(t), { store: s, ...(memberId === undefined ? {} : { memberId }) });
  t.after(async () => {
    await db.resume.settled();
    await db.close();
  });
  return db;
}

/** Writes one row of each per-member kind as `db`'s member. */
async function fill(db: StateDB, have: Uint8Array, status: 'downloading' | 'paused'): Promise<void> {
  await db.records.add({ infoHash: X, source: X, savePath: `/data/${db.memberId || 'single'}`, status, pieceCount: 8 });
  await db.resume.save(X, { have });
  await db.recordPeers([{ address: `127.0.0.1:${db.memberId === 'b' ? 2 : 1}`, up: 1, down: 2, lastSeen: 3 }]);
  await db.recordIdentities([{ did: DID, verifiedBytes: db.memberId === 'b' ? 20 : 10, hashFailures: 0, bans: 0, lastSeen: 4 }]);
  // A blame as @cascade/content-node's FileCids writes it (its own tests read it back per member).
  await db.store.run('INSERT INTO dht_blames (member_id, publisher, reason, at) VALUES (?, ?, ?, ?)', [db.memberId, `${DID}${db.memberId}`, 'lied', 5]);
  // A receipt's count as @cascade/rewards' ReceiptStore writes it (its own tests read it back per member).
  await db.store.run('INSERT INTO receipts_sent (member_id, info_hash, seeder, cumulative) VALUES (?, ?, ?, ?)', [db.memberId, X, '0xseeder', db.memberId === 'b' ? 200 : 100]);
  // A share's key (the cluster's) and the chunks this member wrote, as @cascade/private-node's
  // ShareKeys keeps them (its own tests give a key again and read the writes back per member).
  await db.store.run("INSERT INTO share_keys (info_hash, key, origin) VALUES (?, ?, 'link') ON CONFLICT (info_hash) DO NOTHING", [SHARE, new Uint8Array(32).fill(9)]);
  await db.store.run('INSERT INTO share_writes (member_id, info_hash, written) VALUES (?, ?, ?)', [db.memberId, SHARE, new Uint8Array([db.memberId === 'b' ? 0x01 : 0x80])]);
}

export async function memberCases(t: TestContext, open: Open): Promise<void> {
  await t.test('per-member rows (schema 19): two members on one database keep their own; the library is one', async (t) => {
    const s = await open(t);
    const a = await member(t, s, 'a');
    const b = await member(t, s, 'b');
    // Before schema 19 the identity was one row (id = 1): the second member read the first's key.
    assert.notEqual(a.identity.publicKeyHex, b.identity.publicKeyHex, 'each member its own node key');
    assert.notEqual(a.identity.peerIdHex, b.identity.peerIdHex, 'each member its own peer id');
    assert.equal(await count(s, 'SELECT count(*) AS n FROM identity'), 2);

    await fill(a, new Uint8Array([0xff]), 'downloading');
    await fill(b, new Uint8Array([0x80]), 'paused');
    await a.records.setStatus(X, 'error', { error: 'disk full' });
    await Promise.all([a.resume.settled(), b.resume.settled()]);

    // Read back as each member's next start reads it.
    const a2 = await member(t, s, 'a');
    const b2 = await member(t, s, 'b');
    assert.equal(a2.identity.publicKeyHex, a.identity.publicKeyHex, 'a reads its own key back');
    assert.equal(b2.identity.peerIdHex, b.identity.peerIdHex, 'b reads its own peer id back');
    assert.deepEqual([a2.torrentCount(), b2.torrentCount(), await count(s, 'SELECT count(*) AS n FROM torrents')], [1, 1, 1], 'one library');
    assert.deepEqual([a2.getTorrent(X)!.status, a2.getTorrent(X)!.error], ['error', 'disk full'], "a's status is a's");
    assert.deepEqual([b2.getTorrent(X)!.status, b2.getTorrent(X)!.error], ['paused', null], "b's status is b's");
    assert.deepEqual([a2.getTorrent(X)!.savePath, b2.getTorrent(X)!.savePath], ['/data/a', '/data/b'], 'each member reads where its own copy is (schema 21)');
    assert.equal((await s.get<{ save_path: string }>('SELECT save_path FROM torrents'))!.save_path, '/data/b', 'the library row is shared: the last add set its save path');
    assert.deepEqual([a2.verifiedPieces(X), b2.verifiedPieces(X)], [8, 1], 'each member its own pieces');
    const holders = await torrentHolders(s, X);
    assert.deepEqual(holders.map(({ member, state, progress, error, epoch }) => ({ member, state, progress, error, epoch })), [
      { member: 'a', state: 'error', progress: 1, error: 'disk full', epoch: 0 },
      { member: 'b', state: 'paused', progress: 0.125, error: null, epoch: 0 },
    ], 'one holder row per member per torrent');
    assert.ok(holders.every((h) => h.updatedAt > 0));
    assert.deepEqual((await a2.listPeers()).map((p) => p.address), ['127.0.0.1:1']);
    assert.deepEqual((await b2.listPeers()).map((p) => p.address), ['127.0.0.1:2']);
    assert.deepEqual([a2.identityRecord(DID)?.verifiedBytes, b2.identityRecord(DID)?.verifiedBytes], [10, 20]);
    assert.deepEqual((await s.all<{ publisher: string }>('SELECT publisher FROM dht_blames WHERE member_id = ?', [b2.memberId])).map((x) => x.publisher), [`${DID}b`]);
    const sent = async (db: StateDB) => Number((await s.get<{ cumulative: number }>('SELECT cumulative FROM receipts_sent WHERE member_id = ? AND info_hash = ?', [db.memberId, X]))!.cumulative);
    assert.deepEqual([await sent(a2), await sent(b2)], [100, 200]);
    const written = async (db: StateDB) => (await s.all<{ written: Uint8Array }>('SELECT written FROM share_writes WHERE member_id = ? AND info_hash = ?', [db.memberId, SHARE])).map((r) => [...new Uint8Array(r.written)]);
    assert.deepEqual([await written(a2), await written(b2)], [[[0x80]], [[0x01]]], 'each member its own share writes');
    assert.equal(await count(s, 'SELECT count(*) AS n FROM share_keys'), 1, 'the share key is the cluster\'s');
    assert.deepEqual([(await a2.counts()).resume, (await a2.counts()).peers], [1, 1], 'debug counts its own rows');

    // A torrent removed from the library takes every member's rows of it along, but the other
    // holders' rows, which stay as tombstones until each holder removed its copy (schema 21), and
    // their resume records, which tell a holder down at that moment its copy's files (issue 63).
    assert.equal(await a2.records.remove([X]), 1);
    assert.deepEqual((await s.all("SELECT state FROM torrent_holders WHERE member_id = 'a'")).length, 0, "the remover's own row goes");
    assert.deepEqual((await s.all('SELECT state FROM torrent_holders')).map((r) => r.state), ['removed'], "b's row: a tombstone, its copy kept");
    assert.deepEqual((await s.all<{ member_id: string }>('SELECT member_id FROM resume')).map((r) => r.member_id), ['b'], "b's resume record stays with its tombstone; a's goes");
    // b acts on its tombstone: both go. A second time finds none (an add since made it a copy again).
    assert.equal(b2.verifiedPieces(X), 1, "b's view holds its copy's pieces while the tombstone stands");
    assert.equal(await b2.dropTombstone(X), true);
    assert.equal(b2.verifiedPieces(X), undefined, "and lets them go with it: the torrent added again is not listed with the dropped copy's pieces");
    assert.equal(await b2.dropTombstone(X), false);
    assert.equal(await count(s, 'SELECT count(*) AS n FROM torrent_holders'), 0);
    assert.equal(await count(s, 'SELECT count(*) AS n FROM resume'), 0);
  });

  await t.test('per-member tables: exactly those with a member_id column (a new table says which it is)', async (t) => {
    const s = await open(t);
    const withMember: string[] = [];
    for (const table of await stateTables(s)) {
      const has = await s.get(`SELECT member_id FROM ${table} LIMIT 1`).then(() => true, () => false);
      if (has) withMember.push(table);
    }
    assert.deepEqual(withMember.sort(), [...MEMBER_TABLES].sort());
  });

  await t.test("renameMember (state/member-rows.ts): a single node's rows become a member's, all or none", async (t) => {
    const s = await open(t);
    const single = await member(t, s, undefined);
    assert.equal(single.memberId, '', 'a single node is member ""');
    await fill(single, new Uint8Array([0xf0]), 'downloading');
    await single.resume.settled();
    const key = single.identity.publicKeyHex;

    await assert.rejects(renameMember(s, ''), (err: Error & { kind?: string }) => err.kind === 'invalid' && /must not be empty/.test(err.message));
    await assert.rejects(renameMember(s, 'a\nb'), (err: Error & { kind?: string }) => err.kind === 'invalid');
    const moved = await renameMember(s, DID);
    assert.deepEqual(moved, { identity: 1, resume: 1, peers: 1, identity_ledger: 1, dht_blames: 1, receipts_sent: 1, receipts_held: 0, share_writes: 1, torrent_holders: 1 });
    for (const table of MEMBER_TABLES) assert.equal(await count(s, `SELECT count(*) AS n FROM ${table} WHERE member_id = ''`), 0, `${table}: nothing left as ''`);

    const joined = await member(t, s, DID);
    assert.equal(joined.identity.publicKeyHex, key, 'the member keeps the node key it had');
    assert.deepEqual([joined.getTorrent(X)!.status, joined.verifiedPieces(X), joined.identityRecord(DID)?.verifiedBytes], ['downloading', 4, 10]);
    assert.equal((await joined.listPeers()).length, 1);

    // A new single node on the database (another state dir) has rows as '': renaming them onto a
    // member that has its own is refused, and nothing moves.
    const other = await member(t, s, undefined);
    await other.recordPeers([{ address: '127.0.0.9:9', up: 0, down: 0, lastSeen: 1 }]);
    await assert.rejects(renameMember(s, DID), (err: Error & { kind?: string }) => err.kind === 'conflict' && /already has rows \(in identity, resume, peers/.test(err.message));
    assert.equal(await count(s, "SELECT count(*) AS n FROM peers WHERE member_id = ''"), 1, 'the refused rename moved nothing');
    assert.equal(await count(s, 'SELECT count(*) AS n FROM peers WHERE member_id = ?', [DID]), 1);
    assert.equal((await renameMember(s, 'did:key:other')).peers, 1, 'to a free member id it goes');
  });
}
