// BEP 52 piece verification against torrents libtorrent 2.0 made: every piece of a v2-only and a
// hybrid torrent (a file smaller than a piece, one of exactly a piece, one of many pieces ending in
// a partial piece, an empty file) checks out from the files on disk, and a flipped byte fails
// exactly the piece that holds it, in the download path's check and in the resume/recheck path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { checkPieces } from '../src/pieces/check.ts';
import { FsStorage } from '../src/node/fs-storage.ts';
import { createNodeHasher } from '../src/node/hasher.ts';
import { checkV2, locateV2 } from '../src/pieces/torrent-v2.ts';
import { parseTorrent } from '../src/metainfo/metainfo.ts';
import { makeLtTorrent } from './v2-fixture.ts';

const PIECE = 64 * 1024;

async function fixture(root: string): Promise<string> {
  const pack = path.join(root, 'pack');
  await fs.mkdir(path.join(pack, 'sub'), { recursive: true });
  await fs.writeFile(path.join(pack, 'a-small.bin'), randomBytes(20_000));
  await fs.writeFile(path.join(pack, 'b-piece.bin'), randomBytes(PIECE));
  await fs.writeFile(path.join(pack, 'sub', 'c-many.bin'), randomBytes(5 * PIECE + 12_345));
  await fs.writeFile(path.join(pack, 'd-empty.bin'), new Uint8Array(0));
  await fs.writeFile(path.join(pack, 'e-tiny.bin'), randomBytes(100));
  return pack;
}

for (const kind of ['v2', 'hybrid'] as const) {
  test(`${kind}: every piece of a libtorrent torrent verifies; a flipped byte fails only its piece`, async (t) => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), `cascade-v2verify-${kind}-`));
    t.after(() => fs.rm(root, { recursive: true, force: true }));
    const pack = await fixture(root);
    const file = path.join(root, 'pack.torrent');
    const ids = makeLtTorrent(pack, root, file, PIECE, kind);
    const meta = parseTorrent(await fs.readFile(file));
    assert.equal(meta.version, kind);
    assert.equal(meta.infoHashV2Hex, ids.v2, 'the v2 infohash is libtorrent\'s');
    assert.equal(meta.infoHashHex, kind === 'v2' ? ids.v2.slice(0, 40) : ids.v1);
    const hasher = createNodeHasher();
    const storage = new FsStorage(meta, root);
    t.after(() => storage.close());

    for (let i = 0; i < meta.pieceCount; i++) {
      const data = await storage.readPiece(i);
      assert.deepEqual(await checkV2(meta, hasher, i, data), { ok: true }, `piece ${i}`);
    }
    const all = await checkPieces(meta, storage, hasher);
    assert.equal(all.have.count, meta.pieceCount, 'a recheck finds every piece');

    // One byte of the many-piece file's third piece, and one of the small file.
    const many = meta.files.findIndex((f) => f.path.at(-1) === 'c-many.bin');
    const small = meta.files.findIndex((f) => f.path.at(-1) === 'a-small.bin');
    const bad = [Math.floor(meta.files[many]!.offset / PIECE) + 2, Math.floor(meta.files[small]!.offset / PIECE)];
    assert.equal(locateV2(meta, bad[0]!)?.filePiece, 2);
    for (const [f, at] of [[path.join(pack, 'sub', 'c-many.bin'), 2 * PIECE + 40_000], [path.join(pack, 'a-small.bin'), 19_999]] as const) {
      const h = await fs.open(f, 'r+');
      const b = Buffer.alloc(1);
      await h.read(b, 0, 1, at);
      b[0]! ^= 0x01;
      await h.write(b, 0, 1, at);
      await h.close();
    }
    await storage.close();
    for (const i of bad) {
      const r = await checkV2(meta, hasher, i, await storage.readPiece(i));
      assert.equal(r.ok, false, `piece ${i} fails`);
    }
    const after = await checkPieces(meta, storage, hasher);
    assert.deepEqual([...Array(meta.pieceCount).keys()].filter((i) => !after.have.get(i)), bad.sort((a, b) => a - b));
  });
}
