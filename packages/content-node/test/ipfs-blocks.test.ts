// ipfs-blocks.ts on a real file and the node's Store (SQLite): a file's root and, once it was asked,
// the blocks under it; a leaf asked before its root is not found (the node keeps no index of every
// MiB by hash); the CAR's blocks in depth-first order; a file changed on disk is never served under
// its old CID (a raw leaf is an error, a CAR stops before the block); a torrent gone, nothing; a
// malformed CID, MalformedCid. A folder's inner nodes (sub-shards, subfolders) are indexed: found
// before the folder's top one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID, cidFromSha256, UnixfsTree } from '@cascade/content';
import { hashFile } from '@cascade/content/node';
import { FileCids } from '../src/file-cids.ts';
import { IpfsBlocks, MalformedCid } from '../src/ipfs-blocks.ts';
import { sqlite } from '../../node/test/store-engines.ts';
import { inLibrary } from './library.ts';

const MiB = 1024 * 1024;

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

/** An unsigned LEB128 varint at `at`: its value and its length. */
function varint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  for (let i = 0; ; i++) {
    const b = buf[at + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return [value, i + 1];
  }
}

function blocksOfCar(car: Buffer): CID[] {
  const out: CID[] = [];
  let at = 0;
  for (let first = true; at < car.length; first = false) {
    const [len, n] = varint(car, at);
    if (!first) out.push(CID.decodeFirst(car.subarray(at + n, at + n + len))[0]);
    at += n + len;
  }
  return out;
}

test('IpfsBlocks: root, then what is under it; CAR order; a changed file, a gone torrent, a malformed CID', async (t) => {
  const store = await sqlite()(t);
  const dir = mkdtempSync(join(tmpdir(), 'ipfs-blocks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = randomBytes(2 * MiB + 10);
  const path = join(dir, 'f.bin');
  writeFileSync(path, bytes);
  const ih = 'c'.repeat(40);
  await inLibrary(store, ih);
  const h = await hashFile(path);
  const tree = new UnixfsTree(h.length, h.chunks);
  const cids = new FileCids({ store });
  await cids.set(ih, [{ index: 0, sha256: h.sha256, cid: cidFromSha256(h.sha256), unixfs: tree.root.toString(), chunks: h.chunks }]);
  let held = true;
  const fileOf = (infoHash: string, index: number) => (held && infoHash === ih && index === 0 ? { path, length: bytes.length } : undefined);

  const leaf1 = tree.leafCid(1).toString();
  // A fresh node: a leaf before its root was ever asked is not found…
  const cold = new IpfsBlocks(cids, fileOf);
  assert.equal(await cold.block(leaf1), undefined);
  // …the root is, and then the leaf is.
  const root = await cold.block(tree.root.toString());
  assert.deepEqual(Buffer.from(root!), Buffer.from(tree.node(1, 0)));
  assert.deepEqual(Buffer.from((await cold.block(leaf1))!), bytes.subarray(MiB, 2 * MiB));
  // The whole file's SHA-256 id is not a block of its DAG (it names the file as one block).
  assert.equal(await cold.block(cidFromSha256(h.sha256)), undefined);

  const car = await collect((await cold.car(tree.root.toString()))!);
  assert.deepEqual(blocksOfCar(car).map(String), [tree.root, tree.leafCid(0), tree.leafCid(1), tree.leafCid(2)].map(String));
  assert.deepEqual(blocksOfCar(await collect((await cold.car(tree.root.toString(), 'block'))!)).map(String), [tree.root.toString()]);

  // The file changed on disk (its middle chunk): that leaf is refused, and a CAR stops before it.
  const changed = Buffer.from(bytes);
  changed[MiB + 5]! ^= 1;
  writeFileSync(path, changed);
  await assert.rejects(cold.block(leaf1), /no longer matches/);
  const parts: Uint8Array[] = [];
  await assert.rejects(async () => {
    for await (const p of (await cold.car(tree.root.toString()))!) parts.push(p);
  }, /no longer matches/);
  const cut = blocksOfCar(Buffer.concat(parts));
  assert.deepEqual(cut.map(String), [tree.root, tree.leafCid(0)].map(String), 'the root and the first leaf, nothing changed');

  // The torrent left the node: nothing, by root or by leaf.
  held = false;
  assert.equal(await cold.block(tree.root.toString()), undefined);
  assert.equal(await cold.block(leaf1), undefined);
  await assert.rejects(cold.block('bafy-not-a-cid'), MalformedCid);
});

test('IpfsBlocks: entity-bytes gives the blocks that verify a byte range (the trustless gateway spec)', async (t) => {
  const store = await sqlite()(t);
  const dir = mkdtempSync(join(tmpdir(), 'ipfs-range-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = randomBytes(2 * MiB + 10);
  const path = join(dir, 'f.bin');
  writeFileSync(path, bytes);
  const ih = 'd'.repeat(40);
  await inLibrary(store, ih);
  const h = await hashFile(path);
  const tree = new UnixfsTree(h.length, h.chunks);
  const cids = new FileCids({ store });
  await cids.set(ih, [{ index: 0, sha256: h.sha256, cid: cidFromSha256(h.sha256), unixfs: tree.root.toString(), chunks: h.chunks }]);
  const blocks = new IpfsBlocks(cids, (infoHash, index) => (infoHash === ih && index === 0 ? { path, length: bytes.length } : undefined));
  const root = tree.root.toString();
  const leaf = (i: number) => tree.leafCid(i).toString();
  const car = async (from: number, to: number | null) => blocksOfCar(await collect((await blocks.car(root, 'entity', [], { from, to }))!)).map(String);
  assert.deepEqual(await car(MiB, MiB + 4), [root, leaf(1)], 'five bytes of the second chunk: the root and that leaf');
  assert.deepEqual(await car(MiB - 1, MiB), [root, leaf(0), leaf(1)], 'a range across a chunk boundary');
  assert.deepEqual(await car(-5, null), [root, leaf(2)], 'the last five bytes');
  assert.deepEqual(await car(0, null), [root, leaf(0), leaf(1), leaf(2)], '0:* is the whole file');
  assert.deepEqual(await car(10, 2 ** 40), [root, leaf(0), leaf(1), leaf(2)], 'a range past the end is clamped to the file');
  assert.deepEqual(await car(10, -(3 * MiB)), [root], 'a range of no bytes: the root alone, as dag-scope=block');
  await assert.rejects(blocks.car(root, 'entity', [], { from: 3 * MiB, to: null }), /entity-bytes=3145728:\* lies wholly outside the file's 2097162 bytes/);
});

test('IpfsBlocks: a folder’s inner nodes (sub-shards, a subfolder) asked before its top one, as after a restart, by the state’s index of them', async (t) => {
  // 1,100 one-byte files of ~210-byte names (past the shard threshold) and a subfolder's file; only
  // that one is read (the others' leaves are never asked), so only it exists.
  const store = await sqlite()(t);
  const tmp = mkdtempSync(join(tmpdir(), 'ipfs-inner-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const ih = 'e'.repeat(40);
  await inLibrary(store, ih);
  const names = [...Array.from({ length: 1_100 }, (_, i) => `${String(i).padStart(4, '0')}-${'n'.repeat(205)}`), 'sub/inner.txt'];
  const files = names.map((n, index) => {
    const sha = new Uint8Array(createHash('sha256').update(Uint8Array.of(index & 0xff)).digest());
    return { index, sha256: sha, cid: cidFromSha256(sha), unixfs: new UnixfsTree(1, sha).root.toString(), chunks: sha };
  });
  const cids = new FileCids({ store });
  await cids.set(ih, files);
  writeFileSync(join(tmp, 'inner.txt'), Uint8Array.of(1_100 & 0xff));
  const fileOf = (infoHash: string, index: number) => (infoHash === ih && index < names.length ? { path: join(tmp, index === 1_100 ? 'inner.txt' : 'absent'), length: 1 } : undefined);
  const folderOf = (infoHash: string) => (infoHash === ih ? names.map((n, index) => ({ path: n.split('/'), index })) : undefined);
  // The node's first run builds the folder and stores its CID and its other nodes' (node-content.ts).
  const first = new IpfsBlocks(cids, fileOf, folderOf);
  const dir = (await first.folder(ih))!;
  assert.equal(dir.sharded(), true);
  const inner = dir.innerNodes();
  await cids.setDir(ih, dir.root.toString(), dir.root.multihash.digest, inner.map((n) => ({ cid: n.cid.toString(), digest: n.cid.multihash.digest })));
  const way = dir.resolve([names[0]!])!.via;
  const subShard = way.at(-1)!;
  const subfolder = dir.resolve(['sub'])!.target.cid;
  assert.ok(way.length >= 2 && inner.length > 200, `${inner.length} inner nodes`);

  // Another start: nothing in memory. The sub-shard and the subfolder's node are found first.
  const cold = new IpfsBlocks(new FileCids({ store }), fileOf, folderOf);
  assert.deepEqual(Buffer.from((await cold.block(subShard.cid.toString()))!), Buffer.from(subShard.block));
  const again = new IpfsBlocks(new FileCids({ store }), fileOf, folderOf);
  assert.deepEqual(Buffer.from((await again.block(subfolder.toString()))!), Buffer.from(dir.node(subfolder)!.block));
  assert.deepEqual(blocksOfCar(await collect((await again.car(subfolder.toString(), 'block', ['inner.txt']))!)).map(String), [subfolder, files.at(-1)!.cid].map(String), 'a path inside the subfolder, from it');
  // A sub-shard names nothing below it (IPFS resolves names from the top), and a CID the folder does
  // not hold is still not found.
  assert.equal(await again.block(subShard.cid.toString(), [names[0]!]), undefined);
  assert.equal(await again.block(cidFromSha256(new Uint8Array(32))), undefined);
});
