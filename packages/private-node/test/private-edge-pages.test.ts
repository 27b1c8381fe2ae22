// A recipient's plaintext writes and the pages pieces share (src/private/edge-pages.ts): a piece's
// plaintext starts and ends off the 4 KiB grid, so each end shares a page with the piece beside it.
// Real sealed shares on disk, pieces written as the engine writes them (several at once, out of
// order), and a writer killed with SIGKILL mid-way and resumed by another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChunkCipher } from '@cascade/private-shares';
import { sealFiles } from '@cascade/private-shares/node';
import { PlainFiles } from '../src/plain-files.ts';
import type { PlainStorage } from '../src/plain-storage.ts';
import { plainStorage } from './plain-share.ts';

const CHUNK = 16384;
const PIECE = 4 * CHUNK;
const BODY = PIECE - 4 * 16; // plaintext per piece: 65,472, off the 4 KiB grid

async function setUp(t: { after: (fn: () => unknown) => void }, size: number) {
  const root = await mkdtemp(join(tmpdir(), 'cascade-edge-pages-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const film = randomBytes(size);
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'film.bin'), film);
  mkdirSync(join(root, 'sharer'));
  const sealed = await sealFiles(join(root, 'src', 'film.bin'), join(root, 'sharer'), [], { chunk: CHUNK });
  const cipherBytes = readFileSync(sealed.cipherPath);
  const cipher = await ChunkCipher.create(sealed.key, sealed.info, sealed.manifest.length);
  const pieceCount = Math.ceil(cipherBytes.length / PIECE);
  const saveDir = join(root, 'recipient');
  const files = (fresh: boolean) => new PlainFiles(sealed.manifest, saveDir, BODY, 4, { fresh });
  const share = { key: sealed.key, info: sealed.info, chunkCount: cipher.chunkCount, pieceLength: PIECE };
  const storage = (plain: PlainFiles, fresh = true) => plainStorage(share, plain, { fresh, tampered: (err) => assert.fail(err) });
  const piece = (i: number) => cipherBytes.subarray(i * PIECE, (i + 1) * PIECE);
  const onDisk = () => readFileSync(join(saveDir, 'film.bin'));
  return { root, film, sealed, cipher, cipherBytes, pieceCount, saveDir, files, storage, piece, onDisk };
}

/** Writes the pieces in `order`, `inFlight` at once, as the engine does. */
async function writeAll(store: PlainStorage, piece: (i: number) => Uint8Array, order: readonly number[], inFlight: number): Promise<void> {
  const out: Promise<void>[] = [];
  for (const i of order) {
    if (out.length >= inFlight) await out.shift();
    out.push(store.writePiece(i, piece(i)));
  }
  await Promise.all(out);
}

function shuffled(n: number): number[] {
  const order = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

test('pieces out of order, several at once: every byte right, the pages they share written whole with O_DIRECT (the page cache only for the file’s last page)', async (t) => {
  const s = await setUp(t, 40 * BODY + 1234);
  for (const [what, order] of [['shuffled', shuffled(s.pieceCount)], ['backwards', [...Array(s.pieceCount).keys()].reverse()], ['in order', [...Array(s.pieceCount).keys()]]] as const) {
    await rm(s.saveDir, { recursive: true, force: true });
    const files = s.files(true);
    const store = s.storage(files);
    await writeAll(store, s.piece, order, 6);
    assert.ok(s.onDisk().equals(s.film), `${what}: the plaintext on disk is the original`);
    assert.ok(files.directBytes > s.film.length - 8192, `${what}: ${files.directBytes} of ${s.film.length} bytes went direct`);
    // The file's last page only (it ends mid-page: a whole page would make the file longer), which
    // here the last two pieces share.
    assert.ok(files.pageCacheWrites <= 2, `${what}: ${files.pageCacheWrites} writes through the page cache`);
    await store.close();
  }
});

test('files that already hold data (a resumed download) are never written with zeros: edges without a neighbour in memory go through the page cache', async (t) => {
  const s = await setUp(t, 24 * BODY + 999);
  const order = shuffled(s.pieceCount);
  const first = order.slice(0, order.length / 2);
  const rest = order.slice(order.length / 2);
  const one = s.storage(s.files(true));
  await writeAll(one, s.piece, first, 4);
  await one.close();
  // The next run of the node: the same files, told they are fresh, find data in them.
  const files = s.files(true);
  const two = s.storage(files, false);
  await writeAll(two, s.piece, rest, 4);
  assert.ok(s.onDisk().equals(s.film), 'every byte right');
  assert.ok(files.pageCacheWrites > 0, 'edges beside pieces of the first run went through the page cache');
  await two.close();
});

test('a writer killed with SIGKILL mid-way: every piece it said was written is on disk byte for byte, and another run completes the plaintext exactly', async (t) => {
  const s = await setUp(t, 64 * BODY + 4321);
  const order = shuffled(s.pieceCount);
  const job = {
    cipherPath: s.sealed.cipherPath,
    saveDir: s.saveDir,
    key: Buffer.from(s.sealed.key).toString('hex'),
    salt: Buffer.from(s.sealed.info.salt).toString('hex'),
    chunk: CHUNK,
    chunkCount: s.cipher.chunkCount,
    pieceLength: PIECE,
    manifest: s.sealed.manifest,
    order,
    inFlight: 8,
  };
  const child = spawn(process.execPath, [join(import.meta.dirname, 'private-writes-child.ts'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Set<number>();
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = /^done (\d+)$/.exec(line);
    if (m) done.add(Number(m[1]));
    if (done.size >= s.pieceCount / 3) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  assert.ok(done.size < s.pieceCount, 'killed before the end');
  // What the engine would have marked done: each such piece's plaintext, edges included, is there.
  const disk = s.onDisk();
  for (const i of done) {
    const from = i * BODY;
    assert.ok(disk.subarray(from, Math.min(s.film.length, from + BODY)).equals(s.film.subarray(from, from + BODY)), `piece ${i}, said written, is on disk`);
  }
  const files = s.files(true);
  const store = s.storage(files, false);
  await writeAll(store, s.piece, order.filter((i) => !done.has(i)), 6);
  assert.ok(s.onDisk().equals(s.film), 'resumed: the plaintext is the original, byte for byte');
  await store.close();
});

test('a fresh download makes its folders and files new, empty and open before its first piece; a file put there since keeps its bytes where no piece wrote (no zeros)', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'cascade-edge-pages-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'album', 'sub'), { recursive: true });
  const a = randomBytes(3 * BODY + 100);
  const b = randomBytes(2 * BODY + 7);
  writeFileSync(join(root, 'album', 'a.bin'), a);
  writeFileSync(join(root, 'album', 'sub', 'b.bin'), b);
  mkdirSync(join(root, 'sharer'));
  const sealed = await sealFiles(join(root, 'album'), join(root, 'sharer'), [], { chunk: CHUNK });
  const cipherBytes = readFileSync(sealed.cipherPath);
  const cipher = await ChunkCipher.create(sealed.key, sealed.info, sealed.manifest.length);
  const share = { key: sealed.key, info: sealed.info, chunkCount: cipher.chunkCount, pieceLength: PIECE };
  const saveDir = join(root, 'recipient', 'not-yet-there');
  const at = (...p: string[]) => join(saveDir, 'album', ...p);

  const made = new PlainFiles(sealed.manifest, saveDir, BODY, 4, { fresh: true });
  await made.makeAll();
  assert.deepEqual([statSync(at('a.bin')).size, statSync(at('sub', 'b.bin')).size], [0, 0], 'both files made, empty, their folders too');
  await made.close();

  // The share was found fresh, then a file of its name was put there: nothing of it is zeroed.
  const old = Buffer.alloc(a.length, 0xaa);
  writeFileSync(at('a.bin'), old);
  const store = plainStorage(share, new PlainFiles(sealed.manifest, saveDir, BODY, 4, { fresh: true }), { fresh: true, tampered: (err) => assert.fail(err) });
  await store.writePiece(1, cipherBytes.subarray(PIECE, 2 * PIECE));
  await store.close();
  const got = readFileSync(at('a.bin'));
  assert.ok(got.subarray(BODY, 2 * BODY).equals(a.subarray(BODY, 2 * BODY)), 'the piece written is the plaintext');
  assert.ok(got.subarray(0, BODY).equals(old.subarray(0, BODY)) && got.subarray(2 * BODY).equals(old.subarray(2 * BODY)), 'the bytes around it are the file’s own');
});
