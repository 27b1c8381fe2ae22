// secp256k1 signatures for a node with OpenSSL's point multiplication: the identity package's
// arithmetic costs ~70 ms of the main thread at its first signature in a process (a `cascade
// download` signs its did ↔ account binding at its first Cascade peer, then a receipt a second),
// OpenSSL's k·G microseconds. The rest is ECDSA as RFC 6979 and Ethereum have it: the nonce from
// HMAC-SHA256 over the secret and the digest (deterministic: the same signature as the package's,
// checked by node-identity.test.ts), s = k⁻¹(z + r·d) mod n made low, and the recovery bit from R.
import { createECDH, createHmac } from 'node:crypto';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
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

/** recovery ‖ r ‖ s (65 bytes) of a 32-byte digest: what the identity package's sign gives. */
export function nativeSecp256k1Sign(digest: Uint8Array, secret: Uint8Array): Uint8Array {
  if (digest.length !== 32 || secret.length !== 32) throw new Error('secp256k1: a 32-byte digest and secret are needed');
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
