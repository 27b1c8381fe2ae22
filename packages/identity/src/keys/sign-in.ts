// Sign-in with a did:key: the node issues a challenge message, the browser signs it with the did's
// Ed25519 key (domain SIGN_IN_DOMAIN), the node checks it. The message is human-readable text in a
// fixed layout, like EIP-4361 (Sign-In with Ethereum), which the node uses for Ethereum accounts.
// Platform-free: the page builds nothing itself, it signs what the node sent after reading it back
// with parseSignInMessage (so it never signs for another origin or another did).
import { fromB64u, b64u, utf8 } from '../encoding/encoding.ts';
import { isDid, signBytes, verifyBytes, type Identity } from './identity.ts';

export const SIGN_IN_DOMAIN = 'cascade-identity/sign-in/v1';
const HEADER = 'Cascade sign-in';

export interface SignInFields {
  /** The web origin the user signs in to, e.g. http://127.0.0.1:8080 */
  origin: string;
  /** The did:key signing in. */
  did: string;
  /** The node's own did:key: a signature for one node is worthless at another. */
  node: string;
  /** Single-use, at least 16 characters of [A-Za-z0-9_-]. */
  nonce: string;
  issuedAt: Date;
  expiresAt: Date;
}

export function signInMessage(f: SignInFields): string {
  return [
    `${HEADER}`,
    '',
    `${f.origin} asks you to sign in with your Cascade identity.`,
    '',
    `Origin: ${f.origin}`,
    `DID: ${f.did}`,
    `Node: ${f.node}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt.toISOString()}`,
    `Expiration Time: ${f.expiresAt.toISOString()}`,
  ].join('\n');
}

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_MESSAGE = 2048;

/** The fields of a message in signInMessage's layout, or an Error saying what is off. */
export function parseSignInMessage(message: unknown): SignInFields | Error {
  if (typeof message !== 'string' || message.length > MAX_MESSAGE) return new Error('not a sign-in message');
  const lines = message.split('\n');
  if (lines.length !== 10 || lines[0] !== HEADER || lines[1] !== '' || lines[3] !== '') return new Error('not a sign-in message');
  const field = (i: number, name: string): string | undefined => {
    const line = lines[i]!;
    return line.startsWith(`${name}: `) ? line.slice(name.length + 2) : undefined;
  };
  const origin = field(4, 'Origin');
  const did = field(5, 'DID');
  const node = field(6, 'Node');
  const nonce = field(7, 'Nonce');
  const issued = field(8, 'Issued At');
  const expires = field(9, 'Expiration Time');
  if (origin === undefined || did === undefined || node === undefined || nonce === undefined || issued === undefined || expires === undefined) {
    return new Error('a sign-in message field is missing');
  }
  if (!isDid(did) || !isDid(node)) return new Error('the sign-in message names no valid did:key');
  if (!NONCE.test(nonce)) return new Error('the sign-in nonce is malformed');
  const issuedAt = new Date(issued);
  const expiresAt = new Date(expires);
  if (Number.isNaN(issuedAt.getTime()) || Number.isNaN(expiresAt.getTime())) return new Error('the sign-in times are malformed');
  const f = { origin, did, node, nonce, issuedAt, expiresAt };
  // Round trip: one message text per set of fields, so nothing unseen can ride along.
  if (signInMessage(f) !== message) return new Error('the sign-in message is not in the canonical layout');
  return f;
}

/** base64url Ed25519 signature of the message by the identity's did key. */
export function signSignIn(id: Pick<Identity, 'signSecret'>, message: string): string {
  return b64u(signBytes(id, SIGN_IN_DOMAIN, utf8(message)));
}

export function verifySignIn(did: string, message: string, signature: unknown): boolean {
  if (typeof signature !== 'string' || signature.length > 200) return false;
  let sig: Uint8Array;
  try {
    sig = fromB64u(signature);
  } catch {
    return false;
  }
  return verifyBytes(did, SIGN_IN_DOMAIN, utf8(message), sig);
}
