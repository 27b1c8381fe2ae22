// The chat's use of the shared identity (@cascade/identity): a profile binding a did:key to its
// X25519 key and a display name, signed by the did's key. Everything else comes from the identity
// package, re-exported so the chat's modules and its users import from one place.
import { b64u, fromB64u, isDid, MAX_NAME_LENGTH, signObject, verifyObject, type Identity } from '@cascade/identity';

export * from '@cascade/identity';

/** Public, signed statement binding a did:key to its X25519 key and a display name. */
export interface Profile {
  v: 1;
  did: string;
  dh: string; // base64url X25519 public key
  name: string;
  ts: number;
  sig: string; // base64url Ed25519 signature by the did's key
}

export const PROFILE_DOMAIN = 'cascade-chat/profile/v1';

export function makeProfile(id: Identity, ts = Date.now()): Profile {
  return signObject(id, PROFILE_DOMAIN, { v: 1 as const, did: id.did, dh: b64u(id.dhPublic), name: id.name, ts, sig: '' });
}

export function verifyProfile(p: unknown): p is Profile {
  if (!p || typeof p !== 'object') return false;
  const o = p as Record<string, unknown>;
  if (o.v !== 1 || !isDid(o.did) || typeof o.dh !== 'string' || typeof o.name !== 'string' || typeof o.ts !== 'number') return false;
  if (o.name.length > MAX_NAME_LENGTH) return false;
  try {
    if (fromB64u(o.dh).length !== 32) return false;
  } catch {
    return false;
  }
  return verifyObject(o.did, PROFILE_DOMAIN, o);
}
