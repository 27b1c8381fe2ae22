// Answers BEP 52 hash requests from the trees we know: a file's piece layer (from the .torrent, or
// learnt from peers and checked) covers requests at the piece level and above; requests below it
// (block hashes, which a peer asks for after a piece failed, to find the bad block) need the file's
// leaves, hashed from its data on disk once we have all of it. Anything else is a hash reject.

import { toHex } from '../encoding/hex.ts';
import { checkHashRange, hashesFor, MerkleTree, pieceLevel } from '../hashing/merkle.ts';
import type { Hasher } from '../platform.ts';
import { blockLeaves } from '../pieces/torrent-v2.ts';
import type { FileEntry, Metainfo } from '../types.ts';
import { MSG, type HashRequest } from '../wire/protocol.ts';
import type { Peer } from './peer.ts';

/** Trees kept for answering: a leaf tree costs 64 bytes per 16 KiB block of the file. */
const CACHED_TREES = 4;
/** Requests one peer may have us working on at once; more are rejected (each may read a file). */
const MAX_PENDING = 16;

export interface HashServerHost {
  meta(): Metainfo | undefined;
  has(piece: number): boolean;
  readPiece(piece: number): Promise<Uint8Array>;
  hasher: Hasher;
}

export class HashServer {
  private readonly host: HashServerHost;
  /** By pieces root (hex) and whether it holds the leaves; most recently used last. */
  private readonly trees = new Map<string, MerkleTree>();
  private byRoot: Map<string, FileEntry> | undefined;
  private readonly pending = new WeakMap<Peer, number>();

  constructor(host: HashServerHost) {
    this.host = host;
  }

  /** Answers a peer's request with `hashes` or `hash reject`, in the order its requests finish. */
  serve(peer: Peer, req: HashRequest): void {
    const n = this.pending.get(peer) ?? 0;
    if (n >= MAX_PENDING) return peer.sendHashMessage(MSG.hashReject, req);
    this.pending.set(peer, n + 1);
    this.answer(req).then(
      (hashes) => (hashes ? peer.sendHashMessage(MSG.hashes, req, hashes) : peer.sendHashMessage(MSG.hashReject, req)),
      () => peer.sendHashMessage(MSG.hashReject, req),
    ).finally(() => this.pending.set(peer, (this.pending.get(peer) ?? 1) - 1));
  }

  /** The `hashes` payload for `req`, or undefined when we cannot prove it (hash reject). */
  async answer(req: HashRequest): Promise<Uint8Array | undefined> {
    const meta = this.host.meta();
    if (!meta) return undefined;
    const rootHex = toHex(req.piecesRoot);
    const file = this.fileOf(meta, rootHex);
    if (!file || checkHashRange(file.length, req) !== undefined) return undefined;
    const tree = await this.treeFor(meta, file, rootHex, req.baseLayer);
    return tree && hashesFor(tree, req);
  }

  private fileOf(meta: Metainfo, rootHex: string): FileEntry | undefined {
    if (!this.byRoot) {
      this.byRoot = new Map();
      for (const f of meta.files) if (f.piecesRoot && !f.pad) this.byRoot.set(toHex(f.piecesRoot), f);
    }
    return this.byRoot.get(rootHex);
  }

  private remember(key: string, tree: MerkleTree): MerkleTree {
    this.trees.delete(key);
    this.trees.set(key, tree);
    if (this.trees.size > CACHED_TREES) this.trees.delete(this.trees.keys().next().value!);
    return tree;
  }

  private layerTree(meta: Metainfo, file: FileEntry, rootHex: string): MerkleTree | undefined {
    const known = this.trees.get(rootHex) ?? this.trees.get(`${rootHex}/leaves`);
    if (known) return this.remember(this.trees.has(rootHex) ? rootHex : `${rootHex}/leaves`, known);
    const layer = meta.pieceLayers?.get(rootHex);
    return layer ? this.remember(rootHex, MerkleTree.fromLayer(file.length, pieceLevel(meta.pieceLength), layer)) : undefined;
  }

  /** A tree for a request: from the piece layer where it reaches, else from the file's data. */
  private async treeFor(meta: Metainfo, file: FileEntry, rootHex: string, baseLayer: number): Promise<MerkleTree | undefined> {
    const layered = file.length > meta.pieceLength && baseLayer >= pieceLevel(meta.pieceLength);
    return (layered ? this.layerTree(meta, file, rootHex) : undefined) ?? (await this.leafTree(meta, file, rootHex));
  }

  /** Every leaf of the file, from its verified pieces; undefined unless we have them all. */
  private async leafTree(meta: Metainfo, file: FileEntry, rootHex: string): Promise<MerkleTree | undefined> {
    const key = `${rootHex}/leaves`;
    const known = this.trees.get(key);
    if (known) return this.remember(key, known);
    const first = file.offset / meta.pieceLength;
    const pieces = Math.ceil(file.length / meta.pieceLength);
    for (let p = first; p < first + pieces; p++) if (!this.host.has(p)) return undefined;
    const leaves: Uint8Array[] = [];
    for (let k = 0; k < pieces; k++) {
      const data = await this.host.readPiece(first + k);
      leaves.push(await blockLeaves(this.host.hasher, data, Math.min(meta.pieceLength, file.length - k * meta.pieceLength)));
    }
    const all = new Uint8Array(leaves.reduce((n, l) => n + l.length, 0));
    let at = 0;
    for (const l of leaves) all.set(l, (at += l.length) - l.length);
    const tree = MerkleTree.fromLeaves(file.length, all);
    if (toHex(tree.root) !== rootHex) return undefined; // our data does not make this file: never prove it
    return this.remember(key, tree);
  }
}
