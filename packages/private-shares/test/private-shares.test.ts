import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity } from '@cascade/identity';
import { bencode, defaultPieceLength } from '@cascade/engine';
import {
  ChunkCipher, INFO_KEY, PrivateShareError, checkKey, encryptStream, fileSpan, linkFor, neutralName, newContentKey,
  openManifest, openWithSecret, plaintextPath, readPrivateInfo, recipientKeyFromDid, recipientSecretFromSigningSecret,
  sealInfo, shareChunkSize, sharePieceLength, splitLink, type PrivateInfo, type ShareManifest,
} from '../index.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { random } from './random.ts';

/** The sealed chunk size (the info entry's `chunk`); each chunk carries BODY plaintext bytes. */
const CHUNK = 16 * 1024;
const BODY = CHUNK - 16;


async function* parts(data: Uint8Array, size = 7777): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function seal(files: { path: string[]; data: Uint8Array }[], name: string, recipients: Uint8Array[]) {
  const key = newContentKey();
  const manifest: ShareManifest = { name, files: files.map((f) => ({ path: f.path, length: f.data.length })), length: files.reduce((n, f) => n + f.data.length, 0) };
  const info = await sealInfo(key, manifest, recipients, CHUNK);
  const plain = new Uint8Array(manifest.length);
  let off = 0;
  for (const f of files) {
    plain.set(f.data, off);
    off += f.data.length;
  }
  const cipher = await ChunkCipher.create(key, info, manifest.length);
  const chunks: Uint8Array[] = [];
  for await (const c of encryptStream(cipher, parts(plain))) chunks.push(c);
  const ciphertext = new Uint8Array(cipher.cipherLength);
  chunks.forEach((c, i) => ciphertext.set(c, cipher.cipherOffset(i)));
  assert.equal(chunks.length, cipher.chunkCount);
  const infoBytes = bencode({ length: ciphertext.length, name: neutralName(info.salt), 'piece length': 16384, pieces: new Uint8Array(20), [INFO_KEY]: info });
  return { key, manifest, info, plain, ciphertext, infoBytes };
}

async function decryptAll(info: PrivateInfo, key: Uint8Array, manifest: ShareManifest, ciphertext: Uint8Array): Promise<Uint8Array> {
  const cipher = await ChunkCipher.create(key, info, manifest.length);
  const out = new Uint8Array(cipher.chunkCount * cipher.chunk);
  for (let i = 0; i < cipher.chunkCount; i++) {
    const at = cipher.cipherOffset(i);
    out.set(await cipher.decryptChunk(i, ciphertext.subarray(at, at + cipher.chunk + 16)), i * cipher.chunk);
  }
  assert.ok(out.subarray(manifest.length).every((b) => b === 0), 'padding is zeros');
  return out.subarray(0, manifest.length);
}

const code = (c: string) => (err: unknown) => err instanceof PrivateShareError && err.code === c;

test('a recipient named by did:key alone opens the share and reads every file, byte for byte', async () => {
  const bob = generateIdentity('bob');
  const carol = generateIdentity('carol');
  const files = [
    { path: ['a', 'film.mkv'], data: random(BODY * 3 + 5) },
    { path: ['empty.txt'], data: new Uint8Array(0) },
    { path: ['b.bin'], data: random(1) },
    { path: ['exact.bin'], data: random(BODY * 2) },
  ];
  const s = await seal(files, 'Holiday', [recipientKeyFromDid(bob.did), recipientKeyFromDid(carol.did)]);
  const info = readPrivateInfo(s.infoBytes)!;
  assert.equal(info.envelopes.length, 2);
  const key = await openWithSecret(info, recipientSecretFromSigningSecret(bob.signSecret));
  assert.deepEqual(key, s.key);
  const manifest = await openManifest(info, key);
  assert.deepEqual(manifest, s.manifest);
  assert.deepEqual(await decryptAll(info, key, manifest, s.ciphertext), s.plain);
  // Each file's span covers exactly its bytes.
  for (let i = 0; i < files.length; i++) {
    const span = fileSpan(manifest, i, BODY);
    assert.deepEqual(s.plain.subarray(span.offset, span.offset + span.length), files[i]!.data);
    assert.deepEqual(plaintextPath(manifest, i), ['Holiday', ...files[i]!.path]);
  }
  assert.ok(fileSpan(manifest, 1, BODY).lastChunk < fileSpan(manifest, 1, BODY).firstChunk, 'an empty file spans no chunk');
  // The neutral name and the info bytes say nothing of the content.
  const asText = new TextDecoder('latin1').decode(s.infoBytes);
  for (const leak of ['Holiday', 'film.mkv', 'empty.txt', bob.did.slice(8)]) assert.ok(!asText.includes(leak), leak);
});

test('single files, a zero-byte share and exact multiples of the chunk round-trip', async () => {
  for (const n of [0, 1, BODY - 1, BODY, BODY + 1, BODY * 4, CHUNK]) {
    const me = generateIdentity();
    const s = await seal([{ path: ['f.bin'], data: random(n) }], 'f.bin', [recipientKeyFromDid(me.did)]);
    const key = await openWithSecret(s.info, recipientSecretFromSigningSecret(me.signSecret));
    const m = await openManifest(s.info, key);
    assert.deepEqual(plaintextPath(m, 0), ['f.bin']);
    assert.deepEqual(await decryptAll(s.info, key, m, s.ciphertext), s.plain, `length ${n}`);
    // Sealed chunks of exactly CHUNK bytes: they line up with the torrent's pieces.
    assert.equal(s.ciphertext.length, Math.max(1, Math.ceil(n / BODY)) * CHUNK);
  }
});

test('someone else gets "not for you", never "corrupt"; a link key is checked before use', async () => {
  const bob = generateIdentity();
  const mallory = generateIdentity();
  const s = await seal([{ path: ['x'], data: random(100) }], 'x', [recipientKeyFromDid(bob.did)]);
  await assert.rejects(openWithSecret(s.info, recipientSecretFromSigningSecret(mallory.signSecret)), code('not-for-you'));
  assert.throws(() => checkKey(s.info, newContentKey()), code('not-for-you'));
  checkKey(s.info, s.key);
  // A link share has no envelopes at all: only the key opens it.
  const l = await seal([{ path: ['y'], data: random(10) }], 'y', []);
  assert.equal(l.info.envelopes.length, 0);
  await assert.rejects(openWithSecret(l.info, recipientSecretFromSigningSecret(bob.signSecret)), code('not-for-you'));
});

test('a changed chunk, swapped chunks, a cut-short share, a changed manifest or envelope are refused', async () => {
  const bob = generateIdentity();
  const s = await seal([{ path: ['v'], data: random(BODY * 3) }], 'v', [recipientKeyFromDid(bob.did)]);
  const cipher = await ChunkCipher.create(s.key, s.info, s.manifest.length);
  const c = (i: number, from = s.ciphertext) => from.slice(cipher.cipherOffset(i), cipher.cipherOffset(i) + CHUNK);
  const flipped = c(1);
  flipped[100]! ^= 1;
  await assert.rejects(cipher.decryptChunk(1, flipped), (e: unknown) => code('tampered')(e) && /chunk 1/.test((e as Error).message));
  await assert.rejects(cipher.decryptChunk(1, c(0)), code('tampered'), 'chunk 0 served as chunk 1');
  // Cutting the share after chunk 1: chunk 1 was sealed as "not last", so a share that ends there fails.
  const shorter = await ChunkCipher.create(s.key, s.info, BODY * 2);
  await assert.rejects(shorter.decryptChunk(1, c(1)), code('tampered'));
  await assert.rejects(cipher.decryptChunk(0, c(0).subarray(1)), code('tampered'));

  const badManifest: PrivateInfo = { ...s.info, manifest: s.info.manifest.slice() };
  badManifest.manifest[40]! ^= 1;
  await assert.rejects(openManifest(badManifest, s.key), code('tampered'));
  const badEnvelope: PrivateInfo = { ...s.info, envelopes: [s.info.envelopes[0]!.slice()] };
  badEnvelope.envelopes[0]![50]! ^= 1;
  await assert.rejects(openWithSecret(badEnvelope, recipientSecretFromSigningSecret(bob.signSecret)), code('not-for-you'));
  // An envelope moved into another share does not open there (it is bound to the salt).
  const other = await seal([{ path: ['w'], data: random(5) }], 'w', []);
  await assert.rejects(openWithSecret({ ...other.info, envelopes: s.info.envelopes }, recipientSecretFromSigningSecret(bob.signSecret)), code('not-for-you'));
});

test('malformed info entries are refused with a format error; ordinary torrents are not private shares', () => {
  const base = { length: 1, name: 'n', 'piece length': 16384, pieces: new Uint8Array(20) };
  assert.equal(readPrivateInfo(bencode(base)), undefined);
  const good = { v: 1, chunk: 65536, salt: new Uint8Array(16), check: new Uint8Array(16), manifest: new Uint8Array(12 + 256 + 16), envelopes: [] as Uint8Array[] };
  assert.ok(readPrivateInfo(bencode({ ...base, [INFO_KEY]: good })));
  const bad: [string, unknown][] = [
    ['not a dict', 5],
    ['v 2', { ...good, v: 2 }],
    ['chunk 1000', { ...good, chunk: 1000 }],
    ['chunk 1 GiB', { ...good, chunk: 1 << 30 }],
    ['salt 15', { ...good, salt: new Uint8Array(15) }],
    ['check missing', { ...good, check: undefined }],
    ['manifest short', { ...good, manifest: new Uint8Array(10) }],
    ['envelope 79', { ...good, envelopes: [new Uint8Array(79)] }],
    ['envelopes not a list', { ...good, envelopes: new Uint8Array(80) }],
    ['1001 envelopes', { ...good, envelopes: Array.from({ length: 1001 }, () => new Uint8Array(80)) }],
  ];
  for (const [what, value] of bad) {
    assert.throws(() => readPrivateInfo(bencode({ ...base, [INFO_KEY]: value })), (e: unknown) => e instanceof PrivateShareError && /format|version/.test(e.code), what);
  }
  assert.throws(() => readPrivateInfo(new Uint8Array([100, 49, 58])), code('bad-format'));
});

test('a manifest with unsafe paths or sizes that do not add up is refused even when sealed with the right key', async () => {
  const evil: ShareManifest[] = [
    { name: '..', files: [{ path: ['x'], length: 1 }], length: 1 },
    { name: 'ok', files: [{ path: ['..', 'etc', 'passwd'], length: 1 }], length: 1 },
    { name: 'ok', files: [{ path: ['a/b'], length: 1 }], length: 1 },
    { name: 'ok', files: [{ path: ['C:evil'], length: 1 }], length: 1 },
    { name: 'ok', files: [{ path: ['a'], length: 1 }, { path: ['a'], length: 1 }], length: 2 },
    { name: 'ok', files: [{ path: ['a'], length: 5 }], length: 4 },
    { name: 'ok', files: [{ path: ['a'], length: -1 }], length: -1 },
  ];
  for (const m of evil) await assert.rejects(sealInfo(newContentKey(), m, []), code('bad-format'), JSON.stringify(m));
});

test('links carry the key in the fragment only; a cut key is refused', () => {
  const key = newContentKey();
  const magnet = 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=cascade-private-aa';
  const link = linkFor(magnet, key);
  const split = splitLink(link);
  assert.equal(split.uri, magnet);
  assert.deepEqual(split.key, key);
  assert.equal(splitLink(magnet).key, undefined);
  assert.deepEqual(splitLink(`${magnet}#other=1`), { uri: magnet });
  assert.throws(() => splitLink(link.slice(0, -3)), /32/);
});

test('recipient keys: a did:key gives the X25519 key its own identity opens with; bad dids are named', () => {
  const id = generateIdentity();
  assert.equal(recipientKeyFromDid(id.did).length, 32);
  assert.throws(() => recipientKeyFromDid('did:web:example.com'), /did:web:example.com/);
  assert.throws(() => recipientKeyFromDid('did:key:z6Mkxxx'), /not a did:key/);
});

test('encryption throughput (64 MiB) is printed, and a stream of the wrong length is refused', async () => {
  const key = newContentKey();
  const info = await sealInfo(key, { name: 'b', files: [{ path: ['b'], length: 64 << 20 }], length: 64 << 20 }, [], 65536);
  const cipher = await ChunkCipher.create(key, info, 64 << 20);
  const data = random(1 << 20);
  async function* src() {
    for (let i = 0; i < 64; i++) yield data;
  }
  let t = performance.now();
  const out: Uint8Array[] = [];
  for await (const c of encryptStream(cipher, src())) out.push(c);
  const enc = 64 / ((performance.now() - t) / 1000);
  t = performance.now();
  await Promise.all(out.map((c, i) => cipher.decryptChunk(i, c)));
  const dec = 64 / ((performance.now() - t) / 1000);
  console.log(`# private-shares: encrypt ${enc.toFixed(0)} MiB/s, decrypt ${dec.toFixed(0)} MiB/s (64 MiB, 64 KiB chunks)`);
  async function* short() {
    yield data;
  }
  await assert.rejects(async () => {
    for await (const _ of encryptStream(cipher, short())) void _;
  }, /manifest says/);
});

test('a private share\'s pieces: whole chunks, 1 MiB while 128 of them remain, never under the default', () => {
  const MiB = 1 << 20;
  const pieces = (bytes: number) => sharePieceLength(bytes, 65536, defaultPieceLength(bytes));
  assert.equal(pieces(256 * MiB), MiB, '256 MiB: 256 pieces of 1 MiB, not 1,024 of the default 256 KiB');
  assert.equal(pieces(100 * MiB), MiB / 2, '100 MiB: 200 pieces');
  assert.equal(pieces(3 * MiB), 65536, 'a small share: one chunk a piece, as before');
  assert.equal(pieces(20 * 1024 * MiB), defaultPieceLength(20 * 1024 * MiB), 'past 1 MiB the default stands');
  assert.equal(sharePieceLength(1000, 262144, defaultPieceLength(1000)), 262144, 'a chunk is never split');
});

test('a new share\'s chunks: 64 KiB, doubled up to 1 MiB while 256 of them remain, never past a piece length given; every size still opens', async () => {
  const MiB = 1 << 20;
  assert.equal(shareChunkSize(3 * MiB), 65536, 'a small share: 64 KiB chunks, as before');
  assert.equal(shareChunkSize(32 * MiB - 1), 65536, 'under 256 chunks of 128 KiB');
  assert.equal(shareChunkSize(32 * MiB), 131072);
  assert.equal(shareChunkSize(256 * MiB), MiB, '256 MiB: 256 chunks of 1 MiB (padding under 1/256)');
  assert.equal(shareChunkSize(20 * 1024 * MiB), MiB, 'never past 1 MiB');
  assert.equal(shareChunkSize(256 * MiB, 262144), 262144, 'a piece length given by hand holds whole chunks');
  assert.equal(shareChunkSize(256 * MiB, 16384), 65536, 'under 64 KiB pieces: 64 KiB, as before');
  assert.equal(sharePieceLength(256 * MiB + 65536, shareChunkSize(256 * MiB), defaultPieceLength(256 * MiB)), MiB, 'a piece holds whole chunks');
  // A share of 1 MiB chunks opens and reads back as every other did.
  const { sealFiles } = await import('../node.ts');
  const dir = await mkdtemp(join(tmpdir(), 'cascade-chunks-'));
  try {
    const data = random(300_000);
    await writeFile(join(dir, 'v.bin'), data);
    const s = await sealFiles(join(dir, 'v.bin'), dir, [], { chunk: MiB });
    assert.equal(s.info.chunk, MiB);
    const cipher = await ChunkCipher.create(s.key, s.info, s.manifest.length);
    const sealedBytes = await readFile(s.cipherPath);
    assert.equal(sealedBytes.length, MiB);
    assert.deepEqual((await cipher.decryptChunk(0, sealedBytes)).subarray(0, data.length), data);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('node:crypto opens the envelopes @hpke/core sealed (openWithSecretNode), and refuses what openWithSecret refuses', async () => {
  const { openWithSecretNode } = await import('../node.ts');
  const bob = generateIdentity();
  const carol = generateIdentity();
  const mallory = generateIdentity();
  const s = await seal([{ path: ['v'], data: random(100) }], 'v', [recipientKeyFromDid(bob.did), recipientKeyFromDid(carol.did)]);
  for (const who of [bob, carol]) assert.deepEqual(openWithSecretNode(s.info, recipientSecretFromSigningSecret(who.signSecret)), s.key);
  assert.throws(() => openWithSecretNode(s.info, recipientSecretFromSigningSecret(mallory.signSecret)), code('not-for-you'));
  for (let at = 0; at < 80; at += 17) {
    const bent: PrivateInfo = { ...s.info, envelopes: s.info.envelopes.map((e) => e.slice()) };
    for (const e of bent.envelopes) e[at]! ^= 1;
    assert.throws(() => openWithSecretNode(bent, recipientSecretFromSigningSecret(bob.signSecret)), code('not-for-you'), `byte ${at} changed`);
  }
  const other = await seal([{ path: ['w'], data: random(5) }], 'w', []);
  assert.throws(() => openWithSecretNode({ ...other.info, envelopes: s.info.envelopes }, recipientSecretFromSigningSecret(bob.signSecret)), code('not-for-you'));
  assert.throws(() => openWithSecretNode(other.info, recipientSecretFromSigningSecret(bob.signSecret)), code('not-for-you'));
});

test('envelope opening warmed for a node\'s secrets (warmEnvelopeOpening): each secret keeps its own key objects, the same secret used again opens the same, and others are still refused', async () => {
  const { openWithSecretNode, warmEnvelopeOpening } = await import('../node.ts');
  const [bob, carol, mallory] = [generateIdentity(), generateIdentity(), generateIdentity()];
  const secrets = [bob, carol, mallory].map((who) => recipientSecretFromSigningSecret(who.signSecret));
  warmEnvelopeOpening(secrets);
  const s = await seal([{ path: ['v'], data: random(100) }], 'v', [recipientKeyFromDid(bob.did), recipientKeyFromDid(carol.did)]);
  for (const round of [1, 2]) {
    assert.deepEqual(openWithSecretNode(s.info, secrets[0]!), s.key, `bob, round ${round}`);
    assert.deepEqual(openWithSecretNode(s.info, secrets[1]!), s.key, `carol, round ${round}`);
    assert.throws(() => openWithSecretNode(s.info, secrets[2]!), code('not-for-you'), `mallory, round ${round}`);
  }
  const onlyCarol = await seal([{ path: ['w'], data: random(5) }], 'w', [recipientKeyFromDid(carol.did)]);
  assert.throws(() => openWithSecretNode(onlyCarol.info, secrets[0]!), code('not-for-you'), 'bob\'s warmed key opens no envelope of carol\'s');
  assert.deepEqual(openWithSecretNode(onlyCarol.info, secrets[1]!), onlyCarol.key);
});

test('node:crypto opens the manifest as WebCrypto does (openManifestNode), and refuses a changed one or the wrong key', async () => {
  const { openManifestNode } = await import('../node.ts');
  const files = [{ path: ['Trip', 'film.bin'], data: random(1000) }, { path: ['Trip', 'notes ü.txt'], data: random(3) }];
  const s = await seal(files, 'Trip', []);
  assert.deepEqual(openManifestNode(s.info, s.key), await openManifest(s.info, s.key));
  assert.throws(() => openManifestNode(s.info, newContentKey()), code('tampered'));
  for (const at of [0, 5, 12, 40, s.info.manifest.length - 1]) {
    const bent = s.info.manifest.slice();
    bent[at]! ^= 1;
    assert.throws(() => openManifestNode({ ...s.info, manifest: bent }, s.key), code('tampered'), `byte ${at} changed`);
  }
  assert.throws(() => openManifestNode({ ...s.info, manifest: s.info.manifest.subarray(0, 20) }, s.key), code('tampered'));
});

test('a chunk nonce written in place is the chunk index (u64 big-endian) and the last-chunk flag', async () => {
  const { chunkNonce, writeChunkNonce } = await import('../src/format/nonce.ts');
  const reference = (i: number, count: number) => {
    const n = new Uint8Array(12);
    new DataView(n.buffer).setBigUint64(0, BigInt(i));
    new DataView(n.buffer).setUint32(8, i === count - 1 ? 1 : 0);
    return n;
  };
  const into = new Uint8Array(12).fill(0xee);
  for (const [i, count] of [[0, 1], [0, 2], [1, 2], [255, 1000], [65_536, 70_000], [2 ** 32 - 1, 2 ** 32], [2 ** 32 + 5, 2 ** 40], [2 ** 52 + 3, 2 ** 53 - 1]] as const) {
    assert.deepEqual(writeChunkNonce(into, i, count), reference(i, count), `chunk ${i} of ${count}`);
    assert.deepEqual(chunkNonce(i, count), reference(i, count));
  }
  assert.throws(() => chunkNonce(3, 3), RangeError);
});
