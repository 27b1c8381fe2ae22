// The Cascade wire extension's messages (BEP 10 extension "cascade"; docs/identity.md). Each side
// sends a random challenge; each answers the other's with a hello signed by its did's key over the
// infohash, both peer ids and that challenge, so a hello proves its sender holds the key on this
// very connection and cannot be replayed to another. The hello carries the did ↔ account binding.
import { b64u, canonicalJson, concat, fromB64u, fromUtf8, utf8 } from '../encoding/encoding.ts';
import { verifyBinding, type Binding } from '../keys/binding.ts';
import { signBytes, verifyBytes, type Identity } from '../keys/identity.ts';

export const HELLO_DOMAIN = 'cascade-wire/hello/v1';
export const MAX_MESSAGE = 8 * 1024;
const NONCE_BYTES = 16;

export interface Connection {
  infoHash: Uint8Array;
  /** peer id of the hello's sender and of its receiver (whose challenge it answers) */
  senderPeerId: Uint8Array;
  receiverPeerId: Uint8Array;
  receiverNonce: Uint8Array;
}

export interface Challenge {
  t: 'challenge';
  v: 1;
  nonce: string;
}

export interface Hello extends Binding {
  t: 'hello';
  client: string;
  /** the sender's own claim, 0..1: shown, never trusted beyond a tie-break */
  reputation: number;
  sig: string;
}

export interface VerifiedHello {
  did: string;
  address: string;
  client: string;
  reputation: number;
}

export function newNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

/** A message of the extension on the wire: UTF-8 JSON (challenges, hellos, and the types built on them). */
export function encodeMessage(m: Challenge | Hello | Record<string, unknown>): Uint8Array {
  return utf8(JSON.stringify(m));
}

/** A message from the wire, or an error saying why it is not one. */
export function decodeMessage(payload: Uint8Array): Record<string, unknown> | Error {
  if (payload.length > MAX_MESSAGE) return new Error(`message of ${payload.length} bytes (limit ${MAX_MESSAGE})`);
  let m: unknown;
  try {
    m = JSON.parse(fromUtf8(payload));
  } catch {
    return new Error('not UTF-8 JSON');
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return new Error('not a JSON object');
  return m as Record<string, unknown>;
}

function signedBytes(c: Connection, fields: object): Uint8Array {
  return concat(c.infoHash, c.senderPeerId, c.receiverPeerId, c.receiverNonce, utf8(canonicalJson(fields)));
}

export function makeHello(id: Identity, binding: Binding, c: Connection, claim: { client: string; reputation: number }): Hello {
  const fields = {
    t: 'hello' as const, v: 1 as const, did: binding.did, address: binding.address, didSig: binding.didSig, addressSig: binding.addressSig,
    client: claim.client.slice(0, 64), reputation: Math.max(0, Math.min(1, claim.reputation)),
  };
  if (binding.did !== id.did) throw new Error('the binding is not this identity’s');
  return { ...fields, sig: b64u(signBytes(id, HELLO_DOMAIN, signedBytes(c, fields))) };
}

/** The sender's identity if the hello is well-formed, its binding holds and it signs this connection. */
export function verifyHello(m: Record<string, unknown>, c: Connection): VerifiedHello | Error {
  if (m.t !== 'hello' || m.v !== 1) return new Error('not a version 1 hello');
  if (typeof m.client !== 'string' || m.client.length > 64) return new Error('bad client field');
  if (typeof m.reputation !== 'number' || !(m.reputation >= 0 && m.reputation <= 1)) return new Error('bad reputation field');
  if (typeof m.sig !== 'string') return new Error('no signature');
  const { sig, ...fields } = m;
  const binding = { v: 1, did: m.did, address: m.address, didSig: m.didSig, addressSig: m.addressSig };
  if (!verifyBinding(binding)) return new Error('its did ↔ account binding does not verify');
  let raw: Uint8Array;
  try {
    raw = fromB64u(sig as string);
  } catch {
    return new Error('signature is not base64url');
  }
  if (!verifyBytes(binding.did, HELLO_DOMAIN, signedBytes(c, fields), raw)) {
    return new Error('signature does not cover this connection (replayed, or not made by the did’s key)');
  }
  return { did: binding.did, address: binding.address, client: m.client, reputation: m.reputation };
}
