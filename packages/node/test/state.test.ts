import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sign, verify } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { StateDB, StateError, SCHEMA_VERSION, DB_FILE, PEER_ID_PREFIX, countBits } from '@cascade/node-state';
import { PeerLedger } from '../src/peers/peer-ledger.ts';
import { tempDir, FakeTorrent, HASH_A, HASH_B } from './helpers.ts';

test('creates the state dir 0700 and the DB 0600, schema versioned', async (t) => {
  const dir = join(tempDir(t), 'state');
  const db = await StateDB.open(dir);
  await db.close();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, DB_FILE)).mode & 0o777, 0o600);
  const raw = new DatabaseSync(join(dir, DB_FILE));
  assert.equal((raw.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION);
  assert.equal((raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  raw.close();
});

test('resume data round-trips through the ResumeStore interface', async (t) => {
  const dir = tempDir(t);
  const db = await StateDB.open(dir);
  const store = db.resumeStore;
  assert.equal(await store.load(HASH_A), undefined);
  const have = new Uint8Array([0xff, 0x80]);
  const infoBytes = new TextEncoder().encode('d4:name1:xe');
  const files = [{ length: 9, mtimeMs: 1700000000123 }, { length: 0, mtimeMs: 1 }];
  await store.save(HASH_A, { have, infoBytes, files });
  assert.deepEqual(await store.load(HASH_A), { have, infoBytes, files });
  assert.equal(db.verifiedPieces(HASH_A), 9);

  // A later save without infoBytes keeps the stored info dict (magnets must not lose metadata).
  await store.save(HASH_A, { have: new Uint8Array([0xff, 0xc0]) });
  const again = await store.load(HASH_A);
  assert.deepEqual(again?.have, new Uint8Array([0xff, 0xc0]));
  assert.deepEqual(again?.infoBytes, infoBytes);
  assert.equal(again?.files, undefined);
  await db.close();

  // Durable across reopen.
  const db2 = await StateDB.open(dir);
  assert.deepEqual((await db2.resumeStore.load(HASH_A))?.have, new Uint8Array([0xff, 0xc0]));
  await db2.resumeStore.delete(HASH_A);
  assert.equal(await db2.resumeStore.load(HASH_A), undefined);
  await db2.close();
});

test('identity: Ed25519 key and -CS0100- peer id are stable across reopen', async (t) => {
  const dir = tempDir(t);
  const db = await StateDB.open(dir);
  const id1 = db.identity;
  await db.close();
  const db2 = await StateDB.open(dir);
  const id2 = db2.identity;
  await db2.close();
  assert.equal(id1.peerId.length, 20);
  assert.equal(new TextDecoder().decode(id1.peerId.subarray(0, 8)), PEER_ID_PREFIX);
  assert.deepEqual(id2.peerId, id1.peerId);
  assert.equal(id2.publicKeyHex, id1.publicKeyHex);
  assert.equal(id1.publicKeyHex.length, 64);
  // The stored key pair works: a signature by the reopened private key verifies with the first public key.
  const msg = Buffer.from('hello');
  assert.ok(verify(null, msg, id1.publicKey, sign(null, msg, id2.privateKey)));
  // A different state dir is a different node.
  const other = await StateDB.open(tempDir(t));
  assert.notEqual(other.identity.publicKeyHex, id1.publicKeyHex);
  await other.close();
});

test('torrents: upsert, search by name or infohash prefix, status, remove', async (t) => {
  const db = await StateDB.open(tempDir(t));
  await db.records.add({ infoHash: HASH_A, name: 'Big Buck Bunny', source: new Uint8Array([1, 2]), savePath: '/d', status: 'queued', pieceCount: 8 });
  await db.records.add({ infoHash: HASH_B, name: null, source: 'magnet:?xt=urn:btih:' + HASH_B, savePath: '/e', status: 'downloading' });
  assert.equal(db.listTorrents().length, 2);
  assert.deepEqual(db.searchTorrents('bunny').map((r) => r.infoHash), [HASH_A]);
  assert.deepEqual(db.searchTorrents('AB').map((r) => r.infoHash), [HASH_B]);
  assert.deepEqual(db.searchTorrents('100%').map((r) => r.infoHash), []);
  assert.equal(db.searchTorrents('').length, 2);

  // Re-adding the same torrent as a magnet keeps the .torrent bytes and the added_at time.
  const before = db.getTorrent(HASH_A)!;
  await db.records.add({ infoHash: HASH_A, source: 'magnet:?xt=urn:btih:' + HASH_A, savePath: '/f', status: 'downloading' });
  const after = db.getTorrent(HASH_A)!;
  assert.equal(after.sourceKind, 'torrent');
  assert.equal(after.torrent, null, 'the view holds no .torrent bytes');
  assert.deepEqual((await db.loadTorrent(HASH_A))!.torrent, new Uint8Array([1, 2]));
  assert.equal(after.name, 'Big Buck Bunny');
  assert.equal(after.savePath, '/f');
  assert.equal(after.addedAt, before.addedAt);

  await db.records.updateMeta(HASH_B, { name: 'later', length: 10, pieceCount: 1 });
  await db.records.setStatus(HASH_B, 'seeding', { completedAt: 123 });
  const b = db.getTorrent(HASH_B)!;
  assert.equal(b.name, 'later');
  assert.equal(b.status, 'seeding');
  assert.equal(b.completedAt, 123);

  await db.resume.save(HASH_B, { have: new Uint8Array([0x80]) });
  assert.equal(await db.records.remove([HASH_B]), 1);
  assert.equal(await db.resume.get(HASH_B), undefined, 'remove drops the resume record too');
  assert.equal(await db.records.remove([HASH_B]), 0);
  await db.close();
});

test('peer ledger batches transfer and ban events into one write per flush', async (t) => {
  const db = await StateDB.open(tempDir(t));
  const ledger = new PeerLedger(db, 0);
  const torrent = new FakeTorrent(HASH_A, 'x');
  ledger.attach(torrent);
  for (let i = 0; i < 1000; i++) {
    torrent.emit('transfer', { infoHashHex: HASH_A, peer: '127.0.0.1:7000', peerId: 'p1', direction: 'down', bytes: 1024 });
  }
  torrent.emit('transfer', { infoHashHex: HASH_A, peer: '127.0.0.1:7001', peerId: undefined, direction: 'up', bytes: 500 });
  torrent.emit('peer-banned', { address: '127.0.0.1:7002', reason: 'bad hashes' });
  assert.equal((await db.listPeers()).length, 0, 'nothing written before a flush');
  assert.equal(ledger.pendingCount, 3);
  await ledger.flush();
  await ledger.flush(); // no-op
  torrent.emit('transfer', { infoHashHex: HASH_A, peer: '127.0.0.1:7000', peerId: 'p1', direction: 'up', bytes: 100 });
  await ledger.close();
  torrent.emit('transfer', { infoHashHex: HASH_A, peer: '127.0.0.1:7000', peerId: 'p1', direction: 'down', bytes: 1 });

  const peers = await db.listPeers();
  const p0 = peers.find((p) => p.address === '127.0.0.1:7000')!;
  assert.equal(p0.bytesDown, 1024 * 1000, 'events after close are not recorded (listener detached)');
  assert.equal(p0.bytesUp, 100);
  assert.equal(p0.peerId, 'p1');
  const banned = peers.find((p) => p.address === '127.0.0.1:7002')!;
  assert.equal(banned.banned, true);
  assert.equal(banned.banReason, 'bad hashes');
  assert.equal(peers.at(-1)!.address, '127.0.0.1:7002', 'banned peers sort last');
  assert.ok(p0.score > 0.9);
  assert.deepEqual(await db.counts(), { torrents: 0, resume: 0, peers: 3, bannedPeers: 1 });
  await db.close();
});

test('a corrupted DB file gives a clear StateError', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, DB_FILE), Buffer.alloc(8192, 0x5a));
  await assert.rejects(
    StateDB.open(dir),
    (e: unknown) => e instanceof StateError && /corrupted or not a cascade database/.test(e.message) && e.message.includes(dir),
  );
});

test('a DB from a newer cascade is refused with a clear message', async (t) => {
  const dir = tempDir(t);
  await (await StateDB.open(dir)).close();
  const raw = new DatabaseSync(join(dir, DB_FILE));
  raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
  raw.close();
  await assert.rejects(StateDB.open(dir), (e: unknown) => e instanceof StateError && /schema version \d+, newer than/.test(e.message));
});

test('a foreign SQLite DB (old or unrelated, no schema version) is refused, not clobbered', async (t) => {
  const dir = tempDir(t);
  const raw = new DatabaseSync(join(dir, DB_FILE));
  raw.exec('CREATE TABLE stuff (x)');
  raw.close();
  await assert.rejects(StateDB.open(dir), (e: unknown) => e instanceof StateError && /not a cascade state DB/.test(e.message));
  const check = new DatabaseSync(join(dir, DB_FILE));
  assert.equal((check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'torrents'").get() as { n: number }).n, 0);
  check.close();
});

test('countBits counts set bits', () => {
  assert.equal(countBits(new Uint8Array([])), 0);
  assert.equal(countBits(new Uint8Array([0xff, 0x01, 0x10])), 10);
});

test('the torrent records in memory follow the node\'s own writes, each marked for the listing', async (t) => {
  const db = await StateDB.open(join(tempDir(t), 'state'));
  t.after(() => db.close());
  const records = db.records;
  await records.add({ infoHash: HASH_A, name: 'a', source: new Uint8Array([1, 2]), savePath: '/d', status: 'queued' });
  assert.equal(records.get(HASH_A)!.torrent, null, 'the view holds no .torrent bytes');
  await records.add({ infoHash: HASH_B, source: HASH_B, savePath: '/d', status: 'paused', privateDiscovery: true });
  // Two statuses given together land in one batch, the later one winning, the completion kept.
  await Promise.all([records.setStatus(HASH_A, 'seeding', { completedAt: 1_764_000_000_000 }), records.setStatus(HASH_A, 'error', { error: 'disk gone' })]);
  await records.setSelectedFiles(HASH_A, [0, 2]);
  await records.setPrivateDiscovery(HASH_B, false);
  await records.updateMeta(HASH_B, { name: 'b', length: 5, pieceCount: 1 });
  await records.setEdits(HASH_B, { displayName: 'shown' });
  assert.deepEqual([...records.takeDirty()].sort(), [HASH_A, HASH_B].sort());
  // What the view shows is what a fresh read of the file gives.
  const stored = (ih: string) => ({ ...db.getTorrent(ih)!, torrent: null });
  for (const ih of [HASH_A, HASH_B]) assert.deepEqual(records.get(ih), stored(ih));
  assert.deepEqual([records.get(HASH_A)!.status, records.get(HASH_A)!.completedAt, records.get(HASH_A)!.error], ['error', 1_764_000_000_000, 'disk gone']);
  // What a stopping node waits for before it closes the file: the status batch on its way (B was
  // added paused, which a running status does not lift: A, in error, takes it).
  void records.setStatus(HASH_A, 'downloading');
  await records.settled();
  assert.equal(db.getTorrent(HASH_A)!.status, 'downloading');
  void records.setStatus(HASH_B, 'downloading');
  await records.settled();
  assert.equal(db.getTorrent(HASH_B)!.status, 'paused');
  records.takeDirty();
  await records.remove([HASH_A]);
  assert.equal(records.get(HASH_A), undefined);
  assert.deepEqual([...records.takeDirty()], [HASH_A]);
  await records.setOptions([[HASH_B, { tags: ['x'] }]]);
  assert.deepEqual(db.getTorrent(HASH_B)!.tags, ['x']);
});
