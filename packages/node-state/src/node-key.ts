// The node's Ed25519 key pair and 20-byte BitTorrent peer id (its row of the `identity` table: one
// per member id, schema 19), made on first use and kept forever, read through the Store when the
// node starts.

import { generateKeyPairSync, createPrivateKey, createPublicKey, randomInt } from 'node:crypto';
import type { Queryable } from './store.ts';
import type { Identity, Row } from './records.ts';
import { INSERT_IDENTITY } from './upserts.ts';

export const PEER_ID_PREFIX = '-CS0100-';
export const SELECT_NODE_KEY = 'SELECT peer_id, private_key, public_key FROM identity WHERE member_id = ?';

function randomPeerId(): Uint8Array {
  // Printable random part: peer ids show up in tracker logs and peer lists.
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = PEER_ID_PREFIX;
  while (s.length < 20) s += alphabet[randomInt(alphabet.length)];
  return new TextEncoder().encode(s);
}

/** INSERT_IDENTITY's parameters for a new key pair and peer id of a member. */
export function newNodeKey(memberId: string, now: number): [string, Uint8Array, string, string, number] {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return [memberId, randomPeerId(), privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, publicKey.export({ format: 'pem', type: 'spki' }) as string, now];
}

/** The stored row as the node uses it. */
export function toIdentity(row: Row): Identity {
  const peerId = new Uint8Array(row.peer_id as Uint8Array);
  const privateKey = createPrivateKey(row.private_key as string);
  const publicKey = createPublicKey(row.public_key as string);
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    peerId,
    peerIdHex: Buffer.from(peerId).toString('hex'),
    privateKey,
    publicKey,
    publicKeyHex: Buffer.from(jwk.x!, 'base64url').toString('hex'),
  };
}

/** A member's node key ('' = a single node's), made now if there is none: if another process with
 *  the same member id made one meanwhile, theirs wins and is read back. */
export async function loadNodeKey(store: Queryable, memberId = ''): Promise<Identity> {
  let row = await store.get(SELECT_NODE_KEY, [memberId]);
  if (!row) {
    await store.run(INSERT_IDENTITY, newNodeKey(memberId, Date.now()));
    row = await store.get(SELECT_NODE_KEY, [memberId]);
    if (!row) throw new Error('the node key could not be stored');
  }
  return toIdentity(row);
}

/** Replaces a member's key pair (PEM), keeping its peer id; false if it has no key yet. */
export async function storeNodeKey(store: Queryable, memberId: string, privateKeyPem: string, publicKeyPem: string): Promise<boolean> {
  const { changes } = await store.run('UPDATE identity SET private_key = ?, public_key = ? WHERE member_id = ?', [privateKeyPem, publicKeyPem, memberId]);
  return changes > 0;
}
