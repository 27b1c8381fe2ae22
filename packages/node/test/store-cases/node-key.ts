// The node key on the Store (state/node-key.ts): made once, the first maker winning, read back at
// the next start; core/node-identity.ts: `identity import` replaces the key and keeps the peer id.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { replaceNodeKey } from '../../src/core/node-identity.ts';
import { PEER_ID_PREFIX, loadNodeKey } from '../../src/state/node-key.ts';
import type { Open } from '../store-engines.ts';

export async function nodeKeyCases(t: TestContext, open: Open): Promise<void> {
  await t.test('node key (node-identity.ts): an imported secret replaces the key, the peer id stays', async (t) => {
    const s = await open(t);
    const peerId = new Uint8Array(20).fill(7);
    await s.run('INSERT INTO identity (id, peer_id, private_key, public_key, created_at) VALUES (1, ?, ?, ?, ?)', [peerId, 'old', 'old', 1]);
    const secret = new Uint8Array(32).fill(3);
    const id = await replaceNodeKey({ store: s, identity: undefined }, secret);
    const row = await s.get<{ peer_id: Uint8Array; private_key: string }>('SELECT peer_id, private_key FROM identity WHERE id = 1');
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
}
