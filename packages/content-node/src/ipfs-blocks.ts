// The node's files as IPFS blocks (issue 61, docs/storage/ipfs.md): what GET /ipfs/<cid> answers in
// the trustless-gateway form. A file's UnixFS DAG is never stored: its root is in file_cids, its
// intermediate nodes are rebuilt from the chunks' digests kept beside it (UnixfsTree), its leaves are
// the file's own bytes, read and checked against their digest before they go out (a file changed on
// disk is not served under its old name).
//
// A block is found from the root down, as every trustless client walks a DAG: a root (or a file of
// one chunk) by the Store's index; a node or leaf under it in the trees of files asked for lately
// (kept in memory, bounded: TREES trees, LEAVES chunks' digests in all — 32 bytes a MiB of file).
// A leaf asked for before its file's root ever was is not found (404): the node does not index
// every MiB of its library by hash.
//
// A multi-file torrent's folder is a UnixFS directory (unixfs-dir.ts) under the CID in its DIR row:
// /ipfs/<folder>/<path> walks it, its nodes rebuilt from the files' roots. Its other nodes (a
// subfolder's, a sharded folder's sub-shards) are found by their rows below DIR, so one asked before
// the folder's top (a client that kept that one) is answered too.
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { carBlockHead, carHeader, parseCid, UnixfsDir, UnixfsTree, type CID, type UnixfsBlockRef } from '@cascade/content';
import { DIR, type FileCids } from './file-cids.ts';

/** A complete file of a public torrent the node holds, where it is on disk. */
export interface HeldFile {
  path: string;
  length: number;
}

/** A multi-file torrent's files under its folder (path inside it, metainfo index), all complete. */
export type HeldFolder = { path: string[]; index: number }[];

/** What a CAR holds: the whole DAG under the CID, or its first block only (?dag-scope=block). */
export type DagScope = 'all' | 'entity' | 'block';

const TREES = 64;
const LEAVES = 2 * 1024 * 1024; // 64 MiB of digests: 2 TiB of files

interface Loaded {
  file: HeldFile;
  tree: UnixfsTree;
}

export class IpfsBlocks {
  readonly #cids: FileCids;
  readonly #fileOf: (infoHash: string, index: number) => HeldFile | undefined;
  /** Recently asked files' trees, oldest first (a Map keeps insertion order). */
  readonly #trees = new Map<string, Loaded>();
  readonly #folderOf: (infoHash: string) => HeldFolder | undefined;
  /** Recently asked folders (a few: their nodes hold links only). */
  readonly #dirs = new Map<string, UnixfsDir>();

  constructor(cids: FileCids, fileOf: (infoHash: string, index: number) => HeldFile | undefined, folderOf: (infoHash: string) => HeldFolder | undefined = () => undefined) {
    this.#cids = cids;
    this.#fileOf = fileOf;
    this.#folderOf = folderOf;
  }

  /** A torrent's files were hashed again: its trees and folder are rebuilt when next asked. */
  forget(infoHash: string): void {
    this.#dirs.delete(infoHash);
    for (const k of [...this.#trees.keys()]) if (k.startsWith(`${infoHash}:`)) this.#trees.delete(k);
  }

  /** A torrent's folder as a UnixFS directory, from its files' trees (each file's chunks' digests). */
  async folder(infoHash: string): Promise<UnixfsDir | undefined> {
    const cached = this.#dirs.get(infoHash);
    if (cached) return cached;
    const files = this.#folderOf(infoHash);
    if (!files || files.length === 0) return undefined;
    const entries = [];
    for (const [i, f] of files.entries()) {
      // The state's reads are synchronous (SQLite): without a turn of the event loop now and then, a
      // folder of thousands of files would hold every request until it is built.
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
      const loaded = await this.#load(infoHash, f.index);
      if (!loaded) return undefined;
      entries.push({ path: f.path, cid: loaded.tree.root, tsize: loaded.tree.rootTsize, index: f.index });
    }
    const dir = new UnixfsDir(entries);
    this.#dirs.set(infoHash, dir);
    while (this.#dirs.size > 8) this.#dirs.delete(this.#dirs.keys().next().value!);
    return dir;
  }

  /** What a CID with a path inside it names: a folder's node, or a file's DAG (and the folders on the way). */
  async #walk(cid: CID, path: readonly string[]): Promise<{ via: { cid: CID; block: Uint8Array }[]; dir?: { ih: string; dir: UnixfsDir; cid: CID; block: Uint8Array }; file?: Loaded & { ref: UnixfsBlockRef } } | undefined> {
    const text = cid.toV1().toString();
    let found: { ih: string; dir: UnixfsDir } | undefined;
    const held = await this.#cids.withCid(text);
    for (const { infoHash, index } of held) {
      if (index !== DIR) continue;
      const dir = await this.folder(infoHash);
      if (dir && dir.root.toString() === text) found = { ih: infoHash, dir };
    }
    // A folder's other node (a subfolder's, a sub-shard): in one asked for lately, else by the
    // state's index of them (then that folder is rebuilt). A file's CID never gets that far.
    for (const [ih, dir] of this.#dirs) if (!found && dir.node(cid.toV1())) found = { ih, dir };
    if (!found && held.length === 0) {
      for (const ih of await this.#cids.folderWith(text)) {
        const dir = await this.folder(ih);
        if (!found && dir?.node(cid.toV1())) found = { ih, dir };
      }
    }
    if (!found) {
      if (path.length > 0) return undefined; // a path inside a file names nothing
      const file = await this.#resolve(cid);
      return file && { via: [], file };
    }
    const r = found.dir.resolve(path, cid.toV1());
    if (!r) return undefined;
    if (r.target.kind === 'dir') return { via: r.via, dir: { ih: found.ih, dir: found.dir, cid: r.target.cid, block: r.target.block } };
    const loaded = await this.#load(found.ih, r.target.index);
    if (!loaded) return undefined;
    const t = loaded.tree;
    return { via: r.via, file: { ...loaded, ref: t.height === 0 ? { kind: 'leaf', index: 0 } : { kind: 'node', level: t.height, index: 0 } } };
  }

  /** The bytes of block `cid`, or undefined when the node holds no such block. Throws for a
   *  malformed CID (the route answers 400). */
  async block(text: string, path: readonly string[] = []): Promise<Uint8Array | undefined> {
    const walked = await this.#walk(cidOf(text), path);
    if (!walked) return undefined;
    if (walked.dir) return walked.dir.block;
    const { file, tree, ref } = walked.file!;
    if (ref.kind === 'node') return tree.node(ref.level, ref.index);
    const h = await open(file.path, 'r');
    try {
      return await readLeaf(h, tree, ref.index);
    } finally {
      await h.close();
    }
  }

  /** A CARv1 of the DAG under `cid` (depth-first, each block once), streamed a block at a time;
   *  undefined when the node holds no such block. A leaf that no longer matches its digest ends the
   *  stream with an error: the client then has a CAR with a block missing, never a wrong one. */
  async car(text: string, scope: DagScope = 'all', path: readonly string[] = [], bytes?: EntityBytes): Promise<AsyncIterable<Uint8Array> | undefined> {
    const root = cidOf(text);
    const walked = await this.#walk(root, path);
    if (!walked) return undefined;
    // entity-bytes on a file: the blocks that verify that range (on a folder it is ignored: spec).
    const range = bytes && walked.file ? byteRange(bytes, walked.file.tree.length) : undefined;
    if (range === null) throw new RangeOutside(bytes!, walked.file!.tree.length);
    const self = this;
    return (async function* () {
      // The CAR's root is the CID asked; the folders on the path come first, so a client can check
      // the path leads where the CAR says.
      yield carHeader(root);
      for (const v of walked.via) yield* frame(v.cid, v.block);
      if (walked.file) {
        yield* fileBlocks(walked.file, scope === 'block' || range?.empty === true, range);
        return;
      }
      const { ih, dir, cid, block } = walked.dir!;
      yield* frame(cid, block);
      // entity: what lists the folder (its node, and a sharded one's sub-shards: spec), not its
      // entries (other entities); all: everything under it.
      if (scope === 'entity') for (const n of dir.subShards(cid)) yield* frame(n.cid, n.block);
      if (scope === 'all') yield* self.#folderBlocks(ih, dir, cid);
    })();
  }

  async *#folderBlocks(ih: string, dir: UnixfsDir, cid: CID): AsyncGenerator<Uint8Array> {
    for (const e of dir.entries(cid)) {
      if (e.kind === 'dir') {
        yield* frame(e.cid, dir.node(e.cid)!.block);
        yield* this.#folderBlocks(ih, dir, e.cid);
        continue;
      }
      const loaded = await this.#load(ih, e.index);
      if (!loaded) throw new Error(`file ${e.index} is no longer held`);
      const t = loaded.tree;
      yield* fileBlocks({ ...loaded, ref: t.height === 0 ? { kind: 'leaf', index: 0 } : { kind: 'node', level: t.height, index: 0 } }, false);
    }
  }

  async #resolve(cid: CID): Promise<(Loaded & { ref: UnixfsBlockRef }) | undefined> {
    const text = cid.toV1().toString();
    // A file's root (or a file of one chunk, whose root is its content id).
    for (const { infoHash, index } of await this.#cids.withCid(text)) {
      if (index === DIR) continue;
      const loaded = await this.#load(infoHash, index);
      if (loaded && loaded.tree.root.toString() === text) return { ...loaded, ref: loaded.tree.height === 0 ? { kind: 'leaf', index: 0 } : { kind: 'node', level: loaded.tree.height, index: 0 } };
    }
    // A block under a root asked for lately.
    for (const [key, loaded] of [...this.#trees].reverse()) {
      const ref = loaded.tree.find(cid.toV1());
      if (!ref) continue;
      // Still held (the torrent may have gone since): the file is where it was, complete.
      const [ih, i] = key.split(':') as [string, string];
      if (!this.#fileOf(ih, Number(i))) continue;
      return { ...loaded, ref };
    }
    return undefined;
  }

  async #load(infoHash: string, index: number): Promise<Loaded | undefined> {
    const file = this.#fileOf(infoHash, index);
    if (!file) return undefined;
    const key = `${infoHash}:${index}`;
    let loaded = this.#trees.get(key);
    if (!loaded || loaded.file.path !== file.path) {
      const chunks = await this.#cids.chunks(infoHash, index);
      if (!chunks) return undefined;
      let tree: UnixfsTree;
      try {
        tree = new UnixfsTree(file.length, chunks);
      } catch {
        return undefined; // digests of another length: the file was hashed before it changed
      }
      loaded = { file, tree };
    }
    this.#trees.delete(key);
    this.#trees.set(key, loaded);
    let leaves = 0;
    for (const t of this.#trees.values()) leaves += t.tree.leafCount;
    for (const [k, t] of this.#trees) {
      if (this.#trees.size <= 1 || (this.#trees.size <= TREES && leaves <= LEAVES)) break;
      leaves -= t.tree.leafCount;
      this.#trees.delete(k);
    }
    return loaded;
  }
}

function* frame(cid: CID, bytes: Uint8Array): Generator<Uint8Array> {
  yield carBlockHead(cid, bytes.length);
  yield bytes;
}

/** A file's DAG from `ref` down, depth-first (its first block only when `one`; with `range`, only the
 *  blocks whose bytes meet it: the nodes on the way to its leaves, and those leaves). */
async function* fileBlocks({ file, tree, ref }: Loaded & { ref: UnixfsBlockRef }, one: boolean, range?: { from: number; to: number }): AsyncGenerator<Uint8Array> {
  const h = await open(file.path, 'r');
  try {
    for (const b of tree.blocks(ref)) {
      if (range && !one && !meets(tree, b.ref, range)) continue;
      yield* frame(b.cid, b.ref.kind === 'node' ? tree.node(b.ref.level, b.ref.index) : await readLeaf(h, tree, b.ref.index));
      if (one) break;
    }
  } finally {
    await h.close();
  }
}

/** `?entity-bytes=from:to` (trustless gateway spec): byte offsets, inclusive; negative ones count from
 *  the end; `to` null is `*` (the end). */
export interface EntityBytes {
  from: number;
  to: number | null;
}

/** The range resolved against a file of `length` bytes, clamped to it; `empty` when it holds no
 *  byte (the answer is then the root block alone, as dag-scope=block); null when it lies wholly
 *  outside the file (the route's 400). */
function byteRange(b: EntityBytes, length: number): { from: number; to: number; empty: boolean } | null {
  const from = b.from < 0 ? Math.max(0, length + b.from) : b.from;
  const to = b.to === null ? length - 1 : b.to < 0 ? length + b.to : Math.min(b.to, length - 1);
  if (length > 0 && from >= length) return null;
  return { from, to, empty: to < from || length === 0 };
}

/** Whether a block's bytes of the file meet [from, to]. */
function meets(tree: UnixfsTree, ref: UnixfsBlockRef, r: { from: number; to: number }): boolean {
  const span = ref.kind === 'leaf' ? 1 : tree.maxChildren ** ref.level;
  const first = ref.kind === 'leaf' ? ref.index : ref.index * span;
  const last = Math.min(first + span, tree.leafCount) - 1;
  return tree.leafRange(first).start <= r.to && tree.leafRange(last).end - 1 >= r.from;
}

export class RangeOutside extends Error {
  constructor(b: EntityBytes, length: number) {
    super(`entity-bytes=${b.from}:${b.to ?? '*'} lies wholly outside the file's ${length} bytes`);
    this.name = 'RangeOutside';
  }
}

/** Parses a CID; a malformed one is an error the route answers with 400. */
function cidOf(text: string): CID {
  const cid = parseCid(text);
  if (!cid) throw new MalformedCid(text);
  return cid;
}

export class MalformedCid extends Error {
  constructor(text: string) {
    super(`${JSON.stringify(text.slice(0, 100))} is not a CID`);
    this.name = 'MalformedCid';
  }
}

async function readLeaf(h: import('node:fs/promises').FileHandle, tree: UnixfsTree, index: number): Promise<Uint8Array> {
  const { start, end } = tree.leafRange(index);
  const buf = Buffer.allocUnsafe(end - start);
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await h.read(buf, got, buf.length - got, start + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  const digest = createHash('sha256').update(buf.subarray(0, got)).digest();
  if (got !== buf.length || !tree.leafCid(index).multihash.digest.every((b, i) => b === digest[i])) {
    throw new Error(`chunk ${index} of the file no longer matches its content id (changed on disk since it was hashed)`);
  }
  return buf;
}
