// The node's own identity (@cascade/identity) rests on the Ed25519 key its state DB has kept since
// the first start, so a node keeps its did and Ethereum account across restarts and upgrades.
import { createECDH, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { identityFromSigningSecret, useEd25519Signer, useEd25519Verifier, useSecp256k1Recoverer, useSecp256k1Signer, type Identity, type PublicKeys } from '@cascade/identity';
import { nativeSecp256k1Recover, nativeSecp256k1Sign } from '@cascade/identity/native-secp256k1';
import { storeNodeKey, type StateDB } from '@cascade/node-state';
import type { Store } from '@cascade/node-state/store';

/** Derived once per open state DB: the derivations (Ed25519, X25519, secp256k1) cost tens of ms,
 *  and several parts of a node ask at start-up. */
const derived = new WeakMap<StateDB, { key: unknown; id: Identity }>();

/** PKCS#8 DER of a raw 32-byte Ed25519 / X25519 secret (RFC 8410): the fixed prefix, then the key. */
const PKCS8_PREFIX = { ed25519: '302e020100300506032b657004220420', x25519: '302e020100300506032b656e04220420' };

function privateKey(curve: 'ed25519' | 'x25519', secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([Buffer.from(PKCS8_PREFIX[curve], 'hex'), secret]), format: 'der', type: 'pkcs8' });
}

function rawPublic(curve: 'ed25519' | 'x25519', secret: Uint8Array): Uint8Array {
  const jwk = createPublicKey(privateKey(curve, secret)).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
}

/** Signing keys already made, by secret (a node signs with one or two). */
const signingKeys = new WeakMap<Uint8Array, KeyObject>();

/** Ed25519 signatures from OpenSSL: the same bytes as the identity package's (node-identity.test.ts). */
export function nativeEd25519Sign(msg: Uint8Array, secret: Uint8Array): Uint8Array {
  let key = signingKeys.get(secret);
  if (!key) signingKeys.set(secret, (key = privateKey('ed25519', secret)));
  return new Uint8Array(sign(null, msg, key));
}

/** SPKI DER of a raw 32-byte Ed25519 public key (RFC 8410): the fixed prefix, then the key. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** OpenSSL's Ed25519 check (RFC 8032); false for anything it cannot read. */
export function nativeEd25519Verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || sig.length !== 64) return false;
  try {
    return verify(null, msg, createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }), sig);
  } catch {
    return false;
  }
}

/** From a node's start on, its signatures come from OpenSSL: Ed25519 (hellos, bindings, DHT
 *  records, chat) and secp256k1 (bindings, receipts); the identity package's own arithmetic costs
 *  ~60-70 ms per curve at its first use in a process. Ed25519 signatures OpenSSL accepts are
 *  accepted without that arithmetic (the hello and binding of every Cascade peer a download meets);
 *  the identity package still judges the ones it refuses. The secp256k1 signers of bindings and
 *  receipts are recovered by libsecp256k1 (OpenSSL cannot recover a key), same rule (issue 60). */
export function useNativeSignatures(): void {
  useEd25519Signer(nativeEd25519Sign);
  useEd25519Verifier(nativeEd25519Verify);
  useSecp256k1Signer(nativeSecp256k1Sign);
  useSecp256k1Recoverer(nativeSecp256k1Recover);
}

/** The identity's public keys from OpenSSL: microseconds, where the identity package's own curves
 *  first build their tables (~150 ms of a start, issue 40). The same keys: node-identity.test.ts. */
export const NATIVE_PUBLIC_KEYS: PublicKeys = {
  ed25519: (secret) => rawPublic('ed25519', secret),
  x25519: (secret) => rawPublic('x25519', secret),
  secp256k1: (secret) => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(secret);
    return new Uint8Array(ecdh.getPublicKey());
  },
};

/** The did of a stored Ed25519 node key (PKCS#8 PEM). */
export function didOfNodeKey(privateKeyPem: string): string {
  const jwk = createPrivateKey(privateKeyPem).export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('the node key is not an Ed25519 private key');
  return identityFromSigningSecret(new Uint8Array(Buffer.from(jwk.d, 'base64url')), 'node', 0, NATIVE_PUBLIC_KEYS).did;
}

export function nodeIdentity(db: StateDB): Identity {
  const key = db.identity.privateKey;
  const known = derived.get(db);
  if (known && known.key === key) return known.id;
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('the node key in the state DB is not an Ed25519 private key');
  const id = identityFromSigningSecret(new Uint8Array(Buffer.from(jwk.d, 'base64url')), 'node', Date.now(), NATIVE_PUBLIC_KEYS);
  derived.set(db, { key, id });
  return id;
}

/**
 * Replaces the node's key with an imported identity's Ed25519 secret (`cascade identity import`):
 * the node then is that did, with that account. Its X25519 key stays derived from the secret. The
 * BitTorrent peer id is kept. Only while the node is stopped: a running node holds the old key.
 * `identity` is read first so that the row (and a peer id to keep) exists.
 */
export async function replaceNodeKey(db: { readonly store: Store; readonly identity: unknown; readonly memberId?: string }, signSecret: Uint8Array): Promise<Identity> {
  const id = identityFromSigningSecret(signSecret, 'node');
  const d = Buffer.from(signSecret).toString('base64url');
  const x = Buffer.from(id.signPublic).toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' });
  void db.identity;
  await storeNodeKey(
    db.store,
    db.memberId ?? '',
    privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string,
  );
  return id;
}
