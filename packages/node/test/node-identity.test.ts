// The node derives its identity's public keys with OpenSSL (issue 40: the identity package's own
// curves cost ~150 ms of CPU at their first use, at every start); they must be the very keys the
// platform-free arithmetic gives, or the node's did and account would change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { identityFromSigningSecret, makeBinding, signBytes, signDigest, useEd25519Verifier, verifyBinding, verifyBytes } from '@cascade/identity';
import { nativeSecp256k1Loaded, nativeSecp256k1Sign, opensslSecp256k1Sign } from '@cascade/identity/native-secp256k1';
import { NATIVE_PUBLIC_KEYS, nativeEd25519Sign, nativeEd25519Verify, useNativeSignatures } from '../src/core/node-identity.ts';

test('OpenSSL and the identity package give the same did, X25519 key and Ethereum account', () => {
  for (let i = 0; i < 50; i++) {
    const secret = new Uint8Array(randomBytes(32));
    const pure = identityFromSigningSecret(secret, 'node', 1);
    const native = identityFromSigningSecret(secret, 'node', 1, NATIVE_PUBLIC_KEYS);
    assert.deepEqual(native, pure);
  }
  // Secrets at the edges: all zeros but one bit, all ones (the Ed25519 and X25519 secrets are clamped).
  for (const secret of [new Uint8Array(32).fill(0xff), Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0))]) {
    assert.deepEqual(identityFromSigningSecret(secret, '', 1, NATIVE_PUBLIC_KEYS), identityFromSigningSecret(secret, '', 1));
  }
  // And the binding made from the native identity verifies.
  assert.ok(verifyBinding(makeBinding(identityFromSigningSecret(new Uint8Array(randomBytes(32)), '', 1, NATIVE_PUBLIC_KEYS))));
});

// Both signers are compared with the package's own arithmetic, so every reference is made before
// this process switches to OpenSSL (useNativeSignatures lasts for the process).
test('signatures from OpenSSL are the identity package\'s bytes: Ed25519, and secp256k1 (RFC 6979, low s, recovery bit)', () => {
  const edCases = Array.from({ length: 200 }, (_, i) => {
    const id = identityFromSigningSecret(new Uint8Array(randomBytes(32)), '', 1, NATIVE_PUBLIC_KEYS);
    const msg = new Uint8Array(randomBytes(i % 7 === 0 ? 0 : 1 + ((i * 37) % 300)));
    return { id, msg, pure: signBytes(id, 'cascade-test', msg) };
  });
  const ecCases = Array.from({ length: 300 }, (_, i) => {
    const secret = i === 0 ? Uint8Array.from({ length: 32 }, (_, j) => (j === 31 ? 1 : 0)) : new Uint8Array(randomBytes(32));
    // Digests at the edges too: zero, and all ones (above the group order, reduced mod n).
    const digest = i === 1 ? new Uint8Array(32) : i === 2 ? new Uint8Array(32).fill(0xff) : new Uint8Array(randomBytes(32));
    return { secret, digest, pure: signDigest(secret, digest) };
  });
  useNativeSignatures();
  for (const { id, msg, pure } of edCases) {
    const native = signBytes(id, 'cascade-test', msg);
    assert.deepEqual(native, pure);
    assert.deepEqual(nativeEd25519Sign(new Uint8Array(Buffer.concat([Buffer.from('cascade-test\n'), msg])), id.signSecret), pure);
    assert.ok(verifyBytes(id.did, 'cascade-test', msg, native));
    assert.ok(!verifyBytes(id.did, 'cascade-other', msg, native));
  }
  const recoveries = new Set<string>();
  const asHex = (sig: Uint8Array): string => '0x' + Buffer.from(sig.subarray(1)).toString('hex') + (27 + sig[0]!).toString(16);
  // OpenSSL's k·G signs the first few of a process, libsecp256k1 the rest: a few signatures first,
  // so that each path signs every case (the edge cases are the first ones).
  for (let i = 0; i < 4; i++) nativeSecp256k1Sign(ecCases[3]!.digest, ecCases[3]!.secret);
  for (const { secret, digest, pure } of ecCases) {
    assert.equal(asHex(opensslSecp256k1Sign(digest, secret)), pure);
    const native = nativeSecp256k1Sign(digest, secret);
    assert.equal(asHex(native), pure);
    assert.equal(signDigest(secret, digest), pure);
    recoveries.add(pure.slice(-2));
  }
  assert.deepEqual([...recoveries].sort(), ['1b', '1c'], 'both recovery bits were exercised');
  if (['linux-x64', 'darwin-arm64', 'win32-x64'].includes(`${process.platform}-${process.arch}`)) assert.ok(nativeSecp256k1Loaded(), 'libsecp256k1 signed the later ones');
  assert.throws(() => nativeSecp256k1Sign(new Uint8Array(32), new Uint8Array(32)), /out of range/);
  // A binding made by the switched node verifies.
  assert.ok(verifyBinding(makeBinding(edCases[0]!.id)));
});

// Verification (issue 40: the package's arithmetic cost a `cascade download` ~50 ms at the first
// Cascade peer's hello): OpenSSL accepts first; whatever it refuses is judged by the package, so the
// set of signatures a node accepts is the package's.
test('Ed25519 signatures OpenSSL accepts pass without the package\'s arithmetic; the ones it refuses are judged by the package', () => {
  const id = identityFromSigningSecret(new Uint8Array(randomBytes(32)), '', 1, NATIVE_PUBLIC_KEYS);
  const msg = new Uint8Array(randomBytes(100));
  const sig = signBytes(id, 'cascade-test', msg);
  const signed = new Uint8Array(Buffer.concat([Buffer.from('cascade-test\n'), msg]));
  const bad = sig.slice();
  bad[10]! ^= 1;
  // S ≥ the group order: refused by RFC 8032 and ZIP 215 alike, also as S + L, which satisfies the
  // equation (L·B is the identity) and which OpenSSL must refuse for its accepted set to stay in the package's.
  const highS = sig.slice();
  highS.fill(0xff, 32);
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const le = (b: Uint8Array) => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);
  const malleable = sig.slice();
  let sPlusL = le(sig.subarray(32)) + L;
  for (let i = 32; i < 64; i++, sPlusL >>= 8n) malleable[i] = Number(sPlusL & 0xffn);
  assert.ok(nativeEd25519Verify(sig, signed, id.signPublic));
  for (const [s, m, k] of [[bad, signed, id.signPublic], [sig, signed.subarray(1), id.signPublic], [sig, signed, new Uint8Array(31)], [sig.subarray(1), signed, id.signPublic], [highS, signed, id.signPublic], [malleable, signed, id.signPublic]] as const) {
    assert.equal(nativeEd25519Verify(s, m, k), false);
  }
  let asked = 0;
  useEd25519Verifier((s, m, k) => (asked++, nativeEd25519Verify(s, m, k)));
  try {
    assert.ok(verifyBytes(id.did, 'cascade-test', msg, sig));
    assert.equal(asked, 1, 'the platform was asked');
    assert.ok(!verifyBytes(id.did, 'cascade-test', msg, bad));
    assert.ok(!verifyBytes(id.did, 'cascade-test', msg, highS));
    assert.ok(!verifyBytes(id.did, 'cascade-test', msg, malleable));
    assert.ok(!verifyBytes(id.did, 'cascade-other', msg, sig));
    // A platform that refuses everything changes nothing: the package judges, and accepts the good one.
    useEd25519Verifier(() => false);
    assert.ok(verifyBytes(id.did, 'cascade-test', msg, sig));
    assert.ok(!verifyBytes(id.did, 'cascade-test', msg, bad));
    assert.ok(verifyBinding(makeBinding(id)));
  } finally {
    useNativeSignatures();
  }
});

test('Node: deriving an identity with native public keys, signing and checking a hello loads no curve', () => {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, ctx, next) { loaded.push(url); return next(url, ctx); } });
    const { NATIVE_PUBLIC_KEYS, useNativeSignatures } = await import(${JSON.stringify(new URL('../src/core/node-identity.ts', import.meta.url).href)});
    const id = await import('@cascade/identity');
    useNativeSignatures();
    const me = id.identityFromSigningSecret(new Uint8Array(32).fill(7), 'n', 0, NATIVE_PUBLIC_KEYS);
    const sig = id.signBytes(me, 'test', new Uint8Array([1, 2, 3]));
    const ok = id.verifyBytes(me.did, 'test', new Uint8Array([1, 2, 3]), sig);
    const curves = loaded.filter((u) => /@noble\\/(curves|ciphers)|scrypt/.test(u));
    console.log(JSON.stringify({ ok, address: me.address, curves }));
    // Asked for, a curve loads then.
    const fresh = id.generateIdentity('x');
    console.log(JSON.stringify({ generated: fresh.did.startsWith('did:key:'), curves: loaded.filter((u) => u.includes('@noble/curves')).length }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(out[0].ok, true, 'the native signature checks');
  assert.match(out[0].address, /^0x[0-9a-fA-F]{40}$/);
  assert.deepEqual(out[0].curves, [], 'no curve or cipher module loaded');
  assert.equal(out[1].generated, true);
  assert.ok(out[1].curves > 0, 'generating an identity loads the curves it needs');
});
