// A torrent's folder past the shard threshold is the HAMT-sharded directory ipfs-unixfs-importer 16
// (what @helia/unixfs runs, at its defaults) makes of it: the root CID and every block byte for byte
// (sub-shards, a subfolder inside the shard), the threshold to the byte (the 'links-bytes' estimate
// of files only: 262,144 stays flat, 262,145 shards, a subfolder's link counts nothing), and paths
// resolved through the shard's nodes. Many tiny files: a few hundred KB of names, not of data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { importer } from 'ipfs-unixfs-importer';
import { exporter } from 'ipfs-unixfs-exporter';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { ChunkDigests, CID, SHARD_THRESHOLD, UnixfsDir, UnixfsTree } from '../index.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const sha = (parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function tree(bytes: Uint8Array): UnixfsTree {
  const c = new ChunkDigests(sha);
  c.update(bytes);
  const d = c.digests();
  return new UnixfsTree(d.length, d.digests);
}

/** The importer's blocks and each path's CID for `files` under `album/`, at @helia/unixfs's defaults. */
async function imported(files: [string, Uint8Array][]) {
  const blocks = new Map<string, Uint8Array>();
  const store = { put: async (cid: { toString(): string }, b: Uint8Array) => void blocks.set(cid.toString(), b) };
  const paths = new Map<string, string>();
  const opts = { cidVersion: 1 as const, rawLeaves: true, chunker: fixedSize({ chunkSize: 1_048_576 }), layout: balanced({ maxChildrenPerNode: 1024 }) };
  for await (const e of importer(files.map(([p, b]) => ({ path: `album/${p}`, content: [b] })), store as never, opts)) paths.set(e.path ?? '', e.cid.toString());
  return { blocks, paths };
}

function ours(files: [string, Uint8Array][]): UnixfsDir {
  return new UnixfsDir(files.map(([p, b], index) => {
    const t = tree(b);
    return { path: p.split('/'), cid: t.root, tsize: t.rootTsize, index };
  }));
}

/** Every block of the folder's DAG that is a folder's or a shard's node, walked as a CAR walks it. */
function dirBlocks(dir: UnixfsDir, cid = dir.root, out = new Map<string, Uint8Array>()): Map<string, Uint8Array> {
  out.set(cid.toString(), dir.node(cid)!.block);
  for (const e of dir.entries(cid)) if (e.kind === 'dir') dirBlocks(dir, e.cid, out);
  return out;
}

const typeOf = (block: Uint8Array) => UnixFS.unmarshal(dagPb.decode(block).Data!).type;

test('a folder past the threshold is the importer’s HAMT shard, block for block, and paths resolve through it', async () => {
  // 1,100 one-byte files with names of ~210 bytes (~246 bytes of estimate each: ~270 KB), and a
  // subfolder of two files inside the shard.
  const pad = 'x'.repeat(200);
  const files: [string, Uint8Array][] = [];
  for (let i = 0; i < 1_100; i++) files.push([`f${i}-${pad}.txt`, Uint8Array.of(i & 0xff)]);
  files.push(['sub/a.txt', Uint8Array.of(1)], ['sub/ü.txt', new Uint8Array(0)]);
  const [theirs, dir] = [await imported(files), ours(files)];
  assert.equal(dir.sharded(), true);
  assert.equal(typeOf(dir.node(dir.root)!.block), 'hamt-sharded-directory');
  assert.equal(dir.root.toString(), theirs.paths.get('album'));
  // Every folder and shard node, the same bytes under the same CIDs; sub-shards there are.
  const mine = dirBlocks(dir);
  for (const [cid, block] of mine) assert.deepEqual(Buffer.from(block), Buffer.from(theirs.blocks.get(cid) ?? []), cid);
  const theirDirs = [...theirs.blocks].filter(([c, b]) => CID.parse(c).code === 0x70 && ['directory', 'hamt-sharded-directory'].includes(typeOf(b)));
  assert.deepEqual([...mine.keys()].sort(), theirDirs.map(([c]) => c).sort());
  assert.ok(mine.size > 10, `${mine.size} nodes: the top shard, sub-shards and the subfolder`);

  // A name resolves through the shard's nodes, top first; the last holds its link as <slot hex><name>.
  const name = files[1023]![0];
  const r = dir.resolve([name])!;
  assert.deepEqual(r.target, { kind: 'file', cid: tree(files[1023]![1]).root, index: 1023 });
  assert.equal(r.via[0]!.cid.toString(), dir.root.toString());
  assert.ok(r.via.length >= 2, 'below a sub-shard');
  const links = dagPb.decode(r.via.at(-1)!.block).Links.map((l) => l.Name!);
  assert.ok(links.some((l) => /^[0-9A-F]{2}/.test(l) && l.slice(2) === name), links.join(' '));
  const sub = dir.resolve(['sub', 'ü.txt'])!;
  assert.deepEqual(sub.target, { kind: 'file', cid: tree(new Uint8Array(0)).root, index: 1_101 });
  assert.equal(typeOf(theirs.blocks.get(sub.via.at(-1)!.cid.toString())!), 'directory', 'the subfolder, a flat node the importer wrote');
  assert.equal(dir.resolve(['f1-nothing.txt']), undefined);
  assert.equal(dir.resolve([name, 'inside']), undefined);
  // A sub-shard's CID is a block of the folder, but names nothing below it (IPFS hashes from the top).
  const subShard = r.via[1]!.cid;
  assert.equal(dir.node(subShard)!.block, r.via[1]!.block);
  assert.equal(dir.resolve([name], subShard), undefined);
  assert.equal(dir.resolve([], subShard)!.target.kind, 'dir');
});

test('the threshold to the byte: 262,144 bytes of file names and CIDs stay flat, 262,145 shard; a subfolder counts nothing', async (t) => {
  // 1,024 files of 220-byte names: (220 + 36) × 1,024 = 262,144. The subfolder's link would make the
  // encoded node larger still, but the importer decides before any subfolder has a CID.
  const files: [string, Uint8Array][] = [];
  for (let i = 0; i < 1_024; i++) files.push([`${String(i).padStart(4, '0')}${'y'.repeat(216)}`, Uint8Array.of(i & 0xff, i >> 8)]);
  files.push(['zz-sub/inner.txt', Uint8Array.of(7)]);
  assert.equal(files.slice(0, -1).reduce((n, [p]) => n + Buffer.byteLength(p) + 36, 0), SHARD_THRESHOLD);
  const flat = ours(files);
  assert.equal(flat.sharded(), false);
  assert.ok(flat.node(flat.root)!.block.length > SHARD_THRESHOLD, 'the encoded node is past 256 KiB, the estimate is not');
  const flatTheirs = (await imported(files)).paths.get('album');
  assert.equal(flat.root.toString(), flatTheirs);
  t.diagnostic(`album/ at 262,144: flat  cascade ${flat.root}  importer ${flatTheirs}`);
  // One byte more.
  files[0] = [`${files[0]![0]}z`, files[0]![1]];
  const sharded = ours(files);
  assert.equal(sharded.sharded(), true);
  const shardedTheirs = (await imported(files)).paths.get('album');
  assert.equal(sharded.root.toString(), shardedTheirs);
  t.diagnostic(`album/ at 262,145: sharded  cascade ${sharded.root}  importer ${shardedTheirs}`);
});

test('3,000 files of 60-byte names: the importer’s shard two levels deep, every name resolved as the importer placed it, a path’s nodes enough for its exporter; the same folder inside a flat one and inside a sharded one', async (t) => {
  // (60 + 36) × 3,000 = 288,000 bytes of estimate. 3,000 names in 256 slots: ~70 pairs share their
  // first two hash bytes, so there are sub-shards of sub-shards.
  const names = Array.from({ length: 3_000 }, (_, i) => `${String(i).padStart(4, '0')}-${'ü'.repeat(10)}-${'n'.repeat(30)}.txt`);
  assert.equal(Buffer.byteLength(names[0]!), 60);
  const files: [string, Uint8Array][] = names.map((n, i) => [n, Uint8Array.of(i & 0xff, i >> 8)]);
  const [theirs, dir] = [await imported(files), ours(files)];
  assert.equal(dir.sharded(), true);
  assert.equal(dir.root.toString(), theirs.paths.get('album'));
  const mine = dirBlocks(dir);
  for (const [cid, block] of mine) assert.deepEqual(Buffer.from(block), Buffer.from(theirs.blocks.get(cid) ?? []), cid);
  const theirShards = [...theirs.blocks].filter(([c, b]) => CID.parse(c).code === 0x70 && typeOf(b) === 'hamt-sharded-directory');
  assert.deepEqual([...mine.keys()].sort(), theirShards.map(([c]) => c).sort());
  // Every name where the importer put it; the deepest under a sub-shard of a sub-shard.
  let deepest = names[0]!;
  for (const [i, n] of names.entries()) {
    const r = dir.resolve([n])!;
    assert.equal(r.target.cid.toString(), theirs.paths.get(`album/${n}`), n);
    assert.equal(r.target.kind === 'file' && r.target.index, i);
    if (r.via.length > dir.resolve([deepest])!.via.length) deepest = n;
  }
  const way = dir.resolve([deepest])!;
  assert.ok(way.via.length >= 3, `${deepest}: ${way.via.length} shard nodes on the way`);
  t.diagnostic(`album/ (3,000 files, ${mine.size} shard nodes, ${way.via.length} levels down to ${deepest.slice(0, 4)}…)  cascade ${dir.root}  importer ${theirs.paths.get('album')}`);
  // What a CAR of `<root>/<deepest>` carries (the nodes on the way, then the file's one block) is all
  // ipfs-unixfs-exporter needs to resolve and read that path.
  const carried = new Map(way.via.map((v) => [v.cid.toString(), v.block]));
  carried.set(way.target.cid.toString(), files[names.indexOf(deepest)]![1]);
  const store = { get: async function* (cid: CID) { const b = carried.get(cid.toString()); if (!b) throw new Error(`not carried: ${cid}`); yield b; } };
  const entry = await exporter(`${dir.root}/${deepest}`, store as never);
  const got: Uint8Array[] = [];
  for await (const c of entry.content()) got.push(c as Uint8Array);
  assertSameBytes(Buffer.concat(got), Buffer.from(files[names.indexOf(deepest)]![1]));
  // The subShards a dag-scope=entity CAR adds to the top node: every other shard node, none of the entries.
  assert.deepEqual(dir.subShards(dir.root).map((n) => n.cid.toString()).sort(), [...mine.keys()].filter((c) => c !== dir.root.toString()).sort());

  // The same files in a subfolder of a flat folder: the subfolder is that shard, its parent a directory.
  const nested: [string, Uint8Array][] = [...files.map(([n, b]): [string, Uint8Array] => [`big/${n}`, b]), ['readme.txt', Uint8Array.of(1)]];
  const [theirNested, outer] = [await imported(nested), ours(nested)];
  assert.equal(outer.sharded(), false);
  assert.equal(outer.root.toString(), theirNested.paths.get('album'));
  const big = outer.resolve(['big'])!.target.cid;
  assert.equal(big.toString(), dir.root.toString());
  assert.equal(outer.sharded(big), true);
  assert.equal(outer.subShards(outer.root).length, 0, 'a flat folder has no sub-shards');

  // And inside a sharded one (with a flat folder inside it in turn): every folder and shard node the
  // importer's, byte for byte. (Its yielded paths are no guide there: a sharded folder's flush labels
  // the entries of the folders inside it with its own path; the root CID names them all anyway.)
  const both: [string, Uint8Array][] = [...files, ...nested.slice(0, -1), ['big/deeper/x.txt', Uint8Array.of(9)]];
  const [theirBoth, twice] = [await imported(both), ours(both)];
  assert.equal(twice.root.toString(), theirBoth.paths.get('album'));
  assert.equal(twice.sharded(twice.resolve(['big'])!.target.cid), true);
  const twiceBlocks = dirBlocks(twice);
  for (const [cid, block] of twiceBlocks) assert.deepEqual(Buffer.from(block), Buffer.from(theirBoth.blocks.get(cid) ?? []), cid);
  const theirBothDirs = [...theirBoth.blocks].filter(([c, b]) => CID.parse(c).code === 0x70 && ['directory', 'hamt-sharded-directory'].includes(typeOf(b)));
  assert.deepEqual([...twiceBlocks.keys()].sort(), theirBothDirs.map(([c]) => c).sort());
  // (big/ holds the top folder's names and bytes: the two shards share most sub-shards.)
  const deeper = twice.resolve(['big', 'deeper', 'x.txt'])!;
  assert.equal(deeper.target.cid.toString(), tree(Uint8Array.of(9)).root.toString());
  assert.equal(typeOf(deeper.via.at(-1)!.block), 'directory', 'the flat folder inside the inner shard');
  assert.ok(twiceBlocks.size > mine.size + 1, `${twiceBlocks.size} nodes`);
  t.diagnostic(`album/ (3,000 files, and big/ of 3,000 more and a flat folder)  cascade ${twice.root}  importer ${theirBoth.paths.get('album')}`);
});
