// The chunk ciphers with the addon (native/chunk-gcm.c: straight into the caller's memory) and with
// node:crypto where it is off or missing: the same bytes as the platform-free WebCrypto ChunkCipher
// (what a browser seals and opens), every changed byte refused, bad arguments thrown, not crashed on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ChunkCipher, newContentKey } from '../index.ts';
import { chunkCipherInPlace, chunkDecryptor, chunkEncryptor, chunkGcmNotUsed } from '../node.ts';
import type { ChunkGcmAddon } from '../src/node/chunk-gcm.ts';
import { random } from './random.ts';

const ADDON = new URL('../native/build/chunk-gcm.node', import.meta.url).pathname;
const BUILD = new URL('../native/build.js', import.meta.url).pathname;
const SEALED = 64 * 1024;
const BODY = SEALED - 16;


if (process.platform === 'linux' && !existsSync(ADDON)) execFileSync(process.execPath, [BUILD], { stdio: 'inherit' });

test('on Linux the addon is built, loads, and is what seals and opens chunks', () => {
  if (process.platform !== 'linux') return;
  assert.ok(existsSync(ADDON), 'native/build.js did not build the addon on this Linux machine');
  assert.equal(chunkGcmNotUsed(), '');
  assert.equal(chunkCipherInPlace(), true);
});

// Chunk indexes past 2^32 put bytes in the nonce's high word; the last chunk sets its flag.
const CHUNK_COUNT = 2 ** 32 + 3;
const INDEXES = [0, 1, 77, 2 ** 32 + 1, CHUNK_COUNT - 1];

test('sealed and opened in place: the same bytes as WebCrypto (ChunkCipher), short chunks zero-padded', async () => {
  const key = newContentKey();
  const info = { salt: random(16), chunk: SEALED };
  const reference = await ChunkCipher.create(key, info, CHUNK_COUNT * BODY);
  const seal = chunkEncryptor(key, info, CHUNK_COUNT);
  const open = chunkDecryptor(key, info, CHUNK_COUNT);
  for (const i of INDEXES) {
    for (const length of [BODY, BODY - 1, 1000, 0]) {
      const plain = random(length);
      const out = random(SEALED); // whatever was in the memory before is overwritten
      seal(i, plain, out);
      assert.deepEqual(out, await reference.encryptChunk(i, plain), `chunk ${i}, ${length} bytes`);
      const padded = new Uint8Array(BODY);
      padded.set(plain);
      const into = random(BODY + 32).subarray(16, 16 + BODY);
      assert.equal(open(i, out, into), into, 'the plaintext is in the memory given');
      assert.deepEqual(into, padded);
      assert.deepEqual(new Uint8Array(open(i, out)), padded, 'and in fresh memory when none is given');
      assert.deepEqual(await reference.decryptChunk(i, out), padded);
    }
  }
});

test('a changed byte, another chunk\'s place or another chunk count is refused as tampered', async () => {
  const key = newContentKey();
  const info = { salt: random(16), chunk: SEALED };
  const reference = await ChunkCipher.create(key, info, 10 * BODY);
  const open = chunkDecryptor(key, info, 10);
  const sealed = await reference.encryptChunk(3, random(BODY));
  const into = new Uint8Array(BODY);
  const refused = (fn: () => unknown, what: string) =>
    assert.throws(fn, (err: Error & { code?: string }) => err.code === 'tampered' && /chunk \d+ of this share/.test(err.message), what);
  for (const at of [0, 5000, BODY - 1, BODY, SEALED - 1]) {
    const bad = sealed.slice();
    bad[at]! ^= 0x01;
    refused(() => open(3, bad, into), `byte ${at} flipped`);
  }
  refused(() => open(4, sealed, into), 'chunk 3 given as chunk 4');
  refused(() => chunkDecryptor(key, info, 4)(3, sealed, into), 'chunk 3 of 10 given as the last of 4');
  refused(() => chunkDecryptor(newContentKey(), info, 10)(3, sealed, into), 'another key');
  refused(() => open(3, sealed.subarray(0, SEALED - 1), into), 'a chunk one byte short');
  assert.throws(() => open(3, sealed, new Uint8Array(BODY - 1)), RangeError, 'memory of the wrong length');
  assert.deepEqual(open(3, sealed, into).length, BODY, 'the untouched chunk still opens');
});

test('the addon: bad arguments throw, a chunk opens in its own memory', { skip: process.platform !== 'linux' }, () => {
  const addon = createRequire(import.meta.url)(ADDON) as ChunkGcmAddon;
  const ctx = addon.context(random(32));
  const nonce = random(12);
  assert.throws(() => addon.context(random(31)), /32 bytes/);
  assert.throws(() => addon.context('k'.repeat(32) as unknown as Uint8Array), /32 bytes/);
  assert.throws(() => addon.open({}, nonce, new Uint8Array(32), new Uint8Array(16)), /not a key context/);
  assert.throws(() => addon.open(ctx, random(11), new Uint8Array(32), new Uint8Array(16)), /12 bytes/);
  assert.throws(() => addon.open(ctx, nonce, new Uint8Array(32), new Uint8Array(17)), /less its 16-byte tag/);
  assert.throws(() => addon.open(ctx, nonce, new Uint16Array(16) as unknown as Uint8Array, new Uint8Array(16)), /Uint8Arrays/);
  assert.throws(() => addon.seal(ctx, nonce, new Uint8Array(20), new Uint8Array(35)), /16-byte tag/);
  assert.throws(() => (addon.open as (...a: unknown[]) => boolean)(ctx, nonce), /4 arguments/);
  const plain = random(5000);
  const sealed = new Uint8Array(5016);
  addon.seal(ctx, nonce, plain, sealed);
  assert.equal(addon.open(ctx, nonce, sealed, sealed.subarray(0, 5000)), true, 'out over the sealed bytes themselves');
  assert.deepEqual(sealed.subarray(0, 5000), plain);
});

/** Seals and opens one chunk in a child process with `env`, printing which cipher it used and the bytes. */
function childRun(env: Record<string, string>, wrap: string[] = []): { notUsed: string; sealed: string; opened: string } {
  const script = `
    import { chunkDecryptor, chunkEncryptor, chunkGcmNotUsed } from ${JSON.stringify(new URL('../node.ts', import.meta.url).pathname)};
    const key = new Uint8Array(32).fill(9), info = { salt: new Uint8Array(16).fill(4), chunk: ${SEALED} };
    const out = new Uint8Array(${SEALED});
    chunkEncryptor(key, info, 5)(4, new Uint8Array(3000).fill(7), out);
    const opened = chunkDecryptor(key, info, 5)(4, out, new Uint8Array(${BODY}));
    console.log(JSON.stringify({ notUsed: chunkGcmNotUsed(), sealed: Buffer.from(out).toString('hex'), opened: Buffer.from(opened).toString('hex') }));`;
  const [cmd, ...args] = [...wrap, process.execPath, '--input-type=module', '-e', script];
  const r = spawnSync(cmd!, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { notUsed: string; sealed: string; opened: string };
}

test('with the addon off or missing, node:crypto seals and opens the same bytes', { skip: process.platform !== 'linux' }, () => {
  const native = childRun({});
  assert.equal(native.notUsed, '');
  const off = childRun({ CASCADE_NATIVE_GCM: 'off' });
  assert.equal(off.notUsed, 'CASCADE_NATIVE_GCM=off');
  assert.equal(off.sealed, native.sealed);
  assert.equal(off.opened, native.opened);
  assert.equal(native.opened, '07'.repeat(3000) + '00'.repeat(BODY - 3000));
  if (process.getuid?.() !== 0) return;
  // A machine where it was never built: the build directory hidden by an empty one.
  const hidden = childRun({}, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs cascade-no-addon "$0" && exec "$@"', new URL('../native/build', import.meta.url).pathname]);
  assert.match(hidden.notUsed, /^it did not load: /);
  assert.equal(hidden.sealed, native.sealed);
});

test('build.js without a compiler says so, exits 0 and keeps the earlier build', { skip: process.platform !== 'linux' }, () => {
  const before = statSync(ADDON).mtimeMs;
  const r = spawnSync(process.execPath, [BUILD], { env: { ...process.env, CC: '/bin/false' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /chunk-gcm\.c not built \(\/bin\/false failed: .*\); the earlier build stays in /);
  assert.equal(statSync(ADDON).mtimeMs, before);
});

