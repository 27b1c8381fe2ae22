// BEP 52 merkle trees: one binary SHA-256 tree per file over its 16 KiB blocks. A leaf is the
// SHA-256 of one block (the last block may be short and is hashed as it is); the leaves are padded
// with zero hashes to a power of two, so a node past the file's end is the root of an all-zero
// subtree ("pad hash"). Levels count up from the leaves: level 0 = leaves, level log2(leaves) = the
// file's `pieces root`. The piece layer is level log2(piece length / 16 KiB).
//
// Layers are concatenated 32-byte hashes (as `piece layers` stores them) and only hold the nodes
// that cover file data; the pad nodes to their right are implied.

import { equalBytes } from '../encoding/hex.ts';
import { sha256 } from './sha256.ts';

export const BLOCK_SIZE = 16 * 1024;
export const HASH_LENGTH = 32;

const padHashes: Uint8Array[] = [new Uint8Array(HASH_LENGTH)];

/** Root of a subtree of 2^level zero leaves: what stands in for nodes past a file's end. */
export function padHash(level: number): Uint8Array {
  while (padHashes.length <= level) {
    const below = padHashes[padHashes.length - 1]!;
    padHashes.push(sha256(below, below));
  }
  return padHashes[level]!;
}

export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(left, right);
}

/** The leaf of one block (16 KiB, or fewer for a file's last block). */
export function blockHash(block: Uint8Array): Uint8Array {
  return sha256(block);
}

export function log2(n: number): number {
  return 31 - Math.clz32(n);
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function blockCount(fileLength: number): number {
  return Math.ceil(fileLength / BLOCK_SIZE);
}

/** Leaves of a (non-empty) file's tree, padding included. */
export function leafCount(fileLength: number): number {
  return nextPowerOfTwo(Math.max(1, blockCount(fileLength)));
}

/** Levels above the leaves: the root is at this level. */
export function treeHeight(fileLength: number): number {
  return log2(leafCount(fileLength));
}

/** The level whose nodes each cover one piece. */
export function pieceLevel(pieceLength: number): number {
  return log2(pieceLength / BLOCK_SIZE);
}

/** Nodes at `level` that cover file data (the rest of that level is padding). */
export function nodesAt(fileLength: number, level: number): number {
  return Math.ceil(Math.max(1, blockCount(fileLength)) / 2 ** level);
}

export function hashAt(layer: Uint8Array, index: number): Uint8Array {
  return layer.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH);
}

export function concatHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH_LENGTH);
  hashes.forEach((h, i) => out.set(h, i * HASH_LENGTH));
  return out;
}

/** The layer above `layer` (nodes at `level`); an odd last node pairs with that level's pad hash. */
export function parentLayer(layer: Uint8Array, level: number): Uint8Array {
  const count = layer.length / HASH_LENGTH;
  const out = new Uint8Array(Math.ceil(count / 2) * HASH_LENGTH);
  for (let i = 0; i < count; i += 2) {
    const right = i + 1 < count ? hashAt(layer, i + 1) : padHash(level);
    out.set(hashPair(hashAt(layer, i), right), (i / 2) * HASH_LENGTH);
  }
  return out;
}

/** Root of the subtree whose bottom row is `layer` (nodes at `level`) padded to `width` nodes. */
export function merkleRoot(layer: Uint8Array, width: number, level = 0): Uint8Array {
  const count = layer.length / HASH_LENGTH;
  if ((width & (width - 1)) !== 0 || width < count) throw new RangeError(`bad merkle width ${width} for ${count} nodes`);
  if (count === 0) return padHash(level + log2(width));
  let row = layer;
  for (let l = level; l < level + log2(width); l++) row = parentLayer(row, l);
  return row.slice(0, HASH_LENGTH);
}

/** A file's pieces root from all its leaf hashes. */
export function rootFromLeaves(leaves: Uint8Array): Uint8Array {
  return merkleRoot(leaves, nextPowerOfTwo(leaves.length / HASH_LENGTH));
}

/** A file's piece layer (what `piece layers` holds for files longer than one piece). */
export function pieceLayerFromLeaves(leaves: Uint8Array, pieceLength: number): Uint8Array {
  const perPiece = pieceLength / BLOCK_SIZE;
  const count = leaves.length / HASH_LENGTH;
  const pieces = Math.ceil(count / perPiece);
  const out = new Uint8Array(pieces * HASH_LENGTH);
  for (let p = 0; p < pieces; p++) {
    const blocks = leaves.subarray(p * perPiece * HASH_LENGTH, Math.min(count, (p + 1) * perPiece) * HASH_LENGTH);
    out.set(merkleRoot(blocks, perPiece), p * HASH_LENGTH);
  }
  return out;
}

/** The pieces root a piece layer proves, for a file longer than one piece. */
export function rootFromPieceLayer(layer: Uint8Array, pieceLength: number): Uint8Array {
  return merkleRoot(layer, nextPowerOfTwo(layer.length / HASH_LENGTH), pieceLevel(pieceLength));
}

/**
 * What one piece of a file hashes to, from the leaf hashes of its blocks: the piece layer's entry,
 * or for a file no longer than one piece the pieces root itself (its tree is narrower than a piece).
 */
export function pieceHashFromLeaves(leaves: Uint8Array, fileLength: number, pieceLength: number): Uint8Array {
  const width = fileLength <= pieceLength ? leafCount(fileLength) : pieceLength / BLOCK_SIZE;
  return merkleRoot(leaves, width);
}

/**
 * A file's tree as far as it is known: `levels[l]` holds the data-covering nodes at level l, or is
 * undefined when that level is not known (a tree built from a piece layer has no leaves).
 */
export class MerkleTree {
  readonly fileLength: number;
  readonly levels: (Uint8Array | undefined)[];

  constructor(fileLength: number, levels: (Uint8Array | undefined)[]) {
    this.fileLength = fileLength;
    this.levels = levels;
  }

  /** Every level, from the file's leaf hashes. */
  static fromLeaves(fileLength: number, leaves: Uint8Array): MerkleTree {
    return MerkleTree.fromLayer(fileLength, 0, leaves);
  }

  /** The levels from `level` up, e.g. from a piece layer. */
  static fromLayer(fileLength: number, level: number, layer: Uint8Array): MerkleTree {
    const height = treeHeight(fileLength);
    if (layer.length !== nodesAt(fileLength, level) * HASH_LENGTH) throw new RangeError('layer length does not fit the file');
    const levels: (Uint8Array | undefined)[] = new Array(height + 1).fill(undefined);
    levels[level] = layer;
    for (let l = level; l < height; l++) levels[l + 1] = parentLayer(levels[l]!, l);
    return new MerkleTree(fileLength, levels);
  }

  get height(): number {
    return this.levels.length - 1;
  }

  get root(): Uint8Array {
    return this.levels[this.height]!;
  }

  /** A node, with pad hashes past the data; undefined when the level is unknown or out of range. */
  node(level: number, index: number): Uint8Array | undefined {
    const layer = this.levels[level];
    if (!layer || index < 0 || index >= 2 ** (this.height - level)) return undefined;
    return index * HASH_LENGTH < layer.length ? hashAt(layer, index) : padHash(level);
  }
}

/** The fields of a BEP 52 `hash request`, `hashes` and `hash reject` message (root aside). */
export interface HashRange {
  /** Level of the requested hashes (0 = leaves). */
  baseLayer: number;
  index: number;
  length: number;
  proofLayers: number;
}

/** Why a request is not one a well-behaved peer sends for a file of this length, or undefined. */
export function checkHashRange(fileLength: number, r: HashRange): string | undefined {
  const height = treeHeight(fileLength);
  const ints = [r.baseLayer, r.index, r.length, r.proofLayers].every((n) => Number.isInteger(n) && n >= 0);
  if (!ints || fileLength <= 0) return 'bad numbers';
  if (r.baseLayer >= height) return `base layer ${r.baseLayer} is not below the root (height ${height})`;
  const width = 2 ** (height - r.baseLayer);
  if (r.length < 2 || (r.length & (r.length - 1)) !== 0) return `length ${r.length} is not a power of two ≥ 2`;
  if (r.index % r.length !== 0) return `index ${r.index} is not a multiple of length ${r.length}`;
  if (r.index + r.length > width) return `hashes ${r.index}+${r.length} run past the layer's ${width}`;
  if (r.proofLayers >= height - r.baseLayer) return `${r.proofLayers} proof layers reach past the root`;
  return undefined;
}

/** How many uncle hashes follow the base hashes: the first log2(length) - 1 proof layers are implied. */
export function uncleCount(r: HashRange): number {
  return Math.max(0, r.proofLayers - (log2(r.length) - 1));
}

/**
 * The payload hashes of a `hashes` message answering `r`: the base-layer hashes (pads included),
 * then one uncle per proof layer above the subtree they span, nearest the base first. Undefined
 * when the tree lacks a node it needs (the caller sends `hash reject`).
 */
export function hashesFor(tree: MerkleTree, r: HashRange): Uint8Array | undefined {
  if (checkHashRange(tree.fileLength, r) !== undefined) return undefined;
  const out: Uint8Array[] = [];
  for (let i = r.index; i < r.index + r.length; i++) {
    const h = tree.node(r.baseLayer, i);
    if (!h) return undefined;
    out.push(h);
  }
  let level = r.baseLayer + log2(r.length);
  let index = r.index / r.length;
  for (let u = 0; u < uncleCount(r); u++, level++, index >>= 1) {
    const h = tree.node(level, index ^ 1);
    if (!h) return undefined;
    out.push(h);
  }
  return concatHashes(out);
}

/**
 * Folds a `hashes` payload up to the highest node it proves: the subtree root of the base hashes,
 * combined with each uncle in turn. The caller compares the result with a node it trusts (the
 * pieces root, or a piece layer entry). Undefined when the payload has the wrong size.
 */
export function foldHashes(r: HashRange, hashes: Uint8Array): { level: number; index: number; hash: Uint8Array } | undefined {
  const uncles = uncleCount(r);
  if (hashes.length !== (r.length + uncles) * HASH_LENGTH) return undefined;
  let hash = merkleRoot(hashes.subarray(0, r.length * HASH_LENGTH), r.length, r.baseLayer);
  let level = r.baseLayer + log2(r.length);
  let index = r.index / r.length;
  for (let u = 0; u < uncles; u++, level++, index >>= 1) {
    const uncle = hashAt(hashes, r.length + u);
    hash = index & 1 ? hashPair(uncle, hash) : hashPair(hash, uncle);
  }
  return { level, index, hash };
}

/** True when `hashes` answers `r` for a file of this length and proves itself against its root. */
export function verifyHashes(piecesRoot: Uint8Array, fileLength: number, r: HashRange, hashes: Uint8Array): boolean {
  if (checkHashRange(fileLength, r) !== undefined) return false;
  const top = foldHashes(r, hashes);
  return !!top && top.level === treeHeight(fileLength) && equalBytes(top.hash, piecesRoot);
}
