// The node's own identity (@cascade/identity) rests on the Ed25519 key its state DB has kept since
// the first start, so a node keeps its did and Ethereum account across restarts and upgrades.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { identityFromSigningSecret, type Identity } from '@cascade/identity';
import type { StateDB } from '../state/state-db.ts';

/** Derived once per open state DB: the derivations (Ed25519, X25519, secp256k1) cost tens of ms,
 *  and several parts of a node ask at start-up. */
const derived = new WeakMap<StateDB, { key: unknown; id: Identity }>();

export function nodeIdentity(db: StateDB): Identity {
  const key = db.identity.privateKey;
  const known = derived.get(db);
  if (known && known.key === key) return known.id;
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('the node key in the state DB is not an Ed25519 private key');
  const id = identityFromSigningSecret(new Uint8Array(Buffer.from(jwk.d, 'base64url')), 'node');
  derived.set(db, { key, id });
  return id;
}

/**
 * Replaces the node's key with an imported identity's Ed25519 secret (`cascade identity import`):
 * the node then is that did, with that account. Its X25519 key stays derived from the secret. The
 * BitTorrent peer id is kept. Only while the node is stopped: a running node holds the old key.
 */
export function replaceNodeKey(db: StateDB, signSecret: Uint8Array): Identity {
  const id = identityFromSigningSecret(signSecret, 'node');
  const d = Buffer.from(signSecret).toString('base64url');
  const x = Buffer.from(id.signPublic).toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' });
  void db.identity; // made first, so there is a row (and a peer id) to keep
  db.prepare('UPDATE identity SET private_key = ?, public_key = ? WHERE id = 1').run(
    privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string,
  );
  return id;
}
