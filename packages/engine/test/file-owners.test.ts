// Torrents may share a folder but never a file (file-owners.ts): conflicts found between torrents
// whose roots meet — one name in one save path, a torrent saved inside another's folder — in either
// order of claiming, and nothing compared (or kept per file) between torrents that do not meet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileConflictError, FileOwners } from '../src/node/file-owners.ts';
import type { Metainfo } from '../src/types.ts';

let next = 0;
function torrent(name: string, files?: (string | { path: string; pad: true })[]): Metainfo {
  const ih = (++next).toString(16).padStart(40, '0');
  const list = files?.map((f) => (typeof f === 'string' ? { path: f.split('/'), length: 1, offset: 0 } : { path: f.path.split('/'), length: 1, offset: 0, pad: true }));
  return { infoHashHex: ih, name, multiFile: !!files, files: list ?? [{ path: [name], length: 1, offset: 0 }] } as unknown as Metainfo;
}

const refused = (fn: () => unknown, file: string) =>
  assert.throws(fn, (e: unknown) => e instanceof FileConflictError && e.message.startsWith(`"${file}" already belongs`));

test('one file of two torrents is refused in either order; a shared folder is not', () => {
  const o = new FileOwners();
  o.claim(torrent('movie.mkv'), '/d');
  refused(() => o.claim(torrent('movie.mkv'), '/d'), 'movie.mkv');
  o.claim(torrent('movie.mkv'), '/elsewhere');

  const a = torrent('album', ['cd1/01.flac', 'cd1/02.flac']);
  o.claim(a, '/d');
  o.claim(torrent('album', ['cd2/01.flac', 'cover.jpg']), '/d'); // the same folder, other files
  refused(() => o.claim(torrent('album', ['cover.jpg']), '/d'), 'album/cover.jpg');
  refused(() => o.claim(torrent('album', ['x', 'cd1/02.flac']), '/d'), 'album/cd1/02.flac');
});

test('a file that is another torrent\'s folder is refused, whichever torrent came first and whatever the save paths', () => {
  const o = new FileOwners();
  o.claim(torrent('a'), '/s'); // the file /s/a
  refused(() => o.claim(torrent('a', ['f']), '/s'), 'a'); // needs /s/a as its folder

  const p = new FileOwners();
  p.claim(torrent('a', ['sub/f']), '/s');
  refused(() => p.claim(torrent('a', ['sub']), '/s'), 'a/sub'); // its file is the other's folder
  refused(() => p.claim(torrent('sub'), '/s/a'), 'sub'); // saved inside the other's folder
  refused(() => p.claim(torrent('f'), '/s/a/sub'), 'f'); // the very file, from deeper still
  p.claim(torrent('g'), '/s/a/sub'); // a file of its own there is fine

  const q = new FileOwners();
  const release = q.claim(torrent('sub'), '/s/a'); // the file /s/a/sub first, then a torrent needing it as a folder
  refused(() => q.claim(torrent('a', ['sub/f']), '/s'), 'a/sub');
  // Folders above a root count the roots below (issue 64): once released, nothing below is left.
  release();
  q.claim(torrent('a', ['sub/f']), '/s');
});

test('padding files are nobody\'s; a released claim frees its files; claiming again is free', () => {
  const o = new FileOwners();
  o.claim(torrent('t', [{ path: '.pad/16384', pad: true }, 'data']), '/d');
  o.claim(torrent('t', [{ path: '.pad/16384', pad: true }, 'other']), '/d');
  const first = torrent('x.iso');
  const release = o.claim(first, '/d');
  o.claim(first, '/d'); // its own file again: nothing to refuse
  refused(() => o.claim(torrent('x.iso'), '/d'), 'x.iso');
  release();
  o.claim(torrent('x.iso'), '/d');
});
