// The node's own identity (@cascade/identity) rests on the Ed25519 key its state DB has kept since
// the first start, so a node keeps its did and Ethereum account across restarts and upgrades.
import { identityFromSigningSecret, type Identity } from '@cascade/identity';
import type { StateDB } from './state.ts';

export function nodeIdentity(db: StateDB): Identity {
  const jwk = db.identity.privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('the node key in the state DB is not an Ed25519 private key');
  return identityFromSigningSecret(new Uint8Array(Buffer.from(jwk.d, 'base64url')), 'node');
}
