// Issue 43 item 6, on disk: BEP 47 attributes of a torrent downloaded from libtorrent. Symlinks
// (`l` with `symlink path`) become relative links inside the torrent's folder, never pointing
// outside it; the executable bit (`x`) is set on the file made; `h` is kept in the metadata; a
// link's claimed length is no data. libtorrent reads the same torrent the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, parseTorrent, bencode } from '../index.ts';
import { FsStorage } from '../src/node/fs-storage.ts';
import { seedWithLibtorrent, whenDone } from './session-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const LT_CORPUS = fileURLToPath(new URL('./lt_corpus.py', import.meta.url));
const PIECE = 16384;

/** A v1 torrent of `data` (in file order) plus links, hashed here: libtorrent makes no such links. */
function makeTorrent(data: [string[], Buffer, string?][], links: [string[], string[]][]): Uint8Array {
  const all = Buffer.concat(data.map(([, b]) => b));
  const pieces = Buffer.concat(Array.from({ length: Math.ceil(all.length / PIECE) }, (_, i) =>
    createHash('sha1').update(all.subarray(i * PIECE, (i + 1) * PIECE)).digest()));
  const files = [
    ...data.map(([p, b, attr]) => ({ length: b.length, path: p, ...(attr ? { attr } : {}) })),
    // A length on a link is ignored by libtorrent and by Cascade alike: it takes no room.
    ...links.map(([p, target]) => ({ length: 999, path: p, attr: 'l', 'symlink path': target })),
  ];
  return bencode({ info: { name: 'pack', 'piece length': PIECE, pieces, files } });
}

test('symlinks, the executable bit and hidden files of a torrent downloaded from libtorrent', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-attr-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const run = randomBytes(3000);
  const a = randomBytes(50_000);
  const note = randomBytes(10);
  const bytes = makeTorrent(
    [[['bin', 'run.sh'], run, 'x'], [['data', 'a.bin'], a], [['.note'], note, 'h']],
    [
      [['link-a'], ['data', 'a.bin']],
      [['data-link'], ['data']],
      [['bin', 'near'], ['run.sh']], // relative to its own folder, as older torrents wrote them
      [['escape'], ['..', '..', '..', 'etc', 'passwd']],
    ],
  );
  const torrentFile = path.join(root, 'pack.torrent');
  await fs.writeFile(torrentFile, bytes);
  const meta = parseTorrent(bytes);
  assert.equal(meta.length, run.length + a.length + note.length, 'links hold no data');
  assert.equal(meta.files.find((f) => f.path.join('/') === '.note')!.hidden, true);

  // libtorrent reads the same links (the corpus test compares everything else).
  const lt = spawnSync('/usr/bin/python3', [LT_CORPUS, torrentFile], { encoding: 'utf8' });
  const theirs = JSON.parse(lt.stdout) as { files: { path: string; flags: string[]; target?: string }[] };
  for (const f of meta.files) {
    const other = theirs.files.find((x) => x.path === `pack/${f.path.join('/')}`)!;
    assert.equal(other.target, f.symlink && `pack/${f.symlink.join('/')}`, f.path.join('/'));
    assert.equal(other.flags.includes('executable'), !!f.executable);
  }

  const seedDir = path.join(root, 'seed', 'pack');
  await fs.mkdir(path.join(seedDir, 'bin'), { recursive: true });
  await fs.mkdir(path.join(seedDir, 'data'), { recursive: true });
  await fs.writeFile(path.join(seedDir, 'bin', 'run.sh'), run);
  await fs.writeFile(path.join(seedDir, 'data', 'a.bin'), a);
  await fs.writeFile(path.join(seedDir, '.note'), note);
  const port = await seedWithLibtorrent(t, torrentFile, path.join(root, 'seed'));
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const out = path.join(root, 'out');
  const h = await session.add(bytes, { savePath: out, peers: [`127.0.0.1:${port}`] });
  await whenDone(h);
  const pack = path.join(out, 'pack');
  assertSameBytes(await fs.readFile(path.join(pack, 'data', 'a.bin')), a);

  // Links: relative, inside the folder, and they lead to the data.
  assert.equal(await fs.readlink(path.join(pack, 'link-a')), path.join('data', 'a.bin'));
  assertSameBytes(await fs.readFile(path.join(pack, 'link-a')), a);
  assert.equal(await fs.readlink(path.join(pack, 'data-link')), 'data');
  assertSameBytes(await fs.readFile(path.join(pack, 'data-link', 'a.bin')), a);
  assert.equal(await fs.readlink(path.join(pack, 'bin', 'near')), 'run.sh');
  // '..' is dropped from the target and "etc/passwd" is no file of the torrent: no link at all.
  await assert.rejects(fs.lstat(path.join(pack, 'escape')), { code: 'ENOENT' });

  // The executable bit on the file marked `x`, and on no other.
  assert.notEqual((await fs.stat(path.join(pack, 'bin', 'run.sh'))).mode & 0o100, 0);
  assert.equal((await fs.stat(path.join(pack, 'data', 'a.bin'))).mode & 0o111, 0);
  assertSameBytes(await fs.readFile(path.join(pack, '.note')), note);

  // A restart checks the data: the links are neither missing files nor data to hash.
  await session.remove(meta.infoHashHex);
  const again = await session.add(bytes, { savePath: out });
  assert.equal(again.stats().state, 'seeding');
});

test('storage makes no link that would lead outside the torrent folder, whatever the metainfo says', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-attr-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const data = randomBytes(100);
  const parsed = parseTorrent(makeTorrent([[['f'], data]], [[['inside'], ['f']]]));
  // The parser never yields these; storage refuses them all the same (a Metainfo made by hand).
  const meta = {
    ...parsed,
    files: [
      ...parsed.files,
      { path: ['up'], length: 0, offset: 100, symlink: ['..', '..', 'etc'] },
      { path: ['hidden-up'], length: 0, offset: 100, symlink: ['x/../../../etc'] },
      { path: ['self'], length: 0, offset: 100, symlink: ['self'] },
    ],
  };
  const storage = new FsStorage(meta, root);
  t.after(() => storage.close());
  await storage.writePiece(0, data);
  const pack = path.join(root, 'pack');
  assert.equal(await fs.readlink(path.join(pack, 'inside')), 'f');
  for (const name of ['up', 'hidden-up', 'self']) await assert.rejects(fs.lstat(path.join(pack, name)), { code: 'ENOENT' }, name);
  assert.deepEqual((await fs.readdir(pack)).sort(), ['f', 'inside']);
});
