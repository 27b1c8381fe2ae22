// Cross-checks createTorrent against libtorrent (Python bindings) and mktorrent, the two references
// whose infohashes real swarms use.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decode, isDict } from '../src/encoding/bencode.ts';
import { MetainfoError, parseTorrent } from '../src/metainfo/metainfo.ts';
import { createTorrent, defaultPieceLength } from '../src/node/create-torrent.ts';

const PY = '/usr/bin/python3';

// Files are added in the order given (libtorrent's own add_files uses readdir order for v1).
const LT_SCRIPT = `
import json, sys, libtorrent as lt
spec = json.loads(sys.argv[1])
fs = lt.file_storage()
if spec.get('walk'):
    lt.add_files(fs, spec['walk'])
else:
    for p, size in spec['files']:
        fs.add_file(p, size)
flags = lt.create_torrent.v1_only | (lt.create_torrent.canonical_files if spec.get('pad') else 0)
t = lt.create_torrent(fs, spec['pieceLength'], flags=flags)
if spec.get('private'):
    t.set_priv(True)
lt.set_piece_hashes(t, spec['parent'])
e = t.generate()
open(spec['out'], 'wb').write(lt.bencode(e))
print(str(lt.torrent_info(e).info_hash()))
`;

interface LtSpec {
  parent: string;
  out: string;
  pieceLength: number;
  files?: [string, number][];
  walk?: string;
  private?: boolean;
  pad?: boolean;
}

function libtorrent(spec: LtSpec): string {
  return execFileSync(PY, ['-c', LT_SCRIPT, JSON.stringify(spec)], { encoding: 'utf8' }).trim();
}

function mktorrent(target: string, out: string, pieceLength: number, priv = false): Uint8Array {
  const args = ['-l', String(Math.log2(pieceLength)), '-o', out, ...(priv ? ['-p'] : []), target];
  execFileSync('mktorrent', args, { stdio: 'ignore' });
  return readFileSync(out);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cascade-create-'));
}

/** Writes random content; keys are '/'-separated relative paths. */
function writeTree(root: string, files: Record<string, number>) {
  for (const [rel, size] of Object.entries(files)) {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, randomBytes(size));
  }
}

// Names chosen to separate byte order from other orders: '.' < '/' < uppercase < lowercase < UTF-8.
const TREE: Record<string, number> = {
  'a.txt': 70_001,
  'a/b': 5_000,
  'B': 3,
  'Z': 40_000,
  'empty': 0,
  'sub/deep/x.bin': 300_000,
  'sub/y': 1,
  'é.bin': 33_000,
  '😀': 65_536,
};

test('single file matches libtorrent and mktorrent', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'payload.bin');
    writeFileSync(file, randomBytes(1_000_003));
    const { metainfo, torrent } = await createTorrent(file, { pieceLength: 32768 });
    assert.equal(metainfo.multiFile, false);
    assert.equal(metainfo.pieceCount, Math.ceil(1_000_003 / 32768));
    assert.deepEqual(metainfo.files, [{ path: ['payload.bin'], length: 1_000_003, offset: 0 }]);

    const lt = libtorrent({ parent: dir, out: join(dir, 'lt.torrent'), pieceLength: 32768, walk: file });
    assert.equal(metainfo.infoHashHex, lt);
    const mk = parseTorrent(mktorrent(file, join(dir, 'mk.torrent'), 32768));
    assert.equal(metainfo.infoHashHex, mk.infoHashHex);
    assert.deepEqual(mk.infoBytes, metainfo.infoBytes);
    assert.equal(parseTorrent(torrent).infoHashHex, lt);

    // Default piece length follows libtorrent's table (libtorrent picks it when given 0).
    const dflt = await createTorrent(file);
    assert.equal(dflt.metainfo.pieceLength, 16384);
    assert.equal(dflt.metainfo.infoHashHex, libtorrent({ parent: dir, out: join(dir, 'lt0.torrent'), pieceLength: 0, walk: file }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('multi-file tree matches libtorrent and mktorrent, public and private', async () => {
  const dir = tempDir();
  try {
    const root = join(dir, 'My Folder');
    writeTree(root, TREE);
    for (const priv of [false, true]) {
      const { metainfo } = await createTorrent(root, { pieceLength: 32768, private: priv });
      assert.equal(metainfo.private, priv);
      assert.equal(metainfo.multiFile, true);
      assert.deepEqual(
        metainfo.files.map((f) => f.path.join('/')),
        ['B', 'Z', 'a.txt', 'a/b', 'empty', 'sub/deep/x.bin', 'sub/y', 'é.bin', '😀'],
      );
      const files = metainfo.files.map((f): [string, number] => [['My Folder', ...f.path].join('/'), f.length]);
      const lt = libtorrent({ parent: dir, out: join(dir, 'lt.torrent'), pieceLength: 32768, files, private: priv });
      assert.equal(metainfo.infoHashHex, lt, `libtorrent private=${priv}`);
      const mk = parseTorrent(mktorrent(root, join(dir, `mk-${priv}.torrent`), 32768, priv));
      assert.equal(metainfo.infoHashHex, mk.infoHashHex, `mktorrent private=${priv}`);
      assert.deepEqual(mk.files, metainfo.files);
      assert.equal(mk.private, priv);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseTorrent reads libtorrent torrents with BEP 47 pad files', async () => {
  const dir = tempDir();
  try {
    const root = join(dir, 'padded');
    writeTree(root, TREE);
    const out = join(dir, 'lt.torrent');
    const hash = libtorrent({ parent: dir, out, pieceLength: 16384, walk: root, pad: true });
    const m = parseTorrent(readFileSync(out));
    assert.equal(m.infoHashHex, hash);
    assert.equal(m.name, 'padded');
    const real = m.files.filter((f) => !f.pad);
    assert.deepEqual(real.map((f) => f.path.join('/')).sort(), Object.keys(TREE).sort());
    for (const f of real) assert.equal(f.length, TREE[f.path.join('/')]);
    assert.ok(m.files.some((f) => f.pad), 'libtorrent canonical_files adds pad files');
    // Pads align every non-empty file after the first to a piece boundary.
    for (const f of real) if (f.length > 0) assert.equal(f.offset % 16384, 0, f.path.join('/'));
    assert.equal(m.pieceCount, Math.ceil(m.length / 16384));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('info dict has exactly the reference keys; outer fields round trip', async () => {
  const dir = tempDir();
  try {
    writeTree(dir, { 'x/one': 20_000, 'x/two': 20_000 });
    const progress: number[] = [];
    const { torrent, metainfo } = await createTorrent(join(dir, 'x'), {
      pieceLength: 16384,
      announce: ['udp://a:1/announce', 'http://b/announce'],
      webSeeds: ['http://seed/'],
      comment: 'hello',
      createdBy: 'tester',
      onProgress: (done, total) => {
        assert.equal(total, 40_000);
        progress.push(done);
      },
    });
    assert.equal(progress.at(-1), 40_000);
    const top = decode(torrent).value;
    assert.ok(isDict(top) && isDict(top['info']));
    assert.deepEqual(Object.keys(top['info']), ['files', 'name', 'piece length', 'pieces']);
    assert.deepEqual(Object.keys(top), ['announce', 'announce-list', 'comment', 'created by', 'creation date', 'info', 'url-list']);

    const back = parseTorrent(torrent);
    assert.deepEqual(back, metainfo);
    assert.deepEqual(back.announce, [['udp://a:1/announce'], ['http://b/announce']]);
    assert.deepEqual(back.urlList, ['http://seed/']);
    assert.equal(back.comment, 'hello');
    assert.equal(back.createdBy, 'tester');
    assert.ok(Math.abs(back.creationDate! - Date.now() / 1000) < 60);

    const priv = await createTorrent(join(dir, 'x'), { pieceLength: 16384, private: true });
    const privInfo = decode(priv.metainfo.infoBytes).value;
    assert.ok(isDict(privInfo));
    assert.deepEqual(Object.keys(privInfo), ['files', 'name', 'piece length', 'pieces', 'private']);
    assert.equal(privInfo['private'], 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('regular files only, rejections are clear', async () => {
  const dir = tempDir();
  try {
    mkdirSync(join(dir, 'empty/nested'), { recursive: true });
    await assert.rejects(createTorrent(join(dir, 'empty')), /empty directory/);

    writeTree(dir, { 'tree/real': 100 });
    symlinkSync('/etc/hostname', join(dir, 'tree/link'));
    const { metainfo } = await createTorrent(join(dir, 'tree'));
    assert.deepEqual(metainfo.files.map((f) => f.path), [['real']]);

    await assert.rejects(createTorrent(join(dir, 'tree'), { pieceLength: 3000 }), /power of two/);
    await assert.rejects(createTorrent(join(dir, 'missing')), /ENOENT/);

    // Legal on Linux, but a downloader on Windows would treat it as a separator.
    writeTree(dir, { 'bad/a\\b': 1 });
    await assert.rejects(createTorrent(join(dir, 'bad')), (e: unknown) => e instanceof MetainfoError && /separator/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('default piece length follows the libtorrent table', () => {
  assert.equal(defaultPieceLength(0), 16384);
  assert.equal(defaultPieceLength(2684355), 16384);
  assert.equal(defaultPieceLength(2684356), 32768);
  assert.equal(defaultPieceLength(2 ** 30), 512 * 1024);
  assert.equal(defaultPieceLength(2 ** 42), 16 * 1024 * 1024);
});
