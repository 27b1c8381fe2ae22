// secp256k1 signatures in Node (not the browser: a subpath of its own, not the index) with OpenSSL's
// point multiplication and libsecp256k1's recovery: this package's JavaScript arithmetic costs
// ~70 ms of the main thread at its first signature in a process (a `cascade download` signs its
// did ↔ account binding at its first Cascade peer, then a receipt a second), OpenSSL's k·G
// microseconds. The rest is ECDSA as RFC 6979 and Ethereum have it: the nonce from HMAC-SHA256 over
// the secret and the digest (deterministic: the same signature as the JavaScript one, checked by the
// node's node-identity.test.ts), s = k⁻¹(z + r·d) mod n made low, and the recovery bit from R.
import { createECDH, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { SECP256K1_N as N } from './ethereum.ts';

const HALF_N = N >> 1n;

const toBig = (b: Uint8Array): bigint => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
const to32 = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

function mod(a: bigint): bigint {
  const r = a % N;
  return r < 0n ? r + N : r;
}

/** a⁻¹ mod n (n prime), by the extended Euclidean algorithm. */
function invert(a: bigint): bigint {
  let [r0, r1] = [mod(a), N];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0);
}

const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6979 (SHA-256, 256-bit order): candidate nonces for secret `x` and digest `h1`, in order. */
function* nonces(x: Buffer, h1: Buffer): Generator<bigint> {
  let v: Buffer = Buffer.alloc(32, 1);
  let k: Buffer = Buffer.alloc(32, 0);
  k = hmac(k, v, Uint8Array.of(0), x, h1);
  v = hmac(k, v);
  k = hmac(k, v, Uint8Array.of(1), x, h1);
  v = hmac(k, v);
  for (;;) {
    v = hmac(k, v);
    const t = toBig(v);
    if (t >= 1n && t < N) yield t;
    k = hmac(k, v, Uint8Array.of(0));
    v = hmac(k, v);
  }
}

/** recovery ‖ r ‖ s (65 bytes) of a 32-byte digest: what the identity package's sign gives. From
 *  the 4th signature of a process (loading it costs ~20 ms once) libsecp256k1 signs: ~85 µs against
 *  ~1.1 ms for OpenSSL's generic-curve k·G and BigInt inversion (a swarm peer signs a receipt a
 *  second to each Cascade seeder, issue 60). Its nonces are RFC 6979's and its s low: the same bytes
 *  (node-identity.test.ts), once the digest is reduced mod n as bits2octets says (this libsecp256k1
 *  would feed a digest ≥ n, a 2^-128 chance, to its nonce unreduced). */
export function nativeSecp256k1Sign(digest: Uint8Array, secret: Uint8Array): Uint8Array {
  if (digest.length !== 32 || secret.length !== 32) throw new Error('secp256k1: a 32-byte digest and secret are needed');
  const lib = ++signaturesAsked >= 4 || libsecp256k1 !== undefined ? binding() : null;
  if (!lib) return opensslSecp256k1Sign(digest, secret);
  const d = toBig(secret);
  if (d < 1n || d >= N) throw new Error('secp256k1: the secret is out of range');
  const { signature, recid } = lib.ecdsaSign(to32(mod(toBig(digest))), secret);
  return Uint8Array.of(recid, ...signature);
}
let signaturesAsked = 0;

/** The same signature with OpenSSL's k·G (exported for the test that holds both to the package's). */
export function opensslSecp256k1Sign(digest: Uint8Array, secret: Uint8Array): Uint8Array {
  const d = toBig(secret);
  if (d < 1n || d >= N) throw new Error('secp256k1: the secret is out of range');
  const z = mod(toBig(digest));
  const ecdh = createECDH('secp256k1');
  for (const k of nonces(to32(d), to32(z))) {
    ecdh.setPrivateKey(to32(k));
    const point = ecdh.getPublicKey(); // 04 ‖ x ‖ y
    const x = toBig(point.subarray(1, 33));
    const r = mod(x);
    if (r === 0n) continue;
    let s = mod(invert(k) * (z + r * d));
    if (s === 0n) continue;
    let recovery = (point[64]! & 1) | (x >= N ? 2 : 0);
    if (s > HALF_N) {
      s = N - s;
      recovery ^= 1;
    }
    const out = new Uint8Array(65);
    out[0] = recovery;
    out.set(to32(r), 1);
    out.set(to32(s), 33);
    return out;
  }
  throw new Error('unreachable');
}

/** The part of the `secp256k1` package's libsecp256k1 binding used here (its own validation in front). */
interface Libsecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
}

/** Loaded at the second recovery of a process, not at a node's start: loading costs ~15 ms of CPU
 *  once (most of it libsecp256k1's context tables), more than the identity package's first recovery
 *  (7-11 ms), so a download that meets one Cascade peer pays what it did before, and a swarm
 *  (a recovery per peer's binding, one per receipt) 2-4 ms less per recovery from the second on.
 *  null: no binding for this platform (prebuilt: linux-x64, darwin-arm64, win32-x64), the identity
 *  package's JavaScript recovers instead. Its `bindings` entry, not the package's index, which
 *  would quietly fall back to the `elliptic` package. */
let libsecp256k1: Libsecp256k1 | null | undefined;
let recoveriesAsked = 0;

function binding(): Libsecp256k1 | null {
  if (libsecp256k1 === undefined) {
    try {
      libsecp256k1 = createRequire(import.meta.url)('secp256k1/bindings') as Libsecp256k1;
    } catch {
      libsecp256k1 = null;
    }
  }
  return libsecp256k1;
}

/** Whether recoveries go through libsecp256k1 in this process (loads it). */
export function nativeSecp256k1Loaded(): boolean {
  return binding() !== null;
}

/**
 * The uncompressed key that made a recovery ‖ r ‖ s signature of a 32-byte digest, from
 * libsecp256k1 (~0.07 ms; the identity package's JavaScript 2-4 ms in a node, issue 60; the first
 * recovery of a process is left to the package, see above): the same key as the identity package's
 * recovery, high s included (native-secp256k1.test.ts). Undefined for whatever libsecp256k1
 * refuses, which the identity package then judges itself: a refusal costs what it did before, and
 * the signatures a node refuses stay the package's.
 */
export function nativeSecp256k1Recover(signature: Uint8Array, digest: Uint8Array): Uint8Array | undefined {
  if (++recoveriesAsked === 1 && libsecp256k1 === undefined) return undefined;
  const lib = binding();
  if (!lib || signature.length !== 65 || digest.length !== 32 || signature[0]! > 1) return undefined;
  try {
    return lib.ecdsaRecover(signature.subarray(1), signature[0]!, digest, false);
  } catch {
    return undefined;
  }
}
