// The UnixFS CID of a file: the root that Helia's @helia/unixfs (ipfs-unixfs-importer 16) gives the
// same bytes with its defaults — CIDv1, raw leaves (codec 0x55), fixed 1 MiB (1,048,576-byte)
// chunks, balanced layout with at most 1,024 links per node, sha2-256 throughout, no mtime/mode,
// and a file of one chunk (0 bytes included) reduced to that raw leaf. Any IPFS implementation
// importing with these settings gets the same CID (docs/storage/ipfs.md).
//
// The tree is fully determined by the file's length and the SHA-256 of each chunk, so that is all
// the node keeps (32 bytes a MiB): every intermediate dag-pb node is rebuilt from those digests on
// demand (a few KiB each), the leaves are the file's own bytes. Platform-free: @noble/hashes for
// the nodes' hashes (small), the chunks' digests come from whoever read the file.
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 as sha2 } from 'multiformats/hashes/sha2';
import { sha256 } from '@noble/hashes/sha2.js';

/** The chunk size and fan-out @helia/unixfs imports with by default (its commands/add.js). */
export const UNIXFS_CHUNK = 1_048_576;
export const UNIXFS_MAX_CHILDREN = 1_024;
const RAW = 0x55;
export const DAG_PB = 0x70;

export interface UnixfsLayout {
  chunkSize?: number;
  maxChildren?: number;
}

/** Where a block of the tree is: a leaf (a chunk of the file) or a node (level ≥ 1, index in it). */
export type UnixfsBlockRef = { kind: 'leaf'; index: number } | { kind: 'node'; level: number; index: number };

interface NodeInfo {
  cid: CID;
  /** Tsize: the node's bytes plus its children's Tsize (as the importer counts it). */
  tsize: number;
}

/** A raw leaf's CID from its chunk's SHA-256. */
export function rawCid(digest: Uint8Array): CID {
  return CID.createV1(RAW, Digest.create(sha2.code, digest));
}

/** The number of chunks a file of `length` bytes is cut into (one, empty, for 0 bytes). */
export function chunkCount(length: number, chunkSize = UNIXFS_CHUNK): number {
  return Math.max(1, Math.ceil(length / chunkSize));
}

/**
 * A file's UnixFS DAG from its length and its chunks' SHA-256 digests (32 bytes each, in order).
 * Intermediate nodes are built once at construction (about one per 1,024 chunks) and only their CIDs
 * and sizes kept; node() re-encodes one when asked.
 */
export class UnixfsTree {
  readonly length: number;
  readonly chunkSize: number;
  readonly maxChildren: number;
  readonly #digests: Uint8Array;
  /** levels[0]: leaves (not materialised, see leafCid); levels[k ≥ 1]: the nodes of level k. */
  readonly #levels: NodeInfo[][] = [[]];
  readonly #byCid = new Map<string, { level: number; index: number }>();

  constructor(length: number, digests: Uint8Array, layout: UnixfsLayout = {}) {
    this.length = length;
    this.chunkSize = layout.chunkSize ?? UNIXFS_CHUNK;
    this.maxChildren = layout.maxChildren ?? UNIXFS_MAX_CHILDREN;
    const n = chunkCount(length, this.chunkSize);
    if (digests.length !== n * 32) throw new Error(`a file of ${length} bytes has ${n} chunks: ${n * 32} bytes of digests expected, not ${digests.length}`);
    this.#digests = digests;
    let count = n;
    for (let level = 1; count > 1; level++) {
      const nodes: NodeInfo[] = [];
      count = Math.ceil(count / this.maxChildren);
      for (let i = 0; i < count; i++) {
        const { block, tsize } = this.#encode(level, i);
        const cid = CID.createV1(DAG_PB, Digest.create(sha2.code, sha256(block)));
        nodes.push({ cid, tsize });
        this.#byCid.set(cid.toString(), { level, index: i });
      }
      this.#levels.push(nodes);
    }
  }

  /** The levels above the leaves (0: the file is one raw leaf). */
  get height(): number {
    return this.#levels.length - 1;
  }

  get leafCount(): number {
    return this.#digests.length / 32;
  }

  /** The root's cumulative size (its block and everything under it), as a directory's link to the
   *  file counts it: the file's length for a file of one chunk. */
  get rootTsize(): number {
    return this.height === 0 ? this.length : this.#levels[this.height]![0]!.tsize;
  }

  get root(): CID {
    return this.height === 0 ? this.leafCid(0) : this.#levels[this.height]![0]!.cid;
  }

  leafCid(index: number): CID {
    return rawCid(this.#digests.subarray(index * 32, index * 32 + 32));
  }

  /** The file's byte range of leaf `index`. */
  leafRange(index: number): { start: number; end: number } {
    const start = index * this.chunkSize;
    return { start, end: Math.min(this.length, start + this.chunkSize) };
  }

  /** The dag-pb bytes of node `index` at `level` (≥ 1). */
  node(level: number, index: number): Uint8Array {
    return this.#encode(level, index).block;
  }

  /** The CIDs of a node's children, in order (leaves at level 1). */
  children(level: number, index: number): { ref: UnixfsBlockRef; cid: CID }[] {
    const below = level - 1;
    const count = below === 0 ? this.leafCount : this.#levels[below]!.length;
    const out: { ref: UnixfsBlockRef; cid: CID }[] = [];
    for (let i = index * this.maxChildren; i < Math.min(count, (index + 1) * this.maxChildren); i++) {
      out.push(below === 0 ? { ref: { kind: 'leaf', index: i }, cid: this.leafCid(i) } : { ref: { kind: 'node', level: below, index: i }, cid: this.#levels[below]![i]!.cid });
    }
    return out;
  }

  /** Where the block `cid` is in this tree, if it is one of its blocks. */
  find(cid: CID): UnixfsBlockRef | undefined {
    if (cid.code === DAG_PB) {
      const at = this.#byCid.get(cid.toString());
      return at && { kind: 'node', ...at };
    }
    if (cid.code !== RAW || cid.multihash.code !== sha2.code) return undefined;
    const d = cid.multihash.digest;
    // Chunk digests are 32-byte aligned: a match elsewhere is a coincidence of bytes, look on.
    for (let at = indexOf(this.#digests, d, 0); at >= 0; at = indexOf(this.#digests, d, at + 1)) {
      if (at % 32 === 0) return { kind: 'leaf', index: at / 32 };
    }
    return undefined;
  }

  /** Every block in the order a CAR of the whole DAG carries them (depth-first, parents first). */
  *blocks(from: UnixfsBlockRef = this.height === 0 ? { kind: 'leaf', index: 0 } : { kind: 'node', level: this.height, index: 0 }): Generator<{ ref: UnixfsBlockRef; cid: CID }> {
    if (from.kind === 'leaf') {
      yield { ref: from, cid: this.leafCid(from.index) };
      return;
    }
    yield { ref: from, cid: this.#levels[from.level]![from.index]!.cid };
    for (const c of this.children(from.level, from.index)) yield* this.blocks(c.ref);
  }

  #encode(level: number, index: number): { block: Uint8Array; tsize: number } {
    const f = new UnixFS({ type: 'file' });
    const links: dagPb.PBLink[] = [];
    let tsize = 0;
    const below = level - 1;
    const span = this.chunkSize * this.maxChildren ** below;
    const count = below === 0 ? this.leafCount : this.#levels[below]!.length;
    for (let i = index * this.maxChildren; i < Math.min(count, (index + 1) * this.maxChildren); i++) {
      // The bytes of the file under child i: its leaves' sizes (the last chunk may be short).
      const bytes = Math.min(this.length, (i + 1) * span) - i * span;
      const child = below === 0 ? { cid: this.leafCid(i), tsize: bytes } : this.#levels[below]![i]!;
      f.addBlockSize(BigInt(bytes));
      links.push({ Name: '', Tsize: child.tsize, Hash: child.cid });
      tsize += child.tsize;
    }
    const block = dagPb.encode(dagPb.prepare({ Data: f.marshal(), Links: links }));
    return { block, tsize: tsize + block.length };
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  // Buffer's indexOf where there is one (Node), a plain scan elsewhere.
  const B = (globalThis as { Buffer?: { from(a: ArrayBufferLike, o: number, l: number): { indexOf(n: Uint8Array, f: number): number } } }).Buffer;
  if (B) return B.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle, from);
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The chunks' digests of a file read in order: update() with its bytes (any slicing), digests()
 * at the end. `hash` is the platform's SHA-256 (node:crypto on the node: this runs in the read pass).
 */
export class ChunkDigests {
  readonly #chunkSize: number;
  readonly #hash: (bytes: Uint8Array[]) => Uint8Array;
  readonly #out: Uint8Array[] = [];
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  #length = 0;

  constructor(hash: (parts: Uint8Array[]) => Uint8Array, chunkSize = UNIXFS_CHUNK) {
    this.#hash = hash;
    this.#chunkSize = chunkSize;
  }

  update(bytes: Uint8Array): void {
    this.#length += bytes.length;
    let b = bytes;
    while (b.length > 0) {
      const take = Math.min(b.length, this.#chunkSize - this.#pendingLength);
      // The common case, a read of exactly one chunk, is hashed without a copy.
      this.#pending.push(this.#pendingLength === 0 && take === this.#chunkSize ? b.subarray(0, take) : b.slice(0, take));
      this.#pendingLength += take;
      b = b.subarray(take);
      if (this.#pendingLength === this.#chunkSize) this.#flush();
    }
  }

  #flush(): void {
    this.#out.push(this.#hash(this.#pending));
    this.#pending = [];
    this.#pendingLength = 0;
  }

  /** All chunks' digests, 32 bytes each; the file's length. */
  digests(): { length: number; digests: Uint8Array } {
    // The last, short chunk; an empty file is one empty chunk.
    if (this.#pendingLength > 0 || this.#out.length === 0) this.#flush();
    const all = new Uint8Array(this.#out.length * 32);
    this.#out.forEach((d, i) => all.set(d, i * 32));
    return { length: this.#length, digests: all };
  }
}
