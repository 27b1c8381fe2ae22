// What a did:key and an Ethereum address look like, checked without the curves: @cascade/identity's
// own `./syntax`, for code that only validates names (the node's member store, which every verb
// loads) and should not load @noble's curves and hashes (some 35 modules) for a regular expression
// and a base58 decode (issue 64 item 4). The package's root exports the same functions.
import { fromBase58btc } from '../encoding/encoding.ts';

export type Address = `0x${string}`;

export const DID_PREFIX = 'did:key:z';

export function isAddress(s: unknown): s is Address {
  return typeof s === 'string' && /^0x[0-9a-fA-F]{40}$/.test(s);
}

/** The Ed25519 public key inside a did:key; throws for anything else. */
export function signingKeyFromDid(did: string): Uint8Array {
  if (typeof did !== 'string' || !did.startsWith(DID_PREFIX) || did.length > 80) throw new Error('not an Ed25519 did:key');
  let raw: Uint8Array;
  try {
    raw = fromBase58btc(did.slice(DID_PREFIX.length));
  } catch {
    throw new Error('not an Ed25519 did:key');
  }
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new Error('not an Ed25519 did:key');
  return raw.slice(2);
}

export function isDid(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  try {
    signingKeyFromDid(s);
    return true;
  } catch {
    return false;
  }
}
