// Issue 61: a torrent whose folder IPFS shards. A `cascade serve` node holds a torrent of 3,000
// one-byte files with 60-byte names (past @helia/unixfs's 256 KiB shard threshold: sub-shards of
// sub-shards) and a subfolder;
// the folder's UnixFS CID the node shows is the HAMT root @helia/unixfs's addAll computes for the
// same files; Helia's HTTP node, whose only trustless gateway is the node, resolves paths inside the
// shard (a file under a sub-shard, the subfolder's file), checking every block; the folder's CAR holds
// every block Helia's import wrote, the CAR of a path the shard's nodes on the way, dag-scope=entity
// every shard node and nothing else, and each shard node is a raw block. About 180 KB of names, 3 KB
// of data; nothing leaves 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { createHeliaHTTP } from '@helia/http';
import { trustlessGateway } from '@helia/block-brokers';
import { httpGatewayRouting } from '@helia/routers';
import { unixfs } from '@helia/unixfs';
import { CID } from 'multiformats/cid';
import { tempDir } from '../../cli/test/helpers.ts';
import { startServe, until, NO_CHAIN } from '../../cli/test/node-process.ts';
import { createTorrent } from '@cascade/engine';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const FILES = 3_000;
const nameOf = (i: number) => `${String(i).padStart(4, '0')}-${'ü'.repeat(10)}-${'n'.repeat(30)}.txt`;

/** A CARv1's blocks (after its header): each frame is a varint length, then a CID and its bytes. */
function carBlocks(car: Buffer): { cid: CID; bytes: Uint8Array }[] {
  const out: { cid: CID; bytes: Uint8Array }[] = [];
  for (let at = 0, first = true; at < car.length; first = false) {
    let len = 0;
    let n = 0;
    for (let shift = 1; ; shift *= 128) {
      const b = car[at + n++]!;
      len += (b & 0x7f) * shift;
      if (b < 0x80) break;
    }
    if (!first) {
      const [cid, bytes] = CID.decodeFirst(car.subarray(at + n, at + n + len));
      out.push({ cid, bytes });
    }
    at += n + len;
  }
  return out;
}

/** Helia's HTTP node with `gateway` as its only router and block source (no DNS, no libp2p). */
function heliaOf(gateway: string) {
  return createHeliaHTTP({
    routers: [httpGatewayRouting({ gateways: [gateway], shuffle: false })],
    blockBrokers: [trustlessGateway({ allowInsecure: true, allowLocal: true })],
    libp2p: { services: {} },
    dns: { query: async (domain: string) => { throw new Error(`no DNS here (${domain})`); } } as never,
  });
}

test('a sharded folder: the HAMT root @helia/unixfs computes, paths resolved through it by Helia from the node, CARs of a path, its entity (the shard’s nodes) and its nodes as raw blocks', { timeout: 120_000 }, async (t) => {
  const t0 = Date.now();
  const lap = (what: string) => t.diagnostic(`${what}: ${Date.now() - t0} ms`);
  const node = await startServe(t, { args: NO_CHAIN });
  lap('serving');
  const dir = tempDir(t);
  const top = join(dir, 'data', 'many');
  mkdirSync(join(top, 'sub'), { recursive: true });
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < FILES; i++) files.set(nameOf(i), Uint8Array.of(i & 0xff));
  files.set('sub/inner.txt', Buffer.from('inside the shard'));
  for (const [name, b] of files) writeFileSync(join(top, name), b);
  // Made and added in this process (the engine's createTorrent, the API's upload): two `cascade`
  // processes fewer, seconds on a loaded machine.
  const { torrent } = await createTorrent(top);
  const form = new FormData();
  form.append('savePath', join(dir, 'data'));
  form.append('torrent', new Blob([Buffer.from(torrent)]), 'many.torrent');
  const added = await node.api('/api/torrents', { method: 'POST', body: form });
  assert.ok(added.ok, await added.clone().text());
  const ih = ((await added.json()) as { infoHash: string }).infoHash;
  lap('added');
  const shown = await until('the folder’s UnixFS CID', async () => {
    const d = (await (await node.api(`/api/torrents/${ih}`)).json()) as { unixfsCid?: string | null };
    return d.unixfsCid ?? undefined;
  }, 90_000);

  lap('folder CID shown');
  const helia = await heliaOf(node.url);
  t.after(() => helia.stop());
  const fs = unixfs(helia);
  // What @helia/unixfs computes for the same files at its defaults (into the client's own store:
  // the walk below is then checked against blocks it fetches from the node, see the fresh client).
  let computed = '';
  for await (const e of fs.addAll([...files].map(([name, content]) => ({ path: `many/${name}`, content })))) if (e.path === 'many') computed = e.cid.toString();
  t.diagnostic(`many/ (${FILES + 1} entries)  helia ${computed}  cascade ${shown}`);
  assert.equal(shown, computed);
  lap('helia computed');
  const root = CID.parse(shown);
  const stat = await fs.stat(root, { offline: true });
  assert.equal(stat.type, 'directory', 'Helia reads its own import as a (sharded) directory');

  // A fresh Helia, empty, whose only gateway is the node: every block it needs comes from there.
  const fresh = await heliaOf(node.url);
  t.after(() => fresh.stop());
  const client = unixfs(fresh);
  const signal = AbortSignal.timeout(60_000);
  for (const name of [nameOf(777), 'sub/inner.txt']) {
    const got: Uint8Array[] = [];
    for await (const c of client.cat(root, { path: name, signal })) got.push(c);
    assertSameBytes(Buffer.concat(got), Buffer.from(files.get(name)!), name);
  }
  lap('two paths');
  // The whole folder as one CAR (cheaper than Helia's ls, a request per sub-shard): every block
  // hashing to its CID, each one @helia/unixfs wrote for the same files, and all of them.
  const whole = carBlocks(Buffer.from(await (await fetch(`${node.url}/ipfs/${shown}?format=car`)).arrayBuffer()));
  for (const b of whole) {
    assert.deepEqual(Buffer.from(createHash('sha256').update(b.bytes).digest()), Buffer.from(b.cid.multihash.digest), `${b.cid}`);
    assert.ok(await helia.blockstore.has(b.cid), `${b.cid} is a block of Helia's import`);
  }
  let imported = 0;
  for await (const _ of helia.blockstore.getAll()) imported++;
  assert.equal(new Set(whole.map((b) => b.cid.toString())).size, imported, 'every block of the import');
  lap('whole CAR');
  // The CAR of a path inside the shard: the shard's top node, the sub-shards on the way, then the
  // file (one raw leaf); every block hashing to its CID.
  const name = nameOf(42);
  const res = await fetch(`${node.url}/ipfs/${shown}/${encodeURIComponent(name)}?format=car`);
  assert.equal(res.status, 200);
  const blocks = carBlocks(Buffer.from(await res.arrayBuffer()));
  for (const b of blocks) assert.deepEqual(Buffer.from(createHash('sha256').update(b.bytes).digest()), Buffer.from(b.cid.multihash.digest), `${b.cid}`);
  assert.equal(blocks[0]!.cid.toString(), shown);
  assert.ok(blocks.length >= 3, `${blocks.length} blocks: the top node, a sub-shard, the file`);
  assert.deepEqual(Buffer.from(blocks.at(-1)!.bytes), Buffer.from(files.get(name)!));
  assert.equal((await fetch(`${node.url}/ipfs/${shown}/no-such-name.txt?format=raw`)).status, 404);
  lap('CAR of a path');

  // The folder's entity (what lists it): its top node, then every sub-shard — exactly the shard nodes
  // Helia's import wrote — and none of its entries (no file, not the subfolder's node).
  // The whole CAR's blocks are the import's, all of them (checked above); its dag-pb ones are the
  // shard's nodes and the subfolder's (every file is one raw block).
  const subfolder = (await fs.stat(root, { path: 'sub', offline: true })).cid.toString();
  const shardNodes = whole.filter((b) => b.cid.code === 0x70 && b.cid.toString() !== subfolder).map((b) => b.cid.toString());
  const entity = carBlocks(Buffer.from(await (await fetch(`${node.url}/ipfs/${shown}?format=car&dag-scope=entity`)).arrayBuffer()));
  assert.equal(entity[0]!.cid.toString(), shown);
  assert.deepEqual(entity.map((b) => b.cid.toString()).sort(), shardNodes.sort());
  assert.ok(shardNodes.length > 256, `${shardNodes.length} shard nodes: the top one, sub-shards and theirs`);
  t.diagnostic(`dag-scope=entity: ${entity.length} blocks, the shard's nodes`);
  const block = carBlocks(Buffer.from(await (await fetch(`${node.url}/ipfs/${shown}?format=car&dag-scope=block`)).arrayBuffer()));
  assert.deepEqual(block.map((b) => b.cid.toString()), [shown]);
  // Each shard node as a raw block (the top one, and sub-shards now that their root was asked):
  // Helia's bytes.
  for (const cid of [shown, blocks[1]!.cid.toString(), entity.at(-1)!.cid.toString()]) {
    const raw = await fetch(`${node.url}/ipfs/${cid}?format=raw`);
    assert.equal(raw.status, 200, cid);
    assert.deepEqual(Buffer.from(await raw.arrayBuffer()), Buffer.from(await toBytes(await helia.blockstore.get(CID.parse(cid)))), cid);
  }
  lap('entity, raw');

  // Every node of the folder but its top one is indexed in the state (rows below the folder's,
  // file_index -2, -3, …), so a client asking one first (after a restart, or once the folder left the
  // node's memory) is answered: ipfs-blocks.test.ts. Here: the node wrote them, the shard's and the
  // subfolder's.
  const state = new DatabaseSync(join(node.stateDir, 'cascade.db'), { readOnly: true });
  const inner = (state.prepare('SELECT unixfs FROM file_cids WHERE info_hash = ? AND file_index <= -2').all(ih) as { unixfs: string }[]).map((r) => r.unixfs);
  state.close();
  assert.deepEqual(inner.sort(), [...shardNodes.filter((c) => c !== shown), subfolder].sort());
});

/** A block as Helia's blockstore gives it: bytes, or (newer stores) an iterable of chunks. */
async function toBytes(b: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  if (b instanceof Uint8Array) return b;
  const parts: Uint8Array[] = [];
  for await (const p of b) parts.push(p);
  return Buffer.concat(parts);
}
