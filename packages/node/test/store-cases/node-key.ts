// core/node-identity.ts on the Store: `identity import` replaces the key and keeps the peer id.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { replaceNodeKey } from '../../src/core/node-identity.ts';
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
}
