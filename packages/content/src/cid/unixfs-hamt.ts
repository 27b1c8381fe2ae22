// A folder too large for one dag-pb node, as IPFS has it: a HAMT-sharded UnixFS directory, built
// as @helia/unixfs (ipfs-unixfs-importer 16's dir-sharded.js, over hamt-sharding 3) builds it with
// its defaults, so the root CID is the one `addAll` gives the same folder (docs/storage/ipfs.md):
// - each entry's slot at level d is byte d of the first 8 of murmur3-x64-128 of its name's UTF-8
//   bytes (8 bits a level: fanout 256); past them, the name with the byte k appended is hashed for
//   bytes 8k…8k+7 (hamt-sharding's InfiniteHash; 64 equal bits of two names never happen in practice);
// - a slot holding one entry is a link named by the slot in two upper-case hex digits then the
//   entry's name; a slot holding more is a sub-shard one level down, linked under the two digits alone;
// - each node is dag-pb, UnixFS `hamt-sharded-directory` with `fanout` 256, `hashType` 0x22
//   (multicodec murmur3-x64-64: those 8 bytes) and `data` the bitfield of its used slots (big-endian,
//   no leading zero byte), no mtime/mode; links in slot order; Tsize as a flat folder counts it (node
//   bytes plus children's).
// The result depends only on the set of names, not on the order they were added.
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 as sha2 } from 'multiformats/hashes/sha2';
import { sha256 } from '@noble/hashes/sha2.js';
import { murmur3128 } from '@multiformats/murmur3';
import { DAG_PB } from './unixfs.ts';

/** ipfs-unixfs-importer's DEFAULT_SHARD_FANOUT_BITS and DEFAULT_SHARD_HASH_CODE. */
export const SHARD_FANOUT = 256;
const HASH_MURMUR3_X64_64 = 0x22n;

export interface ShardEntry<T> {
  name: string;
  cid: CID;
  tsize: number;
  value: T;
}

export interface ShardNode<T> {
  cid: CID;
  block: Uint8Array;
  /** The node's bytes plus everything under it. */
  tsize: number;
  /** 0 for the folder's own node. */
  level: number;
  /** Used slots in slot order: an entry, or a sub-shard. */
  slots: Map<number, ShardNode<T> | ShardEntry<T>>;
}

const utf8 = new TextEncoder();

/** The slots a name takes level by level, computed 8 levels (one murmur3 digest) at a time. */
class NameHash {
  readonly #name: Uint8Array;
  readonly #parts: Uint8Array[] = [];

  constructor(name: string) {
    this.#name = utf8.encode(name);
  }

  slot(level: number): number {
    const k = Math.floor(level / 8);
    while (this.#parts.length <= k) {
      const n = this.#parts.length;
      const input = n === 0 ? this.#name : Uint8Array.from([...this.#name, n]);
      // murmur3128's encode is synchronous: the 16-byte digest, of which IPFS uses the first 8.
      this.#parts.push((murmur3128.encode(input) as Uint8Array).subarray(0, 8));
    }
    return this.#parts[k]![level % 8]!;
  }
}

/** The slot `name` takes at `level` of a shard. */
export function shardSlot(name: string, level: number): number {
  return new NameHash(name).slot(level);
}

/** The shard of `entries` (names unique), its sub-shards built first. */
export function buildShard<T>(entries: readonly ShardEntry<T>[]): ShardNode<T> {
  return build(entries.map((e) => ({ e, h: new NameHash(e.name) })), 0);
}

function build<T>(items: { e: ShardEntry<T>; h: NameHash }[], level: number): ShardNode<T> {
  // 64 levels: 512 bits of hash alike. Two equal names (which a folder cannot hold) would recurse forever.
  if (level >= 64) throw new Error(`a HAMT shard cannot tell ${JSON.stringify(items[0]!.e.name)} from ${JSON.stringify(items[1]!.e.name)}`);
  const bySlot = new Map<number, { e: ShardEntry<T>; h: NameHash }[]>();
  for (const it of items) {
    const s = it.h.slot(level);
    const group = bySlot.get(s);
    if (group) group.push(it);
    else bySlot.set(s, [it]);
  }
  const slots: ShardNode<T>['slots'] = new Map();
  const links: dagPb.PBLink[] = [];
  const bits = new Uint8Array(SHARD_FANOUT / 8);
  let childrenSize = 0;
  for (const s of [...bySlot.keys()].sort((a, b) => a - b)) {
    const group = bySlot.get(s)!;
    const label = s.toString(16).toUpperCase().padStart(2, '0');
    // Little-endian bit s (the slot), reversed below: go-unixfs's order.
    bits[s >> 3]! |= 1 << (s & 7);
    if (group.length === 1) {
      const e = group[0]!.e;
      slots.set(s, e);
      links.push({ Name: label + e.name, Tsize: e.tsize, Hash: e.cid });
      childrenSize += e.tsize;
    } else {
      const sub = build(group, level + 1);
      slots.set(s, sub);
      links.push({ Name: label, Tsize: sub.tsize, Hash: sub.cid });
      childrenSize += sub.tsize;
    }
  }
  let used = bits.length;
  while (used > 1 && bits[used - 1] === 0) used--;
  const data = bits.slice(0, used).reverse();
  const unixfs = new UnixFS({ type: 'hamt-sharded-directory', data, fanout: BigInt(SHARD_FANOUT), hashType: HASH_MURMUR3_X64_64 });
  const block = dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: links }));
  const cid = CID.createV1(DAG_PB, Digest.create(sha2.code, sha256(block)));
  return { cid, block, tsize: block.length + childrenSize, level, slots };
}

/** Where `name` is in the shard: its entry and the shard's nodes on the way (the top one first), or
 *  undefined when the shard does not hold it. */
export function findInShard<T>(root: ShardNode<T>, name: string): { entry: ShardEntry<T>; via: ShardNode<T>[] } | undefined {
  const h = new NameHash(name);
  const via: ShardNode<T>[] = [];
  for (let node = root; ; ) {
    via.push(node);
    const c = node.slots.get(h.slot(node.level));
    if (!c) return undefined;
    if ('slots' in c) {
      node = c;
      continue;
    }
    return c.name === name ? { entry: c, via } : undefined;
  }
}

/** Every node of the shard, the top one first. */
export function* shardNodes<T>(root: ShardNode<T>): Generator<ShardNode<T>> {
  yield root;
  for (const c of root.slots.values()) if ('slots' in c) yield* shardNodes(c);
}
