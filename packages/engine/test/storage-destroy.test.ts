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
