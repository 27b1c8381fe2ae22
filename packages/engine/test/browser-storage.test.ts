// The browser's MemoryStorage seeding the user's own files (Blobs), run in Node, which has the same
// Blob: every piece read in any order is the files' bytes, and a peer reading in order costs far
// fewer reads of the Blobs than there are pieces (each is a round trip to a browser's blob store).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTorrentFromFiles } from '../src/browser/create-torrent.ts';
import { MemoryStorage } from '../src/browser/storage.ts';

test('pieces read from the page\'s files: right in any order, and in order with few Blob reads', async () => {
  const pieceLength = 16384;
  // Pieces inside one file, pieces across file ends, a short last piece.
  const bytes = { 'a.bin': randomBytes(40 * pieceLength + 100), 'b.bin': randomBytes(3 * pieceLength + 5), 'c.bin': randomBytes(300 * pieceLength + 77) };
  let reads = 0;
  const files = Object.entries(bytes).map(([name, b]) => {
    const f = new File([b], name);
    const slice = f.slice.bind(f);
    // Every read of a file's bytes starts with a slice of it.
    f.slice = (...args: Parameters<Blob['slice']>) => (reads++, slice(...args));
    return f;
  });
  const { metainfo, blobs } = await createTorrentFromFiles(files, { announce: [], pieceLength });
  const all = Buffer.concat(Object.values(bytes));
  const expected = (i: number) => all.subarray(i * pieceLength, Math.min(all.length, (i + 1) * pieceLength));
  const order = [...Array(metainfo.pieceCount).keys()];

  reads = 0;
  let storage = new MemoryStorage(metainfo, blobs);
  // As the uploader asks: a few pieces ahead at once.
  for (let i = 0; i < order.length; i += 4) {
    const got = await Promise.all(order.slice(i, i + 4).map((k) => storage.readPiece(k)));
    got.forEach((g, j) => assert.deepEqual(Buffer.from(g), expected(i + j), `piece ${i + j} in order`));
  }
  assert.ok(reads < order.length / 8, `${reads} Blob reads for ${order.length} pieces read in order`);

  for (const shuffled of [[...order].reverse(), [...order].sort(() => Math.random() - 0.5)]) {
    storage = new MemoryStorage(metainfo, blobs);
    for (const k of shuffled) assert.deepEqual(Buffer.from(await storage.readPiece(k)), expected(k), `piece ${k} out of order`);
  }
});

test('a file shorter than its torrent says fails the read of its pieces with a clear error', async () => {
  const pieceLength = 16384;
  const full = randomBytes(10 * pieceLength);
  const { metainfo } = await createTorrentFromFiles([new File([full], 'x.bin')], { announce: [], pieceLength });
  const storage = new MemoryStorage(metainfo, [new File([full.subarray(0, 7 * pieceLength + 3)], 'x.bin')]);
  await assert.rejects(storage.readPiece(7), /shorter than expected \(piece 7\)/);
  await assert.rejects(storage.readPiece(9), /shorter than expected/);
  assert.deepEqual(Buffer.from(await storage.readPiece(6)), full.subarray(6 * pieceLength, 7 * pieceLength));
});
