// Keys of a share. The content key K is random; everything else is derived from it with HKDF-SHA256
// and the share's salt, so one 32-byte value (in an envelope or a link) is all a reader needs.
// Recipients' X25519 keys are the Montgomery form of their did:key Ed25519 keys: a did alone is
// enough to share with someone.
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { signingKeyFromDid } from '@cascade/identity';

export const KEY_BYTES = 32;
export const CHECK_BYTES = 16;
const enc = new TextEncoder();

export function newContentKey(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES));
}

/** X25519 public key of a did:key; throws an Error naming the did when it is not an Ed25519 did:key. */
export function recipientKeyFromDid(did: string): Uint8Array {
  let pub: Uint8Array;
  try {
    pub = signingKeyFromDid(did);
  } catch (err) {
    const shown = did.length > 80 ? `${did.slice(0, 80)}…` : did;
    throw new Error(`"${shown}" is not a did:key of an Ed25519 identity (${(err as Error).message})`);
  }
  try {
    return ed25519.utils.toMontgomery(pub);
  } catch {
    throw new Error(`"${did.slice(0, 80)}" is not a did:key of an Ed25519 identity (its key is not a curve point)`);
  }
}

/** X25519 secret matching recipientKeyFromDid(did) for the identity whose Ed25519 secret this is. */
export function recipientSecretFromSigningSecret(signSecret: Uint8Array): Uint8Array {
  if (signSecret.length !== 32) throw new Error('an Ed25519 signing secret is 32 bytes');
  return ed25519.utils.toMontgomerySecret(signSecret);
}

export type Purpose = 'chunks' | 'manifest' | 'check';

/** HKDF-SHA256(ikm = K, salt = S, info = "cascade-private/v1/<purpose>"). */
export function deriveKey(key: Uint8Array, salt: Uint8Array, purpose: Purpose): Uint8Array {
  return hkdf(sha256, key, salt, enc.encode(`cascade-private/v1/${purpose}`), purpose === 'check' ? CHECK_BYTES : KEY_BYTES);
}

/** An AES-256-GCM key for WebCrypto (Node and browsers alike; AES-NI where the CPU has it). */
export function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
}
