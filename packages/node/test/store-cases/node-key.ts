// The node key on the Store (state/node-key.ts): made once, the first maker winning, read back at
// the next start; core/node-identity.ts: `identity import` replaces the key and keeps the peer id.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { replaceNodeKey } from '../../src/core/node-identity.ts';
import { PEER_ID_PREFIX, loadNodeKey, StateDB } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function nodeKeyCases(t: TestContext, open: Open): Promise<void> {
  await t.test('node key (node-identity.ts): an imported secret replaces the key, the peer id stays', async (t) => {
    const s = await open(t);
    const peerId = new Uint8Array(20).fill(7);
    await s.run("INSERT INTO identity (member_id, peer_id, private_key, public_key, created_at) VALUES ('', ?, ?, ?, ?)", [peerId, 'old', 'old', 1]);
    const secret = new Uint8Array(32).fill(3);
    const id = await replaceNodeKey({ store: s, identity: undefined }, secret);
    const row = await s.get<{ peer_id: Uint8Array; private_key: string }>("SELECT peer_id, private_key FROM identity WHERE member_id = ''");
    assert.deepEqual(new Uint8Array(row!.peer_id), peerId);
    const d = createPrivateKey(row!.private_key).export({ format: 'jwk' }).d;
    assert.deepEqual(new Uint8Array(Buffer.from(d!, 'base64url')), secret);
    assert.match(id.did, /^did:key:/);
  });

  await t.test('node key (state/node-key.ts): made once, the same for starts made together and the next', async (t) => {
    const s = await open(t);
    const [a, b] = await Promise.all([loadNodeKey(s), loadNodeKey(s)]);
    assert.equal(a.publicKeyHex, b.publicKeyHex, 'two makers: one key');
    assert.deepEqual(a.peerId, b.peerId);
    assert.equal(new TextDecoder().decode(a.peerId.subarray(0, 8)), PEER_ID_PREFIX);
    const again = await loadNodeKey(s);
    assert.equal(again.publicKeyHex, a.publicKeyHex);
    assert.equal(again.peerIdHex, a.peerIdHex);
    assert.equal((await s.get<{ n: number }>('SELECT count(*) AS n FROM identity'))!.n, 1);
  });

  await t.test('StateDB on a given store (state-db.ts): opened with every view read through it; closing leaves the store open', async (t) => {
    const s = await open(t);
    const dir = mkdtempSync(join(tmpdir(), 'cascade-given-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await s.run('INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at) VALUES (?, ?, ?, ?, ?, ?)', ['a'.repeat(40), 'magnet', 'a'.repeat(40), '/d', 'paused', 1]);
    await s.run('INSERT INTO resume (info_hash, have, updated_at) VALUES (?, ?, ?)', ['a'.repeat(40), new Uint8Array([0xe0]), 1]);
    await s.run('INSERT INTO identity_ledger (did, verified_bytes, hash_failures, bans, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)', ['did:key:z', 5, 0, 0, 1, 1]);
    const db = await StateDB.open(dir, { store: s });
    assert.equal(db.path, s.location);
    assert.deepEqual([db.torrentCount(), db.getTorrent('a'.repeat(40))?.status, db.verifiedPieces('a'.repeat(40)), db.identityRecord('did:key:z')?.verifiedBytes], [1, 'paused', 3, 5]);
    const key = await s.get<{ n: number }>('SELECT count(*) AS n FROM identity');
    assert.equal(key!.n, 1, 'the node key was made in the given store');
    assert.equal(db.identity.peerId.length, 20);
    await db.close();
    assert.equal((await s.get<{ n: number }>('SELECT count(*) AS n FROM torrents'))!.n, 1, 'the store still answers');
  });
}
