// A node recovers the signers of bindings and receipts with libsecp256k1 (issue 60: the identity
// package's JavaScript costs 2-4 ms a recovery in a node). Nothing it answers may differ from the
// package's own recovery: the same address for every good signature, and the same refusals (high s,
// a wrong v, r or s out of range, a point that is not on the curve, the point at infinity...).
// Every reference is computed before this process switches (useNativeSignatures lasts for it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { recoverDigestSigner, signDigest } from '@cascade/identity';
import { nativeSecp256k1Loaded, nativeSecp256k1Recover } from '@cascade/identity/native-secp256k1';
import { NATIVE_PUBLIC_KEYS, useNativeSignatures } from '../src/core/node-identity.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex32 = (n: bigint): string => n.toString(16).padStart(64, '0');
const big = (h: string): bigint => BigInt('0x' + h);

function invert(a: bigint): bigint {
  let [r0, r1, s0, s1] = [((a % N) + N) % N, N, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return ((s0 % N) + N) % N;
}

/** r ‖ s ‖ v as the 0x-hex a receipt or binding carries. */
const sigHex = (r: bigint, s: bigint, v: number): string => '0x' + hex32(r) + hex32(s) + v.toString(16).padStart(2, '0');

interface Case { digest: Uint8Array; signature: string; why: string }

function cases(): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < 400; i++) {
    const secret = new Uint8Array(randomBytes(32));
    const digest = i === 0 ? new Uint8Array(32) : i === 1 ? new Uint8Array(32).fill(0xff) : new Uint8Array(randomBytes(32));
    const good = signDigest(secret, digest);
    const r = big(good.slice(2, 66));
    const s = big(good.slice(66, 130));
    const v = parseInt(good.slice(130), 16);
    out.push({ digest, signature: good, why: 'good' });
    if (i >= 60) continue;
    out.push({ digest, signature: sigHex(r, s, v - 27), why: 'good, v as 0/1' });
    out.push({ digest, signature: sigHex(r, s, v ^ 7), why: 'wrong v' }); // 27 <-> 28
    out.push({ digest, signature: sigHex(r, N - s, v ^ 7), why: 'high s, v flipped (the same key)' });
    out.push({ digest, signature: sigHex(r, N - s, v), why: 'high s' });
    const other = digest.slice();
    other[i % 32]! ^= 1 << (i % 8);
    out.push({ digest: other, signature: good, why: 'wrong message' });
    for (const raw of [0, 1]) out.push({ digest, signature: sigHex(r, s, raw), why: `raw v ${raw}` });
    for (const bad of [2, 3, 26, 29, 255]) out.push({ digest, signature: sigHex(r, s, bad), why: `v ${bad}` });
    for (const [rr, ss, why] of [[0n, s, 'r 0'], [r, 0n, 's 0'], [N, s, 'r n'], [r, N, 's n'], [r + N < 1n << 256n ? r + N : N + 1n, s, 'r above n'],
      [r, (1n << 256n) - 1n, 's 2^256-1'], [BigInt(i + 1), s, `r ${i + 1} (on the curve or not)`], [r, 1n, 's 1'], [1n, 1n, 'r s 1']] as const) {
      out.push({ digest, signature: sigHex(rr, ss, v), why });
    }
    out.push({ digest, signature: good.slice(0, -2), why: '64 bytes' }, { digest, signature: good + '00', why: '66 bytes' }, { digest, signature: good.replace(/.$/, 'g'), why: 'not hex' });
    // A signature whose recovered key would be the point at infinity: R = kG, s = h/k, so sR - hG = 0.
    const k = 1n + (big(Buffer.from(randomBytes(32)).toString('hex')) % (N - 1n));
    const R = NATIVE_PUBLIC_KEYS.secp256k1(Buffer.from(hex32(k), 'hex'));
    const x = big(Buffer.from(R.subarray(1, 33)).toString('hex'));
    const h = big(Buffer.from(digest).toString('hex')) % N;
    if (x < N && h !== 0n) out.push({ digest, signature: sigHex(x, (h * invert(k)) % N, 27 + (R[64]! & 1)), why: 'point at infinity' });
  }
  return out;
}

test('libsecp256k1 recovers the very signers the identity package does, and refuses what it refuses', () => {
  const all = cases();
  const reference = all.map((c) => recoverDigestSigner(c.digest, c.signature));
  // The references really are what they are meant to be.
  all.forEach((c, i) => {
    if (c.why.startsWith('good') || c.why.startsWith('high s, v flipped')) assert.ok(reference[i], c.why);
    if (/^(v |r 0|s 0|r n|s n|r above|s 2\^|64 |66 |not hex|point at)/.test(c.why)) assert.equal(reference[i], undefined, c.why);
  });
  assert.ok(all.some((c, i) => c.why === 'high s' && reference[i]), 'a high-s signature recovers some key');
  useNativeSignatures();
  if (['linux-x64', 'darwin-arm64', 'win32-x64'].includes(`${process.platform}-${process.arch}`)) assert.ok(nativeSecp256k1Loaded(), 'the prebuilt libsecp256k1 binding loads');
  let fast = 0;
  all.forEach((c, i) => {
    assert.equal(recoverDigestSigner(c.digest, c.signature), reference[i], `${c.why}: ${c.signature}`);
    // The recoverer itself gives a key exactly where the package recovers one (so nothing the
    // package refuses passes by it), and with libsecp256k1 loaded it gives every one.
    const raw = /^0x[0-9a-f]{130}$/.test(c.signature) ? Buffer.from(c.signature.slice(2), 'hex') : undefined;
    const v = raw ? raw[64]! : 99;
    const recovery = v >= 27 ? v - 27 : v;
    if (!raw || recovery > 1) return;
    const key = nativeSecp256k1Recover(Uint8Array.of(recovery, ...raw.subarray(0, 64)), c.digest);
    if (key) fast++;
    if (nativeSecp256k1Loaded()) assert.equal(key !== undefined, reference[i] !== undefined, c.why);
  });
  if (nativeSecp256k1Loaded()) assert.ok(fast >= 400 + 60 * 4, `${fast} recoveries went through libsecp256k1`);
});
