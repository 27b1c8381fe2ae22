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
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { carBlockHead, carHeader, parseCid, UnixfsTree, type CID, type UnixfsBlockRef } from '@cascade/content';
import type { FileCids } from './file-cids.ts';

/** A complete file of a public torrent the node holds, where it is on disk. */
export interface HeldFile {
  path: string;
  length: number;
}

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

  constructor(cids: FileCids, fileOf: (infoHash: string, index: number) => HeldFile | undefined) {
    this.#cids = cids;
    this.#fileOf = fileOf;
  }

  /** The bytes of block `cid`, or undefined when the node holds no such block. Throws for a
   *  malformed CID (the route answers 400). */
  async block(text: string): Promise<Uint8Array | undefined> {
    const found = await this.#resolve(cidOf(text));
    if (!found) return undefined;
    const { file, tree, ref } = found;
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
  async car(text: string, scope: DagScope = 'all'): Promise<AsyncIterable<Uint8Array> | undefined> {
    const root = cidOf(text);
    const found = await this.#resolve(root);
    if (!found) return undefined;
    const { file, tree, ref } = found;
    return (async function* () {
      yield carHeader(root);
      const h = await open(file.path, 'r');
      try {
        for (const b of tree.blocks(ref)) {
          const bytes = b.ref.kind === 'node' ? tree.node(b.ref.level, b.ref.index) : await readLeaf(h, tree, b.ref.index);
          yield carBlockHead(b.cid, bytes.length);
          yield bytes;
          if (scope === 'block') break;
        }
      } finally {
        await h.close();
      }
    })();
  }

  async #resolve(cid: CID): Promise<(Loaded & { ref: UnixfsBlockRef }) | undefined> {
    const text = cid.toV1().toString();
    // A file's root (or a file of one chunk, whose root is its content id).
    for (const { infoHash, index } of await this.#cids.withCid(text)) {
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
