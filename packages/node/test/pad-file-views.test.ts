// Issue 20, defect 6: BEP 47 pad files are hidden from the torrent's file list (API detail, socket
// feed, CLI), and the files shown keep their metainfo index (selection and streaming use it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bencode, parseTorrent } from '@cascade/engine';
import { fileViews } from '../src/listing/torrent-view.ts';
import { FakeTorrent, HASH_A } from './helpers.ts';

test('pad files are left out of file views; indices stay the metainfo ones', () => {
  const meta = parseTorrent(bencode({
    info: {
      name: 'pack',
      'piece length': 16384,
      pieces: new Uint8Array(80),
      files: [
        { length: 100, path: ['a.bin'] },
        { length: 16284, path: ['.pad', '16284'], attr: 'p' },
        { length: 20000, path: ['sub', 'b.bin'] },
        { length: 12768, path: ['.pad', '12768'], attr: 'p' },
        { length: 5, path: ['c.txt'] },
      ],
    },
  }));
  const t = new FakeTorrent(HASH_A, 'pack');
  t.metainfo = meta;
  const views = fileViews(t, [0, 4])!;
  assert.deepEqual(views.map((v) => [v.index, v.path, v.selected]), [[0, 'a.bin', true], [2, 'sub/b.bin', false], [4, 'c.txt', true]]);
});
