// MSE's primitives (see mse.ts for the handshake): the Diffie-Hellman exchange on the spec's 768-bit
// prime, the RC4 streams keyed from its secret, and the byte helpers the handshake parser uses.

import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Rc4 } from './rc4.ts';

/** Bytes of a DH public key or secret (768 bits). */
export const KEY_LEN = 96;
/** The longest random padding either side may send. */
export const MAX_PAD = 512;

// The 768-bit prime from the MSE spec (not Oakley group 1, whose tail differs), generator 2.
const P = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
);
export function sha1(...parts: (Uint8Array | string)[]): Uint8Array {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function toBigInt(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
}

/** Big-endian, left-padded to 96 bytes: both S and Y are hashed or sent at full width. */
function toKeyBytes(n: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(n.toString(16).padStart(KEY_LEN * 2, '0'), 'hex'));
}

function modPow(base: bigint, exp: bigint): bigint {
  let r = 1n;
  let b = base % P;
  while (exp > 0n) {
    if (exp & 1n) r = (r * b) % P;
    b = (b * b) % P;
    exp >>= 1n;
  }
  return r;
}

// BigInt, not node:crypto: createDiffieHellman(prime) checks the prime's primality on every call
// (~125 ms, blocking), and the built-in 'modp1' group is a different prime.
export class DhKey {
  private readonly x: bigint;
  readonly publicKey: Uint8Array;

  constructor() {
    // 160-bit private exponents, as the spec suggests: plenty for a 768-bit group.
    this.x = toBigInt(randomBytes(20)) | 1n; // never 0, which would make Y = 1
    this.publicKey = toKeyBytes(modPow(2n, this.x));
  }

  /** S for the remote's Y; undefined for degenerate keys (0, 1, P-1, ≥P) that would make S guessable. */
  secret(remote: Uint8Array): Uint8Array | undefined {
    const y = toBigInt(remote);
    if (y <= 1n || y >= P - 1n) return undefined;
    return toKeyBytes(modPow(y, this.x));
  }
}

export function rc4Stream(name: 'keyA' | 'keyB', s: Uint8Array, skey: Uint8Array): Rc4 {
  const rc4 = new Rc4(sha1(name, s, skey));
  rc4.discard(1024);
  return rc4;
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return new Uint8Array(b); // always a copy: `b` may be a borrowed read buffer
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Index of `needle` in `hay[from, end)`, or -1. */
export function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  const win = Buffer.from(hay.buffer, hay.byteOffset, Math.min(end, hay.length));
  return win.indexOf(needle, from);
}

export function randomPad(): Uint8Array {
  return randomBytes(randomInt(MAX_PAD + 1));
}
