// A user's identity: an Ed25519 signing key (the did:key), the X25519 key the did:key implies (its
// Montgomery form: a did alone is enough to encrypt to someone) and a secp256k1 Ethereum account. The display name is only a label. One identity serves the chat,
// sign-in, the wire extension and the chain. Platform-free (browser and Node).
//
// The Ethereum key is derived from the Ed25519 secret (HKDF-SHA256, info "cascade-identity/ethereum/v1"),
// so an identity exported before the account existed gets the same account on every device, and the
// export format did not change.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { b64u, base58btc, canonicalJson, concat, equalBytes, fromB64u, fromBase58btc, fromUtf8, utf8 } from '../encoding/encoding.ts';
import { addressOfOwnKey, isValidSecp256k1Secret, type Address } from './ethereum.ts';
import { curves } from '#curves';
import { DID_PREFIX, signingKeyFromDid } from './syntax.ts';

export { isDid, signingKeyFromDid } from './syntax.ts';

export interface Identity {
  did: string;
  signPublic: Uint8Array;
  signSecret: Uint8Array;
  /** X25519 key for key agreement: the Montgomery form of the Ed25519 key, so that anyone holding
   *  only the did:key can encrypt to it (private shares). */
  dhPublic: Uint8Array;
  dhSecret: Uint8Array;
  /** The separate random X25519 secret identities had before, kept so messages sealed to it still
   *  open. Absent for identities made since. */
  legacyDhSecret?: Uint8Array;
  /** secp256k1 secret of the identity's own Ethereum account (derived from signSecret). */
  ethSecret: Uint8Array;
  address: Address;
  name: string;
  created: number;
}

const ED25519_MULTICODEC = new Uint8Array([0xed, 0x01]);
export const MAX_NAME_LENGTH = 64;

export function generateIdentity(name = ''): Identity {
  const sign = curves.ed25519().keygen();
  return assemble(sign.secretKey, undefined, name, Date.now());
}

/** The X25519 secret a did:key implies: RFC 7748's birational map of the Ed25519 key. */
export function dhSecretFromSigningSecret(signSecret: Uint8Array): Uint8Array {
  // RFC 7748 §5 / RFC 8032 §5.1.5: the first half of SHA-512 of the secret, clamped (as the noble
  // curves' toMontgomerySecret, which this package used; the same bytes: identity.test.ts). Plain
  // hashing: no curve is loaded for it.
  if (signSecret.length !== 32) throw new Error('Ed25519 secret must be 32 bytes');
  const h = sha512(signSecret).slice(0, 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  return h;
}

/**
 * The three public keys of an identity from its secrets. The default is this package's own
 * (platform-free) arithmetic, whose first use in a process builds each curve's tables: some 150 ms
 * of CPU, more than the rest of a `cascade download`'s start. A platform with native curves (Node's
 * crypto) passes its own; they must give the same keys (node-identity.ts, tested there).
 */
export interface PublicKeys {
  ed25519(secret: Uint8Array): Uint8Array;
  x25519(secret: Uint8Array): Uint8Array;
  /** The uncompressed (65-byte) secp256k1 public key. */
  secp256k1(secret: Uint8Array): Uint8Array;
}

const PURE: PublicKeys = {
  ed25519: (s) => curves.ed25519().getPublicKey(s),
  x25519: (s) => curves.x25519().getPublicKey(s),
  secp256k1: (s) => curves.secp256k1().getPublicKey(s, false),
};

function assemble(signSecret: Uint8Array, legacyDhSecret: Uint8Array | undefined, name: string, created: number, keys: PublicKeys = PURE): Identity {
  const signPublic = keys.ed25519(signSecret);
  const ethSecret = ethereumSecret(signSecret);
  const dhSecret = dhSecretFromSigningSecret(signSecret);
  const legacy = legacyDhSecret && !equalBytes(legacyDhSecret, dhSecret) ? legacyDhSecret : undefined;
  return {
    did: didFromSigningKey(signPublic),
    signPublic,
    signSecret,
    dhPublic: keys.x25519(dhSecret),
    dhSecret,
    ...(legacy ? { legacyDhSecret: legacy } : {}),
    ethSecret,
    address: addressOfOwnKey(keys.secp256k1(ethSecret)),
    name: cleanName(name),
    created,
  };
}

/**
 * An identity from an Ed25519 secret alone (a node's long-term key, kept in its state DB before the
 * identity package existed). Its X25519 key is the did:key's own; the HKDF-derived one such nodes
 * used before stays as the legacy key, so what was sealed to it still opens.
 */
export function identityFromSigningSecret(signSecret: Uint8Array, name = '', created = Date.now(), keys?: PublicKeys): Identity {
  if (signSecret.length !== 32) throw new Error('Ed25519 secret must be 32 bytes');
  const legacy = hkdf(sha256, signSecret, new Uint8Array(0), utf8('cascade-identity/x25519/v1'), 32);
  return assemble(signSecret, legacy, name, created, keys);
}

/** The Ethereum account's key, derived from the Ed25519 secret (see the header). */
export function ethereumSecret(signSecret: Uint8Array): Uint8Array {
  for (let i = 0; ; i++) {
    const k = hkdf(sha256, signSecret, new Uint8Array(0), utf8(`cascade-identity/ethereum/v1${i ? `/${i}` : ''}`), 32);
    // Out of range (0 or ≥ the group order) with probability ~2^-128; then derive again.
    if (isValidSecp256k1Secret(k)) return k;
  }
}

export function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return String(name).replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME_LENGTH);
}

/** did:key for an Ed25519 public key: multicodec 0xed01 + key, base58btc with the 'z' multibase prefix. */
export function didFromSigningKey(pub: Uint8Array): string {
  if (pub.length !== 32) throw new Error('Ed25519 public key must be 32 bytes');
  return DID_PREFIX + base58btc(concat(ED25519_MULTICODEC, pub));
}

/** Short, human-comparable fingerprint of a did: first 10 bytes of SHA-256(key), hex in groups of 4. */
export function fingerprint(did: string): string {
  const h = sha256(signingKeyFromDid(did));
  const hex = Array.from(h.slice(0, 10), (b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
  return hex.match(/.{4}/g)!.join(' ');
}

/** did shortened for labels: did:key:z6Mk…last6 */
export function shortDid(did: string): string {
  return did.length > 24 ? `${did.slice(0, 12)}…${did.slice(-6)}` : did;
}

/**
 * Safety number for a pair of users (Signal-style): 30 digits per user from an iterated SHA-512 of
 * their public key, the two halves sorted so both sides see the same 60 digits in 12 groups of 5.
 */
export function safetyNumber(didA: string, didB: string): string {
  const half = (did: string): string => {
    const key = signingKeyFromDid(did);
    let h = sha512(concat(utf8('cascade-safety-number/v1'), key));
    for (let i = 0; i < 1024; i++) h = sha512(concat(h, key));
    let digits = '';
    for (let i = 0; i < 6; i++) {
      const c = h.slice(i * 5, i * 5 + 5);
      const n = (((c[0]! * 256 + c[1]!) * 256 + c[2]!) * 256 + c[3]!) * 256 + c[4]!;
      digits += String(n % 100000).padStart(5, '0');
    }
    return digits;
  };
  const [x, y] = [half(didA), half(didB)].sort();
  return (x! + y!).match(/.{5}/g)!.join(' ');
}

// ---- signatures with domain separation ----

/** Makes Ed25519 signatures: `(message, secret) → signature`. */
export type Ed25519Signer = (msg: Uint8Array, secret: Uint8Array) => Uint8Array;

let ed25519Sign: Ed25519Signer = (msg, secret) => curves.ed25519().sign(msg, secret);

/**
 * Signs with the platform's Ed25519 from now on (a node: OpenSSL, microseconds, where this package's
 * arithmetic costs ~60 ms at its first use in a process, at each handshake with a new Cascade peer
 * of a short-lived `cascade download`). Ed25519 is deterministic: the signatures are the same bytes,
 * which the node's test checks. Verification: see useEd25519Verifier.
 */
export function useEd25519Signer(sign: Ed25519Signer): void {
  ed25519Sign = sign;
}

export function signBytes(id: Pick<Identity, 'signSecret'>, domain: string, msg: Uint8Array): Uint8Array {
  return ed25519Sign(concat(utf8(domain + '\n'), msg), id.signSecret);
}

/** Checks Ed25519 signatures: `(signature, message, public key) → valid`. */
export type Ed25519Verifier = (sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array) => boolean;

let ed25519QuickVerify: Ed25519Verifier | undefined;

/**
 * Lets the platform's Ed25519 (a node: OpenSSL) accept signatures first: this package's arithmetic
 * builds its tables at its first verification in a process, ~50 ms of a `cascade download` that
 * meets a Cascade peer (its hello and binding). What the platform accepts, RFC 8032's cofactorless
 * check, this package's ZIP 215 check accepts too; a signature the platform refuses is judged here,
 * so every node still accepts exactly the same signatures.
 */
export function useEd25519Verifier(verify: Ed25519Verifier): void {
  ed25519QuickVerify = verify;
}

export function verifyBytes(did: string, domain: string, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (sig.length !== 64) return false;
    const signed = concat(utf8(domain + '\n'), msg);
    const key = signingKeyFromDid(did);
    return ed25519QuickVerify?.(sig, signed, key) === true || curves.ed25519().verify(sig, signed, key);
  } catch {
    return false;
  }
}

/** Sign a JSON object (all members but `sig`, canonical form) and return it with `sig` set. */
export function signObject<T extends { sig?: string }>(id: Identity, domain: string, obj: T): T & { sig: string } {
  const { sig: _drop, ...rest } = obj;
  return { ...obj, sig: b64u(signBytes(id, domain, utf8(canonicalJson(rest)))) };
}

export function verifyObject(did: string, domain: string, obj: { sig?: unknown }): boolean {
  if (typeof obj.sig !== 'string') return false;
  const { sig, ...rest } = obj;
  try {
    return verifyBytes(did, domain, utf8(canonicalJson(rest)), fromB64u(sig as string));
  } catch {
    return false;
  }
}

// ---- storage and passphrase-encrypted export ----

export interface StoredIdentity {
  v: 1;
  did: string;
  signSecret: string;
  dhSecret: string;
  name: string;
  created: number;
}

export function serializeIdentity(id: Identity): StoredIdentity {
  // dhSecret keeps holding the legacy key where there is one: older versions of Cascade reading this
  // export still find the key they knew; newer ones derive the current one from signSecret.
  return { v: 1, did: id.did, signSecret: b64u(id.signSecret), dhSecret: b64u(id.legacyDhSecret ?? id.dhSecret), name: id.name, created: id.created };
}

export function deserializeIdentity(s: StoredIdentity): Identity {
  if (!s || s.v !== 1) throw new Error('unknown identity format');
  const signSecret = fromB64u(s.signSecret);
  const dhSecret = fromB64u(s.dhSecret);
  if (signSecret.length !== 32 || dhSecret.length !== 32) throw new Error('corrupt identity keys');
  const id = assemble(signSecret, dhSecret, s.name ?? '', s.created ?? Date.now());
  if (id.did !== s.did) throw new Error('identity keys do not match its did');
  return id;
}

export interface ExportOptions {
  /** scrypt cost; default 2^16 (about half a second in a browser). Lower only in tests. */
  N?: number;
}

export interface IdentityExportFile {
  format: 'cascade-identity';
  v: 1;
  did: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: 'xchacha20poly1305';
  nonce: string;
  ct: string;
}

async function exportKey(passphrase: string, salt: Uint8Array, N: number, r: number, p: number): Promise<Uint8Array> {
  if (!passphrase) throw new Error('a passphrase is required');
  return curves.scryptAsync()(utf8(passphrase.normalize('NFKC')), salt, { N, r, p, dkLen: 32, maxmem: 2 ** 30 });
}

/** Passphrase-encrypted identity file (JSON text): scrypt → XChaCha20-Poly1305, the did as associated data. */
export async function exportIdentity(id: Identity, passphrase: string, opts: ExportOptions = {}): Promise<string> {
  const N = opts.N ?? 2 ** 16;
  const r = 8;
  const p = 1;
  const salt = randomBytes(16);
  const nonce = randomBytes(24);
  const key = await exportKey(passphrase, salt, N, r, p);
  const ct = curves.xchacha20poly1305()(key, nonce, utf8(id.did)).encrypt(utf8(JSON.stringify(serializeIdentity(id))));
  const file: IdentityExportFile = {
    format: 'cascade-identity', v: 1, did: id.did,
    kdf: { name: 'scrypt', N, r, p, salt: b64u(salt) }, cipher: 'xchacha20poly1305', nonce: b64u(nonce), ct: b64u(ct),
  };
  return JSON.stringify(file, null, 2);
}

export async function importIdentity(text: string, passphrase: string): Promise<Identity> {
  let f: IdentityExportFile;
  try {
    f = JSON.parse(text) as IdentityExportFile;
  } catch {
    throw new Error('not a Cascade identity file');
  }
  if (f?.format !== 'cascade-identity' || f.v !== 1 || f.kdf?.name !== 'scrypt' || f.cipher !== 'xchacha20poly1305') {
    throw new Error('not a Cascade identity file');
  }
  const { N, r, p } = f.kdf;
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > 2 ** 20 || r > 16 || p > 4) throw new Error('unsupported key derivation parameters');
  const key = await exportKey(passphrase, fromB64u(f.kdf.salt), N, r, p);
  let plain: Uint8Array;
  try {
    plain = curves.xchacha20poly1305()(key, fromB64u(f.nonce), utf8(f.did)).decrypt(fromB64u(f.ct));
  } catch {
    throw new Error('wrong passphrase or damaged file');
  }
  const id = deserializeIdentity(JSON.parse(fromUtf8(plain)) as StoredIdentity);
  if (id.did !== f.did) throw new Error('identity file is inconsistent');
  return id;
}
