// BEP 52: v2-only and hybrid torrents made by Cascade against the same content made by libtorrent
// 2.0 (python3-libtorrent): the v1 and v2 infohashes, the info dict bytes and the piece layers must
// be identical; and Cascade must read libtorrent's files to the same hashes and layout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { toHex } from '../src/encoding/hex.ts';
import { encodeTorrent, parseTorrent } from '../src/metainfo/metainfo.ts';
import { createTorrent } from '../src/node/create-torrent.ts';
import type { Metainfo } from '../src/types.ts';

// libtorrent walks the folder itself (add_files); v2 and hybrid torrents are always in canonical
// (file tree) order. Prints both infohashes.
const LT_SCRIPT = `
import json, sys, libtorrent as lt
spec = json.loads(sys.argv[1])
fs = lt.file_storage()
lt.add_files(fs, spec['walk'])
flags = lt.create_torrent.v2_only if spec['version'] == 'v2' else 0
t = lt.create_torrent(fs, spec['pieceLength'], flags=flags)
if spec.get('private'):
    t.set_priv(True)
lt.set_piece_hashes(t, spec['parent'])
e = t.generate()
open(spec['out'], 'wb').write(lt.bencode(e))
ih = lt.torrent_info(e).info_hashes()
layers = {k.hex(): v.hex() for k, v in e.get(b'piece layers', {}).items()}
print(json.dumps({'v1': str(ih.v1) if ih.has_v1() else None, 'v2': str(ih.v2), 'layers': layers}))
`;

interface LtResult {
  v1: string | null;
  v2: string;
  layers: Record<string, string>;
}

function libtorrent(spec: { walk: string; parent: string; out: string; version: 'v2' | 'hybrid'; pieceLength: number; private?: boolean }): LtResult {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', LT_SCRIPT, JSON.stringify(spec)], { encoding: 'utf8' }));
}

function writeTree(root: string, files: Record<string, number>) {
  for (const [rel, size] of Object.entries(files)) {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, randomBytes(size));
  }
}

// Odd sizes, empty files in the middle and at the end, a folder sorting before a same-named file
// ("a/b" before "a.txt" in a file tree; the reverse in a v1 path sort), multi-piece files.
const TREE: Record<string, number> = {
  'a.txt': 70_001,
  'a/b': 5_000,
  'B': 3,
  'Z': 40_000,
  'empty': 0,
  'sub/deep/x.bin': 300_000,
  'sub/y': 1,
  'é.bin': 33_000,
  'zz-empty': 0,
};

function layersHex(m: Metainfo): Record<string, string> {
  return Object.fromEntries([...(m.pieceLayers ?? new Map()).entries()].map(([k, v]) => [k, toHex(v)]));
}

function check(ours: Metainfo, torrent: Uint8Array, lt: LtResult, ltFile: string, version: 'v2' | 'hybrid', label: string) {
  assert.equal(ours.version, version, label);
  assert.equal(ours.infoHashV2Hex, lt.v2, `${label}: v2 infohash`);
  if (version === 'hybrid') assert.equal(ours.infoHashHex, lt.v1, `${label}: v1 infohash`);
  else assert.equal(ours.infoHashHex, lt.v2.slice(0, 40), `${label}: a v2-only torrent's id is its truncated v2 hash`);
  assert.deepEqual(layersHex(ours), lt.layers, `${label}: piece layers`);

  // libtorrent's file, read by Cascade: the same hashes, files, layout and layers.
  const theirs = parseTorrent(new Uint8Array(readFileSync(ltFile)));
  assert.deepEqual(theirs.infoBytes, ours.infoBytes, `${label}: info dict bytes`);
  assert.equal(theirs.infoHashHex, ours.infoHashHex);
  assert.equal(theirs.infoHashV2Hex, ours.infoHashV2Hex);
  assert.deepEqual(theirs.files, ours.files, `${label}: files and layout`);
  assert.deepEqual(layersHex(theirs), lt.layers);
  // Our .torrent re-parses to the same metainfo, piece layers included.
  assert.deepEqual(parseTorrent(torrent), ours);
  assert.deepEqual(parseTorrent(encodeTorrent(theirs)).pieceLayers, theirs.pieceLayers);
}

test('v2 and hybrid: multi-file content matches libtorrent at several piece lengths', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-v2-'));
  try {
    const root = join(dir, 'My Folder');
    writeTree(root, TREE);
    // Executable files carry attr 'x' in libtorrent's file tree and v1 list: the infohash covers it.
    chmodSync(join(root, 'sub/y'), 0o755);
    chmodSync(join(root, 'Z'), 0o700);
    for (const version of ['v2', 'hybrid'] as const) {
      for (const pieceLength of [16384, 32768, 65536, 262144]) {
        const label = `${version} @ ${pieceLength}`;
        const out = join(dir, `lt-${version}-${pieceLength}.torrent`);
        const lt = libtorrent({ walk: root, parent: dir, out, version, pieceLength });
        const { metainfo, torrent, files } = await createTorrent(root, { version, pieceLength });
        check(metainfo, torrent, lt, out, version, label);
        assert.equal(metainfo.multiFile, true);
        assert.deepEqual(
          metainfo.files.filter((f) => !f.pad).map((f) => f.path.join('/')),
          ['B', 'Z', 'a/b', 'a.txt', 'empty', 'sub/deep/x.bin', 'sub/y', 'zz-empty', 'é.bin'],
          'file tree order',
        );
        // Every non-empty file starts on a piece boundary, v2-only and hybrid alike.
        for (const f of metainfo.files) if (!f.pad && f.length > 0) assert.equal(f.offset % pieceLength, 0, `${label} ${f.path.join('/')}`);
        assert.equal(metainfo.pieceCount, Math.ceil(metainfo.length / pieceLength));
        // The whole-file SHA-256 of each file comes from the same pass.
        for (const f of files) {
          const want = createHash('sha256').update(readFileSync(join(root, ...f.path))).digest('hex');
          assert.equal(toHex(f.sha256), want, f.path.join('/'));
        }
        assert.equal(files.length, Object.keys(TREE).length);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('v2 and hybrid: single files of odd sizes, and private torrents, match libtorrent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-v2-'));
  try {
    for (const size of [1, 16383, 16384, 16385, 100_000, 1_048_577]) {
      const file = join(dir, `payload-${size}.bin`);
      writeFileSync(file, randomBytes(size));
      if (size === 16385) chmodSync(file, 0o755);
      for (const version of ['v2', 'hybrid'] as const) {
        for (const priv of [false, true]) {
          const label = `${version} ${size} bytes private=${priv}`;
          const out = join(dir, `lt-${size}-${version}-${priv}.torrent`);
          const lt = libtorrent({ walk: file, parent: dir, out, version, pieceLength: 32768, private: priv });
          const { metainfo, torrent } = await createTorrent(file, { version, pieceLength: 32768, private: priv });
          check(metainfo, torrent, lt, out, version, label);
          assert.equal(metainfo.multiFile, false);
          assert.equal(metainfo.private, priv);
          assert.deepEqual(metainfo.files.map((f) => [f.path, f.length]), [[[`payload-${size}.bin`], size]]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('v2 creation refuses piece lengths below 16 KiB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-v2-'));
  try {
    writeFileSync(join(dir, 'f'), randomBytes(100));
    await assert.rejects(createTorrent(join(dir, 'f'), { version: 'v2', pieceLength: 8192 }), /power of two of at least 16 KiB/);
    await assert.rejects(createTorrent(join(dir, 'f'), { version: 'hybrid', pieceLength: 8192 }), /power of two of at least 16 KiB/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
