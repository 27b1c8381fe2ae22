// Hostile or broken v2 and hybrid .torrent files: each starts as a valid libtorrent torrent, gets
// one defect (made with libtorrent's own bencoder, so nothing else changes) and must be refused
// with a MetainfoError that names the defect, or, where libtorrent opens it anyway (a bad or
// missing piece layer, '..' in the tree: issue 43), opened as libtorrent opens it. Metadata without piece layers (from a v2 magnet)
// parses, and gets its layers checked once they come.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../src/encoding/bencode.ts';
import { DEFAULT_TORRENT_LIMITS } from '../src/metainfo/limits.ts';
import { encodeTorrent, MetainfoError, parseInfoDict, parseTorrent } from '../src/metainfo/metainfo.ts';
import { pieceLayerProblem } from '../src/metainfo/metainfo-v2.ts';

const MAKE_AND_BREAK = `
import sys, libtorrent as lt
src, parent, version, out = sys.argv[1:5]
fs = lt.file_storage()
lt.add_files(fs, src)
t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v2_only if version == 'v2' else 0)
lt.set_piece_hashes(t, parent)
good = t.generate()
open(out + '/good.torrent', 'wb').write(lt.bencode(good))

def tree_file(e, *path):
    d = e[b'info'][b'file tree']
    for c in path: d = d[c]
    return d[b'']

def mutate(name):
    e = lt.bdecode(lt.bencode(good))
    info = e[b'info']
    big = tree_file(e, b'big.bin')
    root = big[b'pieces root']
    if name == 'root-length': big[b'pieces root'] = root[:31]
    elif name == 'no-root': del big[b'pieces root']
    elif name == 'layer-mismatch':
        layer = bytearray(e[b'piece layers'][root]); layer[5] ^= 1; e[b'piece layers'][root] = bytes(layer)
    elif name == 'layer-length': e[b'piece layers'][root] = e[b'piece layers'][root][:-32]
    elif name == 'missing-layers': del e[b'piece layers']
    elif name == 'missing-layer': del e[b'piece layers'][root]
    elif name == 'piece-length-odd': info[b'piece length'] = 49152
    elif name == 'piece-length-small': info[b'piece length'] = 8192
    elif name == 'traversal': info[b'file tree'][b'..'] = {b'evil': {b'': {b'length': 1, b'pieces root': root}}}
    elif name == 'traversal-deep': info[b'file tree'][b'dir'][b'..'] = {b'': {b'length': 1, b'pieces root': root}}
    elif name == 'meta-version': info[b'meta version'] = 3
    elif name == 'root-is-file': info[b'file tree'] = {b'': {b'length': 1, b'pieces root': root}}
    elif name == 'file-and-dir': info[b'file tree'][b'big.bin'][b'x'] = {b'': {b'length': 1, b'pieces root': root}}
    elif name == 'v1-name': [f for f in info[b'files'] if f[b'path'] == [b'small.txt']][0][b'path'] = [b'other.txt']
    elif name == 'v1-order':
        fl = info[b'files']; i = [k for k, f in enumerate(fl) if f[b'path'] == [b'small.txt']][0]; j = [k for k, f in enumerate(fl) if f[b'path'] == [b'big.bin']][0]
        fl[i], fl[j] = fl[j], fl[i]
    elif name == 'tree-length': tree_file(e, b'small.txt')[b'length'] = 101
    elif name == 'tree-extra': info[b'file tree'][b'zzz'] = {b'': {b'length': 0}}
    elif name == 'no-tree': del info[b'file tree']
    else: raise SystemExit('unknown mutation ' + name)
    open(out + '/' + name + '.torrent', 'wb').write(lt.bencode(e))

for name in sys.argv[5:]: mutate(name)
`;

const COMMON: [string, RegExp][] = [
  ['root-length', /big\.bin\) pieces root is 31 bytes, not 32/],
  ['no-root', /big\.bin\) has no pieces root/],
  ['layer-length', /piece layer of "big\.bin" is \d+ bytes, not 32 × \d+ pieces/],
  ['piece-length-odd', /piece length 49152 of a v2 torrent is not a power of two of at least 16 KiB/],
  ['piece-length-small', /piece length 8192 of a v2 torrent is not a power of two of at least 16 KiB/],
  ['meta-version', /meta version 3 is not supported/],
  ['root-is-file', /file tree root is a file/],
  ['file-and-dir', /"big\.bin" is both a file and a directory/],
  ['no-tree', /meta version 2 without a file tree/],
];
const HYBRID_ONLY: [string, RegExp][] = [
  // '..' is dropped from the tree as libtorrent drops it; the v1 list has no such file then
  ['traversal', /hybrid torrent: the v1 file list has 4 files but the file tree has 5/],
  ['traversal-deep', /hybrid torrent: the v1 file list has 4 files but the file tree has 5/],
  ['v1-name', /hybrid torrent: v1 file "other\.txt" is "small\.txt" in the file tree/],
  ['v1-order', /hybrid torrent: v1 file "(big\.bin|small\.txt)" is "(small\.txt|big\.bin)" in the file tree/],
  ['tree-length', /hybrid torrent: v1 file "small\.txt" is 100 bytes but 101 in the file tree/],
  ['tree-extra', /hybrid torrent: the v1 file list has 4 files but the file tree has 5/],
];

/** Defects libtorrent opens a torrent despite (issue 43), and what Cascade makes of them then. */
const OPENED: [string, 'v2' | 'both', (meta: ReturnType<typeof parseTorrent>, good: ReturnType<typeof parseTorrent>) => void][] = [
  // A layer that does not hash to its root is dropped: big.bin's layer comes from peers.
  ['layer-mismatch', 'both', (m, good) => {
    assert.equal(m.infoHashV2Hex, good.infoHashV2Hex);
    assert.equal(m.pieceLayers!.size, 1, 'only dir/f keeps its layer');
  }],
  ['missing-layer', 'both', (m) => assert.equal(m.pieceLayers!.size, 1, 'dir/f keeps its layer')],
  // '..' is dropped: its file lands at the tree's root, inside the torrent.
  ['traversal', 'v2', (m) => assert.ok(m.files.some((f) => f.path.join('/') === 'evil'))],
  // dir/.. is dropped: its file is "dir", a folder already, so it is renamed as libtorrent renames it.
  ['traversal-deep', 'v2', (m) => assert.ok(m.files.some((f) => f.path.join('/') === 'dir.1'))],
];

function refused(buf: Uint8Array, pattern: RegExp, label: string) {
  assert.throws(
    () => parseTorrent(buf),
    (err: unknown) => {
      assert.ok(err instanceof MetainfoError, `${label}: expected MetainfoError, got ${err}`);
      assert.match(err.message, /^invalid torrent: /, label);
      assert.match(err.message, pattern, label);
      return true;
    },
    label,
  );
}

for (const version of ['v2', 'hybrid'] as const) {
  test(`malformed ${version} torrents are refused with the defect named`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cascade-v2-bad-'));
    try {
      const src = join(dir, 'content');
      mkdirSync(join(src, 'dir'), { recursive: true });
      writeFileSync(join(src, 'big.bin'), randomBytes(100_000));
      writeFileSync(join(src, 'small.txt'), randomBytes(100));
      writeFileSync(join(src, 'dir', 'f'), randomBytes(20_000));
      writeFileSync(join(src, 'empty'), '');
      const cases = version === 'hybrid' ? [...COMMON, ...HYBRID_ONLY] : COMMON;
      const opened = OPENED.filter(([, which]) => which === 'both' || which === version);
      const names = [...new Set([...cases.map(([n]) => n), ...opened.map(([n]) => n)])];
      execFileSync('/usr/bin/python3', ['-c', MAKE_AND_BREAK, src, dir, version, dir, 'missing-layers', ...names]);

      const good = parseTorrent(new Uint8Array(readFileSync(join(dir, 'good.torrent'))));
      assert.equal(good.version, version);
      assert.equal(good.pieceLayers!.size, 2, 'big.bin and dir/f are longer than a piece');
      for (const [name, pattern] of cases) refused(new Uint8Array(readFileSync(join(dir, `${name}.torrent`))), pattern, `${version} ${name}`);
      for (const [name, , check] of opened) check(parseTorrent(new Uint8Array(readFileSync(join(dir, `${name}.torrent`)))), good);

      // Without the `piece layers` key at all, a .torrent is metadata alone (libtorrent reads it
      // so too): accepted with no layers, which peers supply later.
      const noLayers = parseTorrent(new Uint8Array(readFileSync(join(dir, 'missing-layers.torrent'))));
      assert.equal(noLayers.infoHashV2Hex, good.infoHashV2Hex);
      assert.equal(noLayers.pieceLayers!.size, 0);
      // encodeTorrent writes the layers it has; a partial set parses again (as libtorrent reads
      // it), the missing ones coming from peers.
      assert.deepEqual(parseTorrent(encodeTorrent(good)).pieceLayers, good.pieceLayers);
      const partial = { ...good, pieceLayers: new Map([...good.pieceLayers!].slice(1)) };
      const reparsed = parseTorrent(encodeTorrent(partial));
      assert.deepEqual(reparsed.pieceLayers, partial.pieceLayers, 'a partial set is kept');
      assert.equal(reparsed.infoHashV2Hex, good.infoHashV2Hex);

      // Metadata alone (what a v2 magnet fetches over BEP 9) parses without piece layers; a
      // layer that arrives later is checked against its file's root.
      const bare = parseInfoDict(good.infoBytes);
      assert.equal(bare.infoHashV2Hex, good.infoHashV2Hex);
      assert.equal(bare.pieceLayers!.size, 0);
      const big = bare.files.find((f) => f.path.join('/') === 'big.bin')!;
      const layer = good.pieceLayers!.get(Buffer.from(big.piecesRoot!).toString('hex'))!;
      assert.equal(pieceLayerProblem(big, layer, bare.pieceLength), undefined);
      const bad = layer.slice();
      bad[0]! ^= 1;
      assert.match(pieceLayerProblem(big, bad, bare.pieceLength)!, /does not hash to its pieces root/);
      assert.match(pieceLayerProblem(big, layer.subarray(32), bare.pieceLength)!, /not 32 × 7 pieces/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('v2 file trees meet the same limits as v1 file lists', () => {
  const root = new Uint8Array(32).fill(1);
  const limits = { ...DEFAULT_TORRENT_LIMITS, maxFiles: 50, maxPieces: 1000 };
  const tree: Record<string, unknown> = {};
  for (let d = 0; d < 6; d++) {
    const dir: Record<string, unknown> = (tree[`d${d}`] = {});
    for (let i = 0; i < 10; i++) dir[`f${i}`] = { '': { length: 10, 'pieces root': root } };
  }
  const many = encode({ info: { 'file tree': tree, 'meta version': 2, name: 'x', 'piece length': 16384 } });
  assert.throws(() => parseTorrent(many, limits), /more than 50 files, the limit \(maxFiles\)/);
  assert.equal(parseTorrent(many).files.filter((f) => !f.pad).length, 60, 'within the default limits');

  const huge = encode({ info: { 'file tree': { big: { '': { length: 16384 * 1001, 'pieces root': root } } }, 'meta version': 2, name: 'x', 'piece length': 16384 } });
  assert.throws(() => parseTorrent(huge, limits), /1001 pieces, more than the limit of 1000 pieces \(maxPieces\)/);

  // A directory chain as deep as the decoder allows, then one level more.
  const nest = (depth: number) => {
    let t: Record<string, unknown> = { f: { '': { length: 1, 'pieces root': root } } };
    for (let d = 0; d < depth; d++) t = { [`d${d}`]: t };
    return encode({ info: { 'file tree': t, 'meta version': 2, name: 'x', 'piece length': 16384 } });
  };
  assert.equal(parseTorrent(nest(55)).files[0]!.path.length, 56);
  assert.throws(() => parseTorrent(nest(70)), /nesting too deep/);
});
