// The derivations done without the noble curves (so that Node need not load them: curves-node.ts)
// give the curves' own bytes. That a node then loads no curve: packages/node/test/node-identity.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { addressOfOwnKey, addressOfPublicKey, dhSecretFromSigningSecret, isValidSecp256k1Secret } from '../index.ts';

test('the X25519 secret of a did:key is the curves\' toMontgomerySecret, byte for byte', () => {
  for (let i = 0; i < 200; i++) {
    const s = new Uint8Array(randomBytes(32));
    assert.deepEqual(Buffer.from(dhSecretFromSigningSecret(s)), Buffer.from(ed25519.utils.toMontgomerySecret(s)));
  }
  for (const s of [new Uint8Array(32), new Uint8Array(32).fill(255)]) assert.deepEqual(Buffer.from(dhSecretFromSigningSecret(s)), Buffer.from(ed25519.utils.toMontgomerySecret(s)));
  assert.throws(() => dhSecretFromSigningSecret(new Uint8Array(31)), /32 bytes/);
});

test('a secp256k1 secret is valid exactly when the curve says so, at the edges too', () => {
  const n = secp256k1.Point.Fn.ORDER;
  const be = (v: bigint) => new Uint8Array(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
  for (const v of [0n, 1n, 2n, n - 1n, n, n + 1n, 2n ** 256n - 1n]) assert.equal(isValidSecp256k1Secret(be(v)), secp256k1.utils.isValidSecretKey(be(v)), `k = ${v}`);
  for (let i = 0; i < 100; i++) {
    const k = new Uint8Array(randomBytes(32));
    assert.equal(isValidSecp256k1Secret(k), secp256k1.utils.isValidSecretKey(k));
  }
  assert.equal(isValidSecp256k1Secret(new Uint8Array(31).fill(1)), false, 'not 32 bytes');
});

test('an own key\'s address is the checked one\'s; anything but 65 bytes 04 ‖ x ‖ y is refused', () => {
  for (let i = 0; i < 20; i++) {
    const pub = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
    assert.equal(addressOfOwnKey(pub), addressOfPublicKey(pub));
  }
  const compressed = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
  assert.throws(() => addressOfOwnKey(compressed), /uncompressed/);
});
