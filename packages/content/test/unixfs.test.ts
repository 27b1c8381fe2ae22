// The UnixFS tree Cascade builds from a file's chunk digests is the one ipfs-unixfs-importer 16 (what
// @helia/unixfs runs) builds from the same bytes: the root CID, and every block byte for byte in the
// order a CAR carries them. At the default settings for files of 0, 1, 1 MiB, 1 MiB + 1 and several
// MiB bytes; a tree of several levels (> 1,024 chunks would need > 1 GiB) with small chunks and a
// small fan-out given to both sides. hashFile reads the file once for both ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { ChunkDigests, UNIXFS_CHUNK, UnixfsTree, cidFromSha256 } from '../index.ts';
import { hashFile, unixfsCidOfFile } from '../node.ts';

const MiB = 1024 * 1024;
const sha = (parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** Every block the importer writes, and its root; `layout` given only for the small-tree case. */
async function imported(bytes: Uint8Array, layout?: { chunkSize: number; maxChildren: number }) {
  const blocks = new Map<string, Uint8Array>();
  const store = { put: async (cid: { toString(): string }, b: Uint8Array) => void blocks.set(cid.toString(), b) };
  // No options at all by default: @helia/unixfs's own defaults (cidVersion 1, rawLeaves, 1 MiB,
  // balanced 1,024) are passed here as it passes them (its commands/add.js).
  const opts = layout
    ? { cidVersion: 1 as const, rawLeaves: true, chunker: fixedSize({ chunkSize: layout.chunkSize }), layout: balanced({ maxChildrenPerNode: layout.maxChildren }) }
    : { cidVersion: 1 as const, rawLeaves: true, chunker: fixedSize({ chunkSize: 1_048_576 }), layout: balanced({ maxChildrenPerNode: 1024 }) };
  let root = '';
  for await (const e of importer([{ content: [bytes] }], store as never, opts)) root = e.cid.toString();
  return { root, blocks };
}

function ours(bytes: Uint8Array, layout?: { chunkSize: number; maxChildren: number }): UnixfsTree {
  const c = new ChunkDigests(sha, layout?.chunkSize ?? UNIXFS_CHUNK);
  // Fed in odd slices: the chunking does not depend on how the bytes arrive.
  for (let i = 0; i < bytes.length; i += 300_007) c.update(bytes.subarray(i, i + 300_007));
  const d = c.digests();
  return new UnixfsTree(d.length, d.digests, layout);
}

function blocksOf(tree: UnixfsTree, bytes: Uint8Array): [string, Uint8Array][] {
  return [...tree.blocks()].map(({ ref, cid }) => {
    if (ref.kind === 'node') return [cid.toString(), tree.node(ref.level, ref.index)];
    const r = tree.leafRange(ref.index);
    return [cid.toString(), bytes.subarray(r.start, r.end)];
  });
}

test('the UnixFS root and blocks equal ipfs-unixfs-importer’s at @helia/unixfs’s defaults (0 B, 1 B, 1 MiB, 1 MiB + 1, 5.5 MiB)', async () => {
  for (const size of [0, 1, MiB, MiB + 1, 5.5 * MiB]) {
    const bytes = randomBytes(size);
    const theirs = await imported(bytes);
    const tree = ours(bytes);
    assert.equal(tree.root.toString(), theirs.root, `${size} bytes`);
    const mine = blocksOf(tree, bytes);
    assert.equal(mine.length, theirs.blocks.size, `${size} bytes: block count`);
    for (const [cid, b] of mine) assert.deepEqual(Buffer.from(b), Buffer.from(theirs.blocks.get(cid)!), `${size} bytes: block ${cid}`);
    // A file of one chunk is its raw leaf: the SHA-256 content id itself.
    if (size <= MiB) assert.equal(tree.root.toString(), cidFromSha256(sha([bytes])));
    else assert.match(tree.root.toString(), /^bafybei/);
  }
});

test('a tree of several levels (small chunks, fan-out 4 on both sides) is the importer’s, and find() locates every block', async () => {
  const layout = { chunkSize: 1000, maxChildren: 4 };
  for (const size of [4000, 4001, 16_000, 16_001, 70_500]) {
    const bytes = randomBytes(size);
    const theirs = await imported(bytes, layout);
    const tree = ours(bytes, layout);
    assert.equal(tree.root.toString(), theirs.root, `${size} bytes`);
    const mine = blocksOf(tree, bytes);
    assert.equal(mine.length, theirs.blocks.size, `${size} bytes: block count`);
    for (const [cid, b] of mine) assert.deepEqual(Buffer.from(b), Buffer.from(theirs.blocks.get(cid)!), `${size} bytes: block ${cid}`);
    for (const { ref, cid } of tree.blocks()) assert.deepEqual(tree.find(cid), ref);
  }
  // 70,500 bytes: 71 leaves, 18 + 5 + 2 + 1 nodes above them, four levels.
  assert.equal(ours(randomBytes(70_500), layout).height, 4);
});

test('hashFile reads once for both ids; unixfsCidOfFile names the file as the importer does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unixfs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = randomBytes(2 * MiB + 5);
  const path = join(dir, 'f.bin');
  writeFileSync(path, bytes);
  let slices = 0;
  const r = await hashFile(path, undefined, { beforeSlice: () => void slices++ });
  assert.equal(slices, 3);
  assert.deepEqual(Buffer.from(r.sha256), Buffer.from(sha([bytes])));
  assert.equal(r.chunks.length, 3 * 32);
  assert.equal(await unixfsCidOfFile(path), (await imported(bytes)).root);
  // A digest list that does not fit the length is refused, not turned into a wrong tree.
  assert.throws(() => new UnixfsTree(2 * MiB + 5, r.chunks.subarray(32)), /3 chunks/);
});

test('a torrent’s folder as a UnixFS directory is the importer’s (nested folders, names sorted as dag-pb sorts them), and resolves paths', async () => {
  const { UnixfsDir } = await import('../index.ts');
  const files = [['b.bin', 10], ['a.bin', MiB + 7], ['sub/z.txt', 0], ['sub/deeper/ä.bin', 1], ['Z.bin', 3]] as const;
  const blocks = new Map<string, Uint8Array>();
  const store = { put: async (cid: { toString(): string }, b: Uint8Array) => void blocks.set(cid.toString(), b) };
  const content = new Map(files.map(([p, n]) => [p, randomBytes(n)]));
  const entries = new Map<string, string>();
  for await (const e of importer([...content].map(([p, b]) => ({ path: `album/${p}`, content: [b] })), store as never, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 1_048_576 }), layout: balanced({ maxChildrenPerNode: 1024 }) })) {
    entries.set(e.path ?? '', e.cid.toString());
  }
  const dir = new UnixfsDir(files.map(([p], index) => {
    const tree = ours(content.get(p)!);
    return { path: p.split('/'), cid: tree.root, tsize: tree.rootTsize, index };
  }));
  assert.equal(dir.root.toString(), entries.get('album'));
  assert.deepEqual(Buffer.from(dir.node(dir.root)!.block), Buffer.from(blocks.get(entries.get('album')!)!));
  const sub = dir.resolve(['sub', 'deeper'])!;
  assert.equal(sub.target.cid.toString(), entries.get('album/sub/deeper'));
  assert.deepEqual(sub.via.map((v) => v.cid.toString()), [entries.get('album'), entries.get('album/sub')]);
  assert.deepEqual(dir.resolve(['sub', 'deeper', 'ä.bin'])!.target, { kind: 'file', cid: ours(content.get('sub/deeper/ä.bin')!).root, index: 3 });
  assert.equal(dir.resolve(['nothing']), undefined);
  assert.equal(dir.resolve(['b.bin', 'inside']), undefined);
  assert.deepEqual(dir.entries(dir.root).map((e) => e.cid.toString()), ['Z.bin', 'a.bin', 'b.bin', 'sub'].map((n) => entries.get(`album/${n}`)));
});
