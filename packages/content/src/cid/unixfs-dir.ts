// A multi-file torrent's folder as a UnixFS directory: what @helia/unixfs's addAll gives the folder
// when its files are imported under their paths with the defaults (ipfs-unixfs-importer 16's
// dir-flat.js): a dag-pb node per folder, UnixFS type `directory` with no mtime/mode, one link per
// entry (its name, its root CID, its cumulative size: a file's root Tsize, a folder's block plus its
// entries'), links sorted by name as dag-pb requires. A folder past the importer's shard threshold
// is a HAMT shard (unixfs-hamt.ts), decided by the importer's rule (flat-to-shard.js, dir-flat.js's
// 'links-bytes' estimate): the sum over the folder's *files* of name bytes plus CID bytes passes
// 262,144 bytes. A subfolder counts nothing there: the importer decides while it adds files, when
// no subfolder has a CID yet. Directory nodes hold links only: all of a torrent's are kept while it is asked for.
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 as sha2 } from 'multiformats/hashes/sha2';
import { sha256 } from '@noble/hashes/sha2.js';
import { DAG_PB } from './unixfs.ts';
import { buildShard, findInShard, shardNodes, type ShardNode } from './unixfs-hamt.ts';

/** ipfs-unixfs-importer's DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES, measured its default way ('links-bytes'). */
export const SHARD_THRESHOLD = 262_144;

export interface DirFile {
  /** Path under the folder (the torrent's name is the folder itself). */
  path: string[];
  /** The file's UnixFS root and its Tsize (UnixfsTree's root and rootTsize). */
  cid: CID;
  tsize: number;
  /** Whose file it is (the metainfo's file index). */
  index: number;
}

export type DirTarget = { kind: 'dir'; cid: CID; block: Uint8Array; path: string[] } | { kind: 'file'; cid: CID; index: number };

interface Folder {
  entries: Map<string, Folder | DirFile>;
  cid?: CID;
  block?: Uint8Array;
  tsize?: number;
  /** Set when the folder is a HAMT shard: its nodes (the top one's CID and block are the folder's). */
  shard?: ShardNode<Folder | DirFile>;
}

/** A folder's node: the folder's own, or a node of its shard (`shard` then says which). */
interface At {
  folder: Folder;
  path: string[];
  shard?: ShardNode<Folder | DirFile>;
}

export class UnixfsDir {
  readonly #top: Folder = { entries: new Map() };
  readonly #byCid = new Map<string, At>();

  constructor(files: readonly DirFile[]) {
    for (const f of files) {
      let at = this.#top;
      for (const part of f.path.slice(0, -1)) {
        let next = at.entries.get(part);
        if (!next) at.entries.set(part, (next = { entries: new Map() }));
        if (!('entries' in next)) throw new Error(`${f.path.join('/')}: ${part} is a file and a folder`);
        at = next;
      }
      at.entries.set(f.path[f.path.length - 1]!, f);
    }
    this.#flush(this.#top, []);
  }

  get root(): CID {
    return this.#top.cid!;
  }

  /** A folder's node by its CID (any folder of the torrent, or any node of a sharded one's HAMT). */
  node(cid: CID): { block: Uint8Array; path: string[] } | undefined {
    const at = this.#byCid.get(cid.toString());
    return at && { block: at.shard?.block ?? at.folder.block!, path: at.path };
  }

  /** Whether the folder `cid` names (the top one by default) is a HAMT shard. */
  sharded(cid: CID = this.root): boolean {
    return this.#byCid.get(cid.toString())?.shard !== undefined;
  }

  /** What `path` (under the folder `from`, the top one by default) names, and the folders' nodes on
   *  the way to it (the top one first), or undefined when there is no such entry. */
  resolve(path: readonly string[], from: CID = this.root): { target: DirTarget; via: { cid: CID; block: Uint8Array }[] } | undefined {
    const start = this.#byCid.get(from.toString());
    if (!start) return undefined;
    // A node inside a shard names itself only: IPFS resolves names from a shard's top node.
    if (start.shard && start.shard !== start.folder.shard) return path.length === 0 ? { target: { kind: 'dir', cid: start.shard.cid, block: start.shard.block, path: start.path }, via: [] } : undefined;
    let at: Folder | DirFile = start.folder;
    const via: { cid: CID; block: Uint8Array }[] = [];
    const walked = [...start.path];
    for (const part of path) {
      if (!('entries' in at)) return undefined;
      let next: Folder | DirFile | undefined;
      if (at.shard) {
        // The shard's nodes from its top to the one holding the name: what a client hashes its way through.
        const found: { entry: { value: Folder | DirFile }; via: ShardNode<Folder | DirFile>[] } | undefined = findInShard(at.shard, part);
        if (!found) return undefined;
        for (const n of found.via) via.push({ cid: n.cid, block: n.block });
        next = found.entry.value;
      } else {
        via.push({ cid: at.cid!, block: at.block! });
        next = at.entries.get(part);
      }
      if (!next) return undefined;
      at = next;
      walked.push(part);
    }
    const target: DirTarget = 'entries' in at ? { kind: 'dir', cid: at.cid!, block: at.block!, path: walked } : { kind: 'file', cid: at.cid, index: at.index };
    return { target, via };
  }

  /** The nodes under `cid` in its folder's HAMT shard (sub-shards, depth-first in slot order; none
   *  for a flat folder): with `cid`'s own node, every block needed to list the folder — what the
   *  trustless gateway's dag-scope=entity carries for a directory — and none of its entries'. */
  subShards(cid: CID): { cid: CID; block: Uint8Array }[] {
    const at = this.#byCid.get(cid.toString());
    if (!at?.shard) return [];
    return [...shardNodes(at.shard)].slice(1).map((n) => ({ cid: n.cid, block: n.block }));
  }

  /** Every node of the folder but its top one: subfolders' nodes and shard nodes, each once (what
   *  the node indexes by CID, so a client that asks one before the top is still answered). */
  innerNodes(): { cid: CID; block: Uint8Array }[] {
    const out: { cid: CID; block: Uint8Array }[] = [];
    for (const [key, at] of this.#byCid) if (key !== this.root.toString()) out.push({ cid: at.shard?.cid ?? at.folder.cid!, block: at.shard?.block ?? at.folder.block! });
    return out;
  }

  /** A folder's entries in link order (by name; a shard's node: by slot, a sub-shard being a 'dir'
   *  whose node() and entries() are its own), for walking the whole DAG. */
  entries(cid: CID): ({ kind: 'dir'; cid: CID } | { kind: 'file'; cid: CID; index: number })[] {
    const at = this.#byCid.get(cid.toString());
    if (!at) return [];
    const kindOf = (e: Folder | DirFile) => ('entries' in e ? { kind: 'dir' as const, cid: e.cid! } : { kind: 'file' as const, cid: e.cid, index: e.index });
    if (at.shard) return [...at.shard.slots.values()].map((c) => ('slots' in c ? { kind: 'dir' as const, cid: c.cid } : kindOf(c.value)));
    return [...at.folder.entries].sort(([a], [b]) => compareNames(a, b)).map(([, e]) => kindOf(e));
  }

  #flush(folder: Folder, path: string[]): void {
    const links: dagPb.PBLink[] = [];
    const values: (Folder | DirFile)[] = [];
    let estimate = 0;
    for (const [name, e] of folder.entries) {
      values.push(e);
      if ('entries' in e) this.#flush(e, [...path, name]);
      const cid = 'entries' in e ? e.cid! : e.cid;
      const tsize = 'entries' in e ? e.tsize! : e.tsize;
      links.push({ Name: name, Tsize: tsize, Hash: cid });
      // Files only: see the top of the file.
      if (!('entries' in e)) estimate += utf8.encode(name).length + cid.bytes.length;
    }
    if (estimate > SHARD_THRESHOLD) {
      const shard = buildShard(links.map((l, i) => ({ name: l.Name!, cid: l.Hash, tsize: l.Tsize!, value: values[i]! })));
      folder.shard = shard;
      folder.block = shard.block;
      folder.cid = shard.cid;
      folder.tsize = shard.tsize;
      for (const n of shardNodes(shard)) this.#byCid.set(n.cid.toString(), { folder, path, shard: n });
      return;
    }
    const block = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: links }));
    folder.block = block;
    folder.cid = CID.createV1(DAG_PB, Digest.create(sha2.code, sha256(block)));
    folder.tsize = block.length + links.reduce((n, l) => n + (l.Tsize ?? 0), 0);
    this.#byCid.set(folder.cid.toString(), { folder, path });
  }
}

const utf8 = new TextEncoder();

/** dag-pb's link order: by the names' bytes. */
function compareNames(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
