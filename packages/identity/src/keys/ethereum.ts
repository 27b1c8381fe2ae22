// The identity's Ethereum account: a secp256k1 key, its address (EIP-55 checksummed), and EIP-191
// "personal_sign" signatures, the kind every wallet (MetaMask through EIP-1193) makes, so a binding
// signed here verifies with viem, ethers or a contract's ecrecover, and one signed by an external
// wallet verifies here. Platform-free.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex as toHex, hexToBytes } from '@noble/hashes/utils.js';
import { concat, utf8 } from '../encoding/encoding.ts';
import { isAddress, type Address } from './syntax.ts';
import { curves } from '#curves';

// Their home is ./syntax.ts (no curves there); exported from here as before.
export { isAddress, type Address };
export type Hex = `0x${string}`;

function fromHex(h: string): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(h)) throw new Error('not 0x-prefixed hex');
  return hexToBytes(h.slice(2));
}

/** EIP-55 mixed-case checksum of a 20-byte address. */
export function checksumAddress(address: string): Address {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`not an Ethereum address: ${address.slice(0, 50)}`);
  const lower = address.slice(2).toLowerCase();
  const hash = toHex(keccak_256(utf8(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out as Address;
}

export function addressOfPublicKey(pub: Uint8Array): Address {
  return addressOfUncompressed(curves.secp256k1().Point.fromBytes(pub).toBytes(false));
}

/** The address of an identity's own key, made from its secret (65 bytes, 04 ‖ x ‖ y, on the curve
 *  by construction): no point check, so no curve is loaded for it. Anything else: addressOfPublicKey. */
export function addressOfOwnKey(pub: Uint8Array): Address {
  if (pub.length !== 65 || pub[0] !== 4) throw new Error('not an uncompressed secp256k1 public key');
  return addressOfUncompressed(pub);
}

/** secp256k1's group order n. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Whether 32 bytes are a secp256k1 secret key: 0 < k < n (as the curve's isValidSecretKey). */
export function isValidSecp256k1Secret(k: Uint8Array): boolean {
  if (k.length !== 32) return false;
  const v = BigInt('0x' + toHex(k));
  return v > 0n && v < SECP256K1_N;
}

/** The address of a 65-byte 04 ‖ x ‖ y key known to be on the curve. */
function addressOfUncompressed(pub: Uint8Array): Address {
  return checksumAddress('0x' + toHex(keccak_256(pub.subarray(1)).subarray(12)));
}

export function addressFromSecret(secret: Uint8Array): Address {
  return addressOfPublicKey(curves.secp256k1().getPublicKey(secret));
}

/** keccak256("\x19Ethereum Signed Message:\n" + byte length + message): what personal_sign signs. */
function personalHash(message: string): Uint8Array {
  const body = utf8(message);
  return keccak_256(concat(utf8(`\x19Ethereum Signed Message:\n${body.length}`), body));
}

/** A recoverable secp256k1 signature of a 32-byte digest, RFC 6979 nonce, low s: 65 bytes
 *  recovery ‖ r ‖ s (the identity package's `format: 'recovered'`). */
export type Secp256k1Signer = (digest: Uint8Array, secret: Uint8Array) => Uint8Array;

let secp256k1Sign: Secp256k1Signer = (digest, secret) => curves.secp256k1().sign(digest, secret, { prehash: false, format: 'recovered' });

/**
 * Signs with a faster secp256k1 from now on (a node: its point multiplication from OpenSSL, see
 * node-identity.ts): this package's first signature in a process costs ~70 ms, paid at the first
 * Cascade peer of a short-lived download. RFC 6979 makes the signature one value, which the node's
 * test checks against this package's. Recovery and verification stay here.
 */
export function useSecp256k1Signer(sign: Secp256k1Signer): void {
  secp256k1Sign = sign;
}

/** An Ethereum signature of a 32-byte digest: 65 bytes r ‖ s ‖ v (v = 27 or 28), as 0x-hex
 *  (deterministic, low s: what viem and ethers make for the same key and digest). */
export function signDigest(secret: Uint8Array, digest: Uint8Array): Hex {
  const sig = secp256k1Sign(digest, secret);
  return ('0x' + toHex(sig.subarray(1)) + (27 + sig[0]!).toString(16)) as Hex;
}

/** Recovers the 65-byte uncompressed (04 ‖ x ‖ y) key of a recovery ‖ r ‖ s signature (recovery 0
 *  or 1) of a 32-byte digest, or undefined when it has no key to give: this package then judges the
 *  signature itself, so a faster recoverer changes what is accepted only if it returns a key this
 *  package would not (the node's test compares them). */
export type Secp256k1Recoverer = (signature: Uint8Array, digest: Uint8Array) => Uint8Array | undefined;

let secp256k1Recover: Secp256k1Recoverer | undefined;

/**
 * Recovers signers with a faster secp256k1 from now on (a node: libsecp256k1, see node-identity.ts):
 * this package's recovery costs 2-4 ms of the main thread in a node, for every Cascade peer's binding
 * and every seeding receipt checked (issue 60).
 */
export function useSecp256k1Recoverer(recover: Secp256k1Recoverer): void {
  secp256k1Recover = recover;
}

/** The address whose key made `signature` (r ‖ s ‖ v) of `digest`; undefined for a malformed one. */
export function recoverDigestSigner(digest: Uint8Array, signature: string): Address | undefined {
  try {
    const raw = fromHex(signature);
    if (raw.length !== 65) return undefined;
    const v = raw[64]!;
    const recovery = v >= 27 ? v - 27 : v;
    if (recovery !== 0 && recovery !== 1) return undefined;
    const sig = concat(Uint8Array.of(recovery), raw.subarray(0, 64));
    const fast = digest.length === 32 ? secp256k1Recover?.(sig, digest) : undefined;
    if (fast?.length === 65 && fast[0] === 4) return addressOfUncompressed(fast);
    return addressOfPublicKey(curves.secp256k1().recoverPublicKey(sig, digest, { prehash: false }));
  } catch {
    return undefined;
  }
}

/** personal_sign: 65 bytes r ‖ s ‖ v (v = 27 or 28), as 0x-hex. */
export function personalSign(secret: Uint8Array, message: string): Hex {
  return signDigest(secret, personalHash(message));
}

/** The address that made a personal_sign signature of `message`; undefined for a malformed one. */
export function recoverPersonalSigner(message: string, signature: string): Address | undefined {
  return recoverDigestSigner(personalHash(message), signature);
}

export function verifyPersonalSignature(address: string, message: string, signature: string): boolean {
  const signer = recoverPersonalSigner(message, signature);
  return signer !== undefined && isAddress(address) && signer.toLowerCase() === address.toLowerCase();
}
