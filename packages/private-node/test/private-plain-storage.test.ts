// A recipient's storage for a private share (PlainStorage): real sealed shares on disk, the engine's
// side of it played by hand — verified pieces written, pieces read back to seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ChunkCipher } from '@cascade/private-shares';
import { chunkKey, sealFiles } from '@cascade/private-shares/node';
import { PlainFiles } from '../src/plain-files.ts';
import { plainStorage } from './plain-share.ts';
import { PlainWriteWorker } from '../src/plain-worker-client.ts';

const CHUNK = 16384;
const PIECE = 4 * CHUNK;

async function setUp(t: { after: (fn: () => unknown) => void }, files: Record<string, Buffer>) {
  const root = await mkdtemp(join(tmpdir(), 'cascade-plain-storage-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const src = join(root, 'Trip');
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(src, ...name.split('/').slice(0, -1)), { recursive: true });
    writeFileSync(join(src, ...name.split('/')), bytes);
  }
  mkdirSync(join(root, 'sharer'));
  const sealed = await sealFiles(src, join(root, 'sharer'), [], { chunk: CHUNK });
  const cipherBytes = readFileSync(sealed.cipherPath);
  const pieceCount = Math.ceil(cipherBytes.length / PIECE);
  const pieceHashes = new Uint8Array(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) pieceHashes.set(createHash('sha1').update(cipherBytes.subarray(i * PIECE, (i + 1) * PIECE)).digest(), i * 20);
  const cipher = await ChunkCipher.create(sealed.key, sealed.info, sealed.manifest.length);
  const saveDir = join(root, 'recipient');
  const tampered: Error[] = [];
  const runBytes = (PIECE / CHUNK) * cipher.chunk;
  const share = { key: sealed.key, info: sealed.info, chunkCount: cipher.chunkCount, pieceLength: PIECE };
  const storage = (pieces = pieceHashes, worker?: PlainWriteWorker) =>
    plainStorage(share, new PlainFiles(sealed.manifest, saveDir, runBytes, 4), { pieceHashes: pieces, worker, tampered: (err) => tampered.push(err) });
  const piece = (i: number) => cipherBytes.subarray(i * PIECE, (i + 1) * PIECE);
  /** A worker thread that decrypts and writes (plain-worker.ts), loaded and ready. */
  const worker = async () => {
    const w = new PlainWriteWorker({
      chunkKey: chunkKey(sealed.key, sealed.info),
      chunkCount: cipher.chunkCount,
      sealed: cipher.sealed,
      chunk: cipher.chunk,
      manifest: sealed.manifest,
      savePath: saveDir,
      runBytes,
      runs: 4,
    });
    assert.equal(await w.warm(), true, 'the worker loads');
    return w;
  };
  return { saveDir, cipherBytes, pieceCount, pieceHashes, storage, piece, tampered, cipher, worker, sealed, share, runBytes };
}

test('pieces written keep only plaintext under the real names; pieces read back are the sharer’s ciphertext', async (t) => {
  const film = randomBytes(200_000);
  const notes = Buffer.from('plans\n');
  const s = await setUp(t, { 'film.bin': film, 'docs/notes.txt': notes });
  const store = s.storage();
  assert.deepEqual(await store.fileStats(), [undefined], 'nothing there before the first write');
  // Out of order, as a swarm delivers them.
  const order = [...Array(s.pieceCount).keys()].reverse();
  for (const i of order) await store.writePiece(i, s.piece(i));
  assert.ok(readFileSync(join(s.saveDir, 'Trip', 'film.bin')).equals(film));
  assert.ok(readFileSync(join(s.saveDir, 'Trip', 'docs', 'notes.txt')).equals(notes));
  assert.equal(existsSync(join(s.saveDir, 'sharer')), false);
  const [stat] = await store.fileStats();
  assert.equal(stat?.length, s.cipher.cipherLength);
  for (let i = 0; i < s.pieceCount; i++) {
    const into = new Uint8Array(Math.min(PIECE, s.cipherBytes.length - i * PIECE));
    assert.ok(Buffer.from(await store.readPiece(i, into)).equals(s.piece(i)), `piece ${i} sealed again is the sharer's`);
  }
  await store.close();
  await store.destroy();
  assert.equal(existsSync(join(s.saveDir, 'Trip')), false, 'destroy removes the files and their folders');
});

test('a plaintext file edited after it was written is never sealed again and sent (GCM must not reuse a nonce on other bytes)', async (t) => {
  const film = randomBytes(150_000);
  const s = await setUp(t, { 'film.bin': film });
  const store = s.storage();
  t.after(() => store.close());
  for (let i = 0; i < s.pieceCount; i++) await store.writePiece(i, s.piece(i));
  const path = join(s.saveDir, 'Trip', 'film.bin');
  const edited = Buffer.from(film);
  edited[70_000]! ^= 0x55; // inside piece 1 (plaintext 65,472 per piece)
  writeFileSync(path, edited);
  await assert.rejects(store.readPiece(1), /changed since it was written/);
  assert.ok(Buffer.from(await store.readPiece(0)).equals(s.piece(0)), 'an untouched piece still goes out');
  // The engine's check after a restart sees the change through the stats.
  const [stat] = await store.fileStats();
  assert.ok(stat, 'still there');
});

test('a verified piece whose chunk fails authentication is refused by name and nothing of it is written', async (t) => {
  const film = randomBytes(120_000);
  const s = await setUp(t, { 'film.bin': film });
  const store = s.storage();
  t.after(() => store.close());
  await store.writePiece(0, s.piece(0));
  const bent = Buffer.from(s.piece(1));
  bent[CHUNK + 10]! ^= 1; // the piece's second chunk: chunk 5
  await assert.rejects(store.writePiece(1, bent), /chunk 5 of this share failed authentication/);
  assert.equal(s.tampered.length, 1);
  const out = readFileSync(join(s.saveDir, 'Trip', 'film.bin'));
  assert.ok(out.subarray(0, 4 * s.cipher.chunk).equals(film.subarray(0, 4 * s.cipher.chunk)), 'piece 0 is there');
  assert.ok(out.subarray(4 * s.cipher.chunk).every((x) => x === 0), 'nothing of piece 1 was written');
});

test('off the engine\'s thread (CASCADE_PLAIN_WORKER=on): the worker writes the plaintext, and a chunk that fails authentication is refused by name with nothing of its piece written', async (t) => {
  const film = randomBytes(200_000);
  const s = await setUp(t, { 'film.bin': film });
  const worker = await s.worker();
  const store = s.storage(s.pieceHashes, worker);
  const bent = Buffer.from(s.piece(1));
  bent[CHUNK + 10]! ^= 1; // chunk 5
  // A piece in memory of the engine's own (a SharedArrayBuffer) crosses in place; any other is copied.
  const shared = new Uint8Array(new SharedArrayBuffer(PIECE));
  shared.set(s.piece(0));
  await store.writePiece(0, shared);
  await assert.rejects(store.writePiece(1, bent), (err: Error & { code?: string }) => err.code === 'tampered' && /chunk 5 of this share failed authentication/.test(err.message));
  assert.equal(s.tampered.length, 1);
  const path = join(s.saveDir, 'Trip', 'film.bin');
  assert.ok(readFileSync(path).subarray(4 * s.cipher.chunk, 8 * s.cipher.chunk).every((x) => x === 0), 'nothing of piece 1 was written');
  for (let i = 1; i < s.pieceCount; i++) await store.writePiece(i, s.piece(i));
  assert.equal(worker.started, 1);
  assert.equal(worker.written, s.pieceCount, 'the worker wrote every piece');
  assert.ok(readFileSync(path).equals(film));
  for (let i = 0; i < s.pieceCount; i++) assert.ok(Buffer.from(await store.readPiece(i)).equals(s.piece(i)), `piece ${i} sealed again is the sharer's`);
  await store.close();
  await store.destroy();
  assert.equal(existsSync(join(s.saveDir, 'Trip')), false);
});

test('a fresh download’s files are made and opened before its first piece, and say absent until a piece is written', async (t) => {
  const film = randomBytes(100_000);
  const s = await setUp(t, { 'film.bin': film, 'docs/notes.txt': Buffer.from('x') });
  const files = new PlainFiles(s.sealed.manifest, s.saveDir, s.runBytes, 4, { fresh: true });
  const store = plainStorage(s.share, files, { pieceHashes: s.pieceHashes, fresh: true, tampered: (err) => assert.fail(err) });
  // The engine's check comes first: no piece may count as there.
  assert.deepEqual(await store.fileStats(), [undefined]);
  await files.warm(); // what the storage started at once
  assert.ok(existsSync(join(s.saveDir, 'Trip', 'film.bin')) && existsSync(join(s.saveDir, 'Trip', 'docs', 'notes.txt')), 'made ahead of the first piece');
  assert.deepEqual(await store.fileStats(), [undefined], 'still absent: nothing written');
  // Stopped before a piece came: nothing is left behind, and the next write makes them again.
  await store.close();
  assert.equal(existsSync(join(s.saveDir, 'Trip')), false, 'the empty files made ahead went with the close');
  for (let i = 0; i < s.pieceCount; i++) await store.writePiece(i, s.piece(i));
  assert.equal((await store.fileStats())[0]?.length, s.cipher.cipherLength);
  assert.ok(readFileSync(join(s.saveDir, 'Trip', 'film.bin')).equals(film));
  await store.close();
  assert.equal(await handlesLeftToCollector(), 0, 'every handle opened was closed, none left to the garbage collector');
});

/** Full collections, counting Node's warnings of a FileHandle closed by the collector (one opened
 *  and then dropped unclosed). */
async function handlesLeftToCollector(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let closed = 0;
  const count = (w: Error) => void (/Closing file descriptor/.test(w.message) && closed++);
  process.on('warning', count);
  try {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    process.off('warning', count);
  }
  return closed;
}

test('chunks decrypted straight into the write’s aligned memory: a chunk that fails authentication mid-piece leaves nothing of its piece on disk, and the pieces around it, out of order, are byte-exact and go direct', async (t) => {
  const film = randomBytes(40 * CHUNK);
  const s = await setUp(t, { 'film.bin': film });
  const files = new PlainFiles(s.sealed.manifest, s.saveDir, s.runBytes, 1, { fresh: true });
  const store = plainStorage(s.share, files, { pieceHashes: s.pieceHashes, fresh: true, tampered: (err) => s.tampered.push(err) });
  // Odd pieces backwards, then even ones: neighbours never arrive one after the other.
  const all = [...Array(s.pieceCount).keys()];
  const order = [...all.filter((i) => i % 2 === 1).reverse(), ...all.filter((i) => i % 2 === 0)];
  const bad = 3;
  const plain = s.cipher.chunk;
  for (const i of order) {
    if (i !== bad) {
      await store.writePiece(i, s.piece(i));
      continue;
    }
    // Its last chunk bent: the three before it authenticate and are decrypted first.
    const bent = Buffer.from(s.piece(i));
    bent[bent.length - 100]! ^= 1;
    await assert.rejects(store.writePiece(i, bent), new RegExp(`chunk ${i * 4 + 3} of this share failed authentication`));
  }
  assert.equal(s.tampered.length, 1);
  const out = readFileSync(join(s.saveDir, 'Trip', 'film.bin'));
  const at = (i: number) => i * 4 * plain;
  for (const i of order) {
    const got = out.subarray(at(i), Math.min(at(i + 1), film.length));
    if (i === bad) assert.ok(got.every((x) => x === 0), 'nothing of the tampered piece reached the disk');
    else assert.ok(got.equals(film.subarray(at(i), Math.min(at(i + 1), film.length))), `piece ${i} is the plaintext`);
  }
  assert.ok(files.directBytes > film.length / 2, `${files.directBytes} bytes went direct: the aligned memory came back after the refusal`);
  await store.writePiece(bad, s.piece(bad));
  assert.ok(readFileSync(join(s.saveDir, 'Trip', 'film.bin')).subarray(0, film.length).equals(film), 'the piece fetched again completes the file');
  await store.close();
});

test('a share of more files than are kept open (no aligned memory): chunks go to the page cache as decrypted, byte-exact, and a tampered piece writes nothing', async (t) => {
  const names: Record<string, Buffer> = {};
  for (let i = 0; i < 40; i++) names[`f${String(i).padStart(2, '0')}.bin`] = randomBytes(3000 + i * 517);
  const s = await setUp(t, names);
  const files = new PlainFiles(s.sealed.manifest, s.saveDir, s.runBytes, 4);
  const store = plainStorage(s.share, files, { pieceHashes: s.pieceHashes, tampered: (err) => s.tampered.push(err) });
  const bent = Buffer.from(s.piece(0));
  bent[5]! ^= 1;
  await assert.rejects(store.writePiece(0, bent), /chunk 0 of this share failed authentication/);
  for (const i of [...Array(s.pieceCount).keys()].reverse()) await store.writePiece(i, s.piece(i));
  for (const [name, bytes] of Object.entries(names)) assert.ok(readFileSync(join(s.saveDir, 'Trip', name)).equals(bytes), `${name} is the plaintext`);
  assert.equal(files.directBytes, 0, 'nothing direct: more files than are kept open');
  await store.close();
});

test('a fresh download whose key and written marker are still on their way to the state: no file is made and nothing written before they are; when they fail, every write fails and nothing is on disk', async (t) => {
  const film = randomBytes(100_000);
  const s = await setUp(t, { 'film.bin': film });
  let persist!: () => void;
  const persisted = new Promise<void>((resolve) => (persist = resolve));
  const store = plainStorage(s.share, new PlainFiles(s.sealed.manifest, s.saveDir, s.runBytes, 4, { fresh: true }), { pieceHashes: s.pieceHashes, fresh: true, persisted, tampered: (err) => assert.fail(err) });
  assert.deepEqual(await store.fileStats(), [undefined], 'the engine\'s check does not wait for the state');
  let wrote = false;
  const first = store.writePiece(0, s.piece(0)).then(() => (wrote = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(wrote, false, 'the first write waits for the state');
  assert.equal(existsSync(join(s.saveDir, 'Trip')), false, 'no file made before the state says they are this node\'s');
  persist();
  await first;
  for (let i = 1; i < s.pieceCount; i++) await store.writePiece(i, s.piece(i));
  assert.ok(readFileSync(join(s.saveDir, 'Trip', 'film.bin')).equals(film));
  await store.close();

  const other = join(s.saveDir, 'other');
  const failed = Promise.reject(new Error('the state is read-only'));
  failed.catch(() => {});
  const refused = plainStorage(s.share, new PlainFiles(s.sealed.manifest, other, s.runBytes, 4, { fresh: true }), { pieceHashes: s.pieceHashes, fresh: true, persisted: failed, tampered: (err) => assert.fail(err) });
  await assert.rejects(refused.writePiece(0, s.piece(0)), /the state is read-only/);
  await assert.rejects(refused.writePiece(1, s.piece(1)), /the state is read-only/);
  assert.equal(existsSync(join(other, 'Trip')), false, 'nothing on disk');
  await refused.close();
});
