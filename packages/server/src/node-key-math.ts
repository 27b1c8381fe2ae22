// The public halves of the node identity's keys with OpenSSL (node:crypto) instead of noble: noble
// builds its precomputed tables on first use, ~0.1 s of CPU at every start of every node, even a
// one-shot download that never signs anything (issue 40). Same bytes (tested against noble).
import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';
import type { PublicKeyMath } from '@cascade/identity';

// PKCS#8 wrappers of a raw 32-byte OKP secret (RFC 8410): Ed25519 and X25519.
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function okpPublic(prefix: Buffer, secret: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.concat([prefix, secret]), format: 'der', type: 'pkcs8' });
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('OpenSSL gave no public key');
  return new Uint8Array(Buffer.from(x, 'base64url'));
}

export const NODE_KEY_MATH: PublicKeyMath = {
  ed25519Public: (secret) => okpPublic(ED25519_PKCS8, secret),
  x25519Public: (secret) => okpPublic(X25519_PKCS8, secret),
  secp256k1Public: (secret) => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(secret);
    return new Uint8Array(ecdh.getPublicKey());
  },
};
