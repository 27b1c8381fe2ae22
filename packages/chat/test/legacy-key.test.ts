// Identities used to carry a random X25519 key; they now use the one their did:key implies. A message
// sealed to the old key, by a sender that still had its old key too, must still open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { x25519, ed25519 } from '@noble/curves/ed25519.js';
import { b64u, deserializeIdentity, generateIdentity, serializeIdentity } from '@cascade/identity';
import { openDirect, sealDirect } from '../src/wire/envelope.ts';

function oldStyle(name: string) {
  const id = generateIdentity(name);
  const stored = { ...serializeIdentity(id), dhSecret: b64u(x25519.keygen().secretKey) };
  return { stored, id: deserializeIdentity(stored) };
}

test('an identity takes the did:key X25519 key and keeps a stored older one as its legacy key', () => {
  const { stored, id } = oldStyle('bob');
  assert.deepEqual(id.dhPublic, ed25519.utils.toMontgomery(id.signPublic));
  assert.ok(id.legacyDhSecret);
  assert.equal(serializeIdentity(id).dhSecret, stored.dhSecret, 'the export still holds the older key for older versions');
  assert.equal(generateIdentity().legacyDhSecret, undefined);
});

test('a message sealed to an identity\'s legacy X25519 key still opens; one for someone else does not', () => {
  const alice = oldStyle('alice');
  const bob = oldStyle('bob');
  // As an older version sealed it: both sides' X25519 keys are the stored random ones.
  const asBefore = (x: typeof alice) => ({ ...x.id, dhSecret: x.id.legacyDhSecret!, dhPublic: x25519.getPublicKey(x.id.legacyDhSecret!) });
  const env = sealDirect(asBefore(alice), { did: bob.id.did, dh: asBefore(bob).dhPublic }, 'dm', { kind: 'text', text: 'hello from before' }, { ctr: 1 });
  assert.equal((openDirect(bob.id, env) as { text: string }).text, 'hello from before');
  const now = sealDirect(alice.id, { did: bob.id.did, dh: bob.id.dhPublic }, 'dm', { kind: 'text', text: 'hello now' }, { ctr: 2 });
  assert.equal((openDirect(bob.id, now) as { text: string }).text, 'hello now');
  assert.throws(() => openDirect({ ...bob.id, legacyDhSecret: undefined }, env), /decrypt/);
});
