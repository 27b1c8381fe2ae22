// Piece writes through O_DIRECT (src/node/direct-io.ts): aligned middles skip the page cache, the
// unaligned edges of multi-file pieces and the short last piece take the buffered path, and every
// byte on disk must match, in single- and multi-file torrents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferPool } from '../src/pieces/buffer-pool.ts';
import { parseTorrent } from '../src/metainfo/metainfo.ts';
import { pieceLengthOf } from '../src/pieces/piece-map.ts';
import { createTorrent } from '../src/node/create-torrent.ts';
import { alignedSlab, alignedSlabs, isDirectAligned } from '../src/node/direct-io.ts';
import { FsStorage } from '../src/node/fs-storage.ts';

const KiB = 1024;

test('slab slots are page-aligned, handed out first, and always come back to the pool', () => {
  const slab = alignedSlab(64 * KiB);
  assert.ok(slab, 'Linux has O_DIRECT, so a slab is made');
  assert.equal(slab.length, 64 * 1024 * 1024, '64 MiB of 64 KiB pieces');
  const pool = new BufferPool(64 * KiB, 2, (n) => Buffer.allocUnsafeSlow(n), slab);
  const a = pool.get(64 * KiB);
  const b = pool.get(64 * KiB);
  assert.ok(isDirectAligned(a) && isDirectAligned(b));
  assert.equal(a.byteOffset, 0, 'first slot first');
  assert.ok(!isDirectAligned(Buffer.allocUnsafeSlow(64 * KiB)), 'ordinary buffers are not trusted as aligned');
  assert.ok(!isDirectAligned(a.subarray(100)), 'an unaligned view of a slot is not aligned');
  pool.release(a);
  pool.release(a); // a second release must not put it in the pool twice
  assert.equal(pool.get(64 * KiB), a);
  assert.notEqual(pool.get(64 * KiB), a);
  pool.release(a.subarray(0, 10)); // a stranger's view never enters the pool
  assert.equal(alignedSlab(64 * KiB + 100), undefined, 'no slab for piece lengths O_DIRECT cannot use');
});

// One 64 MiB slab counted against V8's external memory at once, and V8 began every download with a
// full collection for it (issue 40): the pool now takes slabs of 8 MiB one at a time, as it needs them.
test('a pool takes slabs from its source only when every slot so far is out, up to the source\'s limit', () => {
  const source = alignedSlabs(1024 * KiB, 20 * 1024 * KiB);
  assert.ok(source, 'Linux has O_DIRECT');
  const slabs: Uint8Array[] = [];
  const pool = new BufferPool(1024 * KiB, 2, (n) => Buffer.allocUnsafeSlow(n), () => {
    const slab = source();
    if (slab) slabs.push(slab);
    return slab;
  });
  const a = pool.get(1024 * KiB);
  assert.equal(slabs.length, 1, 'the first piece takes one slab');
  assert.equal(slabs[0]!.length, 8 * 1024 * KiB, 'of 8 MiB');
  pool.release(a);
  assert.equal(pool.get(1024 * KiB), a, 'a slot that came back is used again before any new slab');
  const out = [a];
  for (let i = 1; i < 20; i++) out.push(pool.get(1024 * KiB));
  assert.deepEqual(slabs.map((s) => s.length / (1024 * KiB)), [8, 8, 4], 'slabs as needed, 20 pieces in all');
  assert.ok(out.every((b) => isDirectAligned(b)), 'every slot is page-aligned');
  assert.equal(new Set(out.map((b) => `${slabs.findIndex((s) => s.buffer === b.buffer)}:${b.byteOffset}`)).size, 20, 'no slot handed out twice');
  const extra = pool.get(1024 * KiB);
  assert.ok(!isDirectAligned(extra), 'past the limit: ordinary memory');
  assert.equal(slabs.length, 3, 'the source is not asked again once spent');
  for (const b of out) pool.release(b);
  assert.ok(isDirectAligned(pool.get(1024 * KiB)), 'slots come back whatever `keep` says');
  assert.equal(alignedSlabs(64 * KiB + 100), undefined, 'no slabs for piece lengths O_DIRECT cannot use');
});

for (const layout of ['single', 'multi'] as const) {
  test(`${layout}-file torrent: pieces written from slab buffers read back byte for byte`, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'cascade-direct-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const src = join(root, 'src');
    mkdirSync(src);
    // Multi-file: sizes that put file boundaries mid-page and mid-piece, plus an empty file.
    const sizes = layout === 'single' ? [5 * 64 * KiB + 1234] : [70_001, 0, 4096, 200_003, 13];
    const files = sizes.map((n, i) => ({ name: `f${i}.bin`, data: randomBytes(n) }));
    let target = src;
    if (layout === 'single') {
      target = join(src, files[0]!.name);
      writeFileSync(target, files[0]!.data);
    } else {
      target = join(src, 'set');
      mkdirSync(target);
      for (const f of files) writeFileSync(join(target, f.name), f.data);
    }
    const { torrent } = await createTorrent(target, { pieceLength: 64 * KiB });
    const meta = parseTorrent(torrent);
    const all = Buffer.concat(files.map((f) => f.data));
    const out = join(root, 'out');
    const storage = new FsStorage(meta, out);
    const pool = new BufferPool(meta.pieceLength, 4, (n) => Buffer.allocUnsafeSlow(n), alignedSlab(meta.pieceLength));
    // Reverse order: writes land past the current end of file, as they do in a real download.
    for (let i = meta.pieceCount - 1; i >= 0; i--) {
      const len = pieceLengthOf(meta, i);
      const buf = pool.get(len);
      all.copy(buf, 0, i * meta.pieceLength, i * meta.pieceLength + len);
      await storage.writePiece(i, buf);
      pool.release(buf);
    }
    await storage.close();
    // Single file: every full piece goes direct. Multi-file: only where a file's start lines up with
    // a page of the piece buffer (here the first file); the rest takes the page cache.
    assert.ok(storage.directBytes >= (layout === 'single' ? 5 * 64 * KiB : 64 * KiB), `direct bytes ${storage.directBytes}`);
    const base = layout === 'single' ? out : join(out, 'set');
    for (const f of files) assert.ok(readFileSync(join(base, f.name)).equals(f.data), `${f.name} matches`);
    // And the storage reads them back the same way a seeder would.
    const again = new FsStorage(meta, out);
    for (let i = 0; i < meta.pieceCount; i++) {
      const got = await again.readPiece(i);
      assert.ok(Buffer.from(got).equals(all.subarray(i * meta.pieceLength, i * meta.pieceLength + pieceLengthOf(meta, i))), `piece ${i}`);
    }
    await again.close();
  });
}

// Issue 40: past 8 direct writes queued, the rest went through the page cache, which costs ~15× the
// CPU per byte here and slowed the direct writes behind it, so a fast download sent a third to half
// of its bytes that way. However many pieces complete at once, each goes direct.
test('pieces written all at once all skip the page cache', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-direct-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const data = randomBytes(32 * 64 * KiB);
  writeFileSync(join(root, 'f.bin'), data);
  const { torrent } = await createTorrent(join(root, 'f.bin'), { pieceLength: 64 * KiB });
  const meta = parseTorrent(torrent);
  const storage = new FsStorage(meta, join(root, 'out'));
  const pool = new BufferPool(meta.pieceLength, 4, (n) => Buffer.allocUnsafeSlow(n), alignedSlab(meta.pieceLength));
  const bufs = Array.from({ length: meta.pieceCount }, (_, i) => {
    const buf = pool.get(meta.pieceLength);
    data.copy(buf, 0, i * meta.pieceLength, (i + 1) * meta.pieceLength);
    return buf;
  });
  await Promise.all(bufs.map((buf, i) => storage.writePiece(i, buf)));
  await storage.close();
  assert.equal(storage.directBytes, data.length, 'all 32 pieces went direct');
  assert.ok(readFileSync(join(root, 'out', 'f.bin')).equals(data));
});
