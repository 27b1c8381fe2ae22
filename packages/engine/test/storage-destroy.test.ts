// Removing a torrent with its data deletes its own files only: a folder of another torrent that
// sits where this torrent's single file would be stays, and the removal does not fail (found by
// the fuzz harness as an HTTP 500 on DELETE …?deleteData=true that left the torrent listed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTorrent } from '../index.ts';
import { FsStorage } from '../src/node/fs-storage.ts';

test('destroy() removes its files and leaves a same-named folder of someone else alone', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-destroy-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const src = path.join(root, 'src', 'dir');
  await fs.mkdir(path.dirname(src), { recursive: true });
  await fs.writeFile(src, 'a single file named dir');
  const { metainfo } = await createTorrent(src, { pieceLength: 16 * 1024 });

  // Someone else's folder "dir" is where this torrent's file would go.
  const save = path.join(root, 'downloads');
  await fs.mkdir(path.join(save, 'dir', 'sub'), { recursive: true });
  await fs.writeFile(path.join(save, 'dir', 'sub', 'keep.txt'), 'not yours');
  const storage = new FsStorage(metainfo, save);
  await storage.destroy();
  assert.equal(await fs.readFile(path.join(save, 'dir', 'sub', 'keep.txt'), 'utf8'), 'not yours');

  // Its own file is removed.
  const own = path.join(root, 'own');
  await fs.mkdir(own);
  await fs.writeFile(path.join(own, 'dir'), 'a single file named dir');
  await new FsStorage(metainfo, own).destroy();
  await assert.rejects(fs.stat(path.join(own, 'dir')), { code: 'ENOENT' });
});

// A torrent that moved or was removed lets go of its storage for good (retire): a write still on its
// way used to open the file again, and make it anew (empty but for that piece) in the folder the data
// had just left (issue 63, bench:crash --cluster: a copy in two folders, verified pieces failing
// their hash after a later move back over it). Now it is refused, and nothing is made.
test('a retired or destroyed storage refuses writes and makes no file again', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-retire-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const src = path.join(root, 'src', 'one.bin');
  await fs.mkdir(path.dirname(src), { recursive: true });
  const bytes = Buffer.alloc(32 * 1024, 7);
  await fs.writeFile(src, bytes);
  const { metainfo } = await createTorrent(src, { pieceLength: 16 * 1024 });
  for (const end of ['retire', 'destroy'] as const) {
    const save = path.join(root, end);
    const storage = new FsStorage(metainfo, save);
    await storage.writePiece(0, bytes.subarray(0, 16 * 1024));
    await storage[end]();
    await fs.rm(path.join(save, 'one.bin'), { force: true }); // the data moved away (or was deleted)
    await assert.rejects(storage.writePiece(1, bytes.subarray(16 * 1024)), /old storage takes no more writes/);
    assert.equal(await fs.stat(path.join(save, 'one.bin')).then(() => true, () => false), false, `${end}: no file made again`);
  }
});
