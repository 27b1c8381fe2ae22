// Sign-in messages: a round trip, and what a verifier must refuse (another did's key, an edited
// message, a message outside the canonical layout, garbage signatures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity, parseSignInMessage, signInMessage, signSignIn, verifySignIn } from '../index.ts';

const user = generateIdentity('user');
const node = generateIdentity('node');
const fields = {
  origin: 'http://127.0.0.1:8080',
  did: user.did,
  node: node.did,
  nonce: 'abcdefghijklmnop1234',
  issuedAt: new Date('2026-11-23T10:00:00.000Z'),
  expiresAt: new Date('2026-11-23T10:05:00.000Z'),
};

test('a sign-in message parses back to its fields and verifies with the did that signed it', () => {
  const message = signInMessage(fields);
  assert.deepEqual(parseSignInMessage(message), fields);
  const sig = signSignIn(user, message);
  assert.equal(verifySignIn(user.did, message, sig), true);
  assert.equal(verifySignIn(node.did, message, sig), false, 'another did');
  assert.equal(verifySignIn(user.did, message.replace('8080', '8081'), sig), false, 'edited message');
  assert.equal(verifySignIn(user.did, message, sig.slice(0, -2)), false, 'truncated signature');
  assert.equal(verifySignIn(user.did, message, 42), false);
  assert.equal(verifySignIn(user.did, message, '!!!'), false);
});

test('messages outside the layout are refused with a reason', () => {
  const message = signInMessage(fields);
  for (const bad of [
    undefined, 42, '', message + '\nExtra: field', message.replace('Nonce: ', 'Nonce:'), message.replace(user.did, 'did:key:zNope'),
    message.replace('abcdefghijklmnop1234', 'short'), message.replace('2026-11-23T10:05:00.000Z', 'tomorrow'),
    message.replace('2026-11-23T10:05:00.000Z', '2026-11-23T10:05:00Z'), 'x'.repeat(5000),
  ]) {
    assert.ok(parseSignInMessage(bad) instanceof Error, `accepted: ${String(bad).slice(0, 40)}`);
  }
});
