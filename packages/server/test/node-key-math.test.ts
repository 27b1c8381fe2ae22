// The node identity's public keys from OpenSSL are noble's, byte for byte, for random secrets (and
// so the same did, X25519 key and Ethereum account as before).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { identityFromSigningSecret, NOBLE_KEY_MATH } from '@cascade/identity';
import { NODE_KEY_MATH } from '../src/node-key-math.ts';

test('OpenSSL key math gives noble\'s public keys and the same identity', () => {
  for (let i = 0; i < 50; i++) {
    const s = new Uint8Array(randomBytes(32));
    assert.deepEqual(NODE_KEY_MATH.ed25519Public(s), NOBLE_KEY_MATH.ed25519Public(s));
    assert.deepEqual(NODE_KEY_MATH.x25519Public(s), NOBLE_KEY_MATH.x25519Public(s));
    const a = identityFromSigningSecret(s, 'n', 1, NODE_KEY_MATH);
    const b = identityFromSigningSecret(s, 'n', 1);
    assert.deepEqual(a, b);
  }
});
