// Content ids of the node's complete files, kept in the state (schema 10, file_cids), and the
// publishers whose DHT records this node caught lying (dht_blames: a member's own, schema 19),
// through the Store.
//
// The detail view, the DHT records and search read a torrent's content ids synchronously, so they
// come from a view in memory per loaded torrent (packages/node/README.md, "State"): read from the
// Store when the torrent loads (load()), changed only after the Store took a write (set()), and
// dropped when the torrent goes (forget()). A torrent not loaded has no view: of() is empty.
// Beside each SHA-256 id, the file's UnixFS CID (schema 25, issue 61: unixfsOf()) and its 1 MiB
// chunks' digests (read from the Store when a block of its DAG is asked, never kept in the view).
// A multi-file torrent's folder as a UnixFS directory has a row of its own at file_index -1 (DIR):
// its CID in cid and unixfs, its node's SHA-256 in sha256; dirOf() shows it, of() never does (it
// names no file: not in the DHT records, not a file's id). Its other nodes (subfolders', and a
// sharded folder's sub-shards) have rows below it (-2, -3, …: INNER), the same way, so the gateway
// finds a node a client asks before the folder's top one (after a restart, or once the folder left
// the gateway's few in memory): never shown, never a search hit (withCid skips them; folderWith()).
import { isContentId, isUnixfsCid, type Blame, type SearchRow } from '@cascade/content';
import { nodeIdentity, type StateDB, type Store } from '@cascade/node/content-host';

/** A row is written only for a torrent still in the library: ids computed for one removed while its
 *  files were hashed (the removal's delete already ran) would be left behind for good (bench/soak:
 *  'rows.file_cids: 203 rows for 202 torrents'). The last parameter: the infohash again. */
const IN_LIBRARY = 'WHERE EXISTS (SELECT 1 FROM torrents WHERE info_hash = ?)';

export interface FileCid {
  index: number;
  sha256: Uint8Array;
  cid: string;
  /** The UnixFS CID and the chunks' SHA-256 it is built from (32 bytes each); absent: not computed. */
  unixfs?: string | undefined;
  chunks?: Uint8Array | undefined;
}

const NONE: ReadonlyMap<number, string> = new Map();

/** A loaded torrent's ids by file index, in index order: its files' content ids and their UnixFS
 *  CIDs. Two arrays each instead of a Map (a Map of one entry is some 230 bytes: 10,000 loaded
 *  torrents held two), and one entry per torrent instead of one in each of two Maps. */
interface Loaded {
  readonly cids: ReadonlyMap<number, string>;
  readonly unixfs: ReadonlyMap<number, string>;
}

const NOTHING: Loaded = { cids: NONE, unixfs: NONE };

/** Ids by file index as two arrays (no index array when they are files 0 … n-1; a single file's
 *  id alone), read as a Map. */
class IdsByIndex implements ReadonlyMap<number, string> {
  readonly #indices: readonly number[] | undefined;
  readonly #list: readonly string[] | string;

  private constructor(indices: readonly number[] | undefined, ids: readonly string[]) {
    this.#indices = indices;
    this.#list = indices === undefined && ids.length === 1 ? ids[0]! : ids;
  }

  /** The entries in index order; `same`, when it holds exactly these, is returned instead (a
   *  one-chunk file's UnixFS CID is its content id), and otherwise lends its strings to equal ids. */
  static of(entries: Iterable<readonly [number, string]>, same?: ReadonlyMap<number, string>): ReadonlyMap<number, string> {
    const sorted = [...entries].sort((a, b) => a[0] - b[0]);
    if (sorted.length === 0) return NONE;
    if (same?.size === sorted.length && sorted.every(([i, id]) => same.get(i) === id)) return same;
    const dense = sorted.every(([i], k) => i === k);
    const ids = sorted.map(([i, id]) => (same?.get(i) === id ? same.get(i)! : id));
    return new IdsByIndex(dense ? undefined : sorted.map(([i]) => i), ids);
  }

  get #ids(): readonly string[] {
    return typeof this.#list === 'string' ? [this.#list] : this.#list;
  }

  get size(): number {
    return typeof this.#list === 'string' ? 1 : this.#list.length;
  }

  #at(index: number): number {
    const indices = this.#indices;
    if (indices === undefined) return Number.isInteger(index) && index >= 0 && index < this.size ? index : -1;
    // Sorted: a binary search, so reading every file's id of a torrent of many files (pad files
    // between them leave the indices sparse) is not quadratic, as indexOf made it.
    let lo = 0;
    let hi = indices.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = indices[mid]!;
      if (at === index) return mid;
      if (at < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  get(index: number): string | undefined {
    const at = this.#at(index);
    return at < 0 ? undefined : typeof this.#list === 'string' ? this.#list : this.#list[at];
  }

  has(index: number): boolean {
    return this.#at(index) >= 0;
  }

  *keys(): MapIterator<number> {
    for (let k = 0; k < this.size; k++) yield this.#indices?.[k] ?? k;
  }

  values(): MapIterator<string> {
    return this.#ids.values();
  }

  *entries(): MapIterator<[number, string]> {
    const ids = this.#ids;
    for (let k = 0; k < ids.length; k++) yield [this.#indices?.[k] ?? k, ids[k]!];
  }

  [Symbol.iterator](): MapIterator<[number, string]> {
    return this.entries();
  }

  forEach(fn: (value: string, key: number, map: ReadonlyMap<number, string>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}

/** What a torrent's rows (or a set()) leave in the view: nothing loaded shares one empty entry. */
function loaded(cids: Iterable<readonly [number, string]>, unixfs: Iterable<readonly [number, string]>): Loaded {
  const c = IdsByIndex.of(cids), u = IdsByIndex.of(unixfs, c);
  return c === NONE && u === NONE ? NOTHING : { cids: c, unixfs: u };
}

/** The file_index of a torrent's folder's row; those of its other nodes' rows are below it. */
export const DIR = -1;
const INNER = -2;

export class FileCids {
  readonly #store: Store;
  /** Whose blames these are ('' = a single node). */
  readonly #memberId: string;
  /** Loaded torrents' content ids and UnixFS CIDs by file index (files hashed before schema 25
   *  have no UnixFS CID yet). */
  readonly #view = new Map<string, Loaded>();
  /** Loaded torrents' folders' UnixFS CIDs (multi-file torrents whose files all have theirs). */
  readonly #dirs = new Map<string, string>();
  /** Loads under way, so a set() that lands meanwhile is not overwritten by an older read. */
  readonly #loading = new Map<string, Promise<void>>();

  constructor(db: { readonly store: Store; readonly memberId?: string }) {
    this.#store = db.store;
    this.#memberId = db.memberId ?? '';
  }

  /** Reads a torrent's content ids into the view (once: a second call waits for the first). */
  load(infoHash: string): Promise<void> {
    if (this.#view.has(infoHash)) return Promise.resolve();
    let loading = this.#loading.get(infoHash);
    if (!loading) {
      loading = this.#read(infoHash).finally(() => this.#loading.delete(infoHash));
      this.#loading.set(infoHash, loading);
    }
    return loading;
  }

  async #read(infoHash: string): Promise<void> {
    const rows = await this.#store.all<{ file_index: number; cid: string; unixfs: string | null }>('SELECT file_index, cid, unixfs FROM file_cids WHERE info_hash = ? ORDER BY file_index', [infoHash]);
    const dir = rows.find((r) => Number(r.file_index) === DIR);
    if (dir) this.#dirs.set(infoHash, dir.cid);
    const files = rows.filter((r) => Number(r.file_index) >= 0);
    const view = new Map(files.map((r) => [Number(r.file_index), r.cid]));
    const unixfs = new Map(files.flatMap((r) => (r.unixfs ? [[Number(r.file_index), r.unixfs] as const] : [])));
    // A set() that resolved during the read holds ids the read may not have seen: keep them.
    const before = this.#view.get(infoHash);
    for (const [i, c] of before?.cids ?? []) view.set(i, c);
    for (const [i, c] of before?.unixfs ?? []) unixfs.set(i, c);
    this.#view.set(infoHash, loaded(view, unixfs));
  }

  /** Every stored torrent's content ids into the view: for search with no node running. */
  async loadAll(): Promise<void> {
    const rows = await this.#store.values('SELECT info_hash, file_index, cid, unixfs FROM file_cids ORDER BY info_hash, file_index');
    const all = new Map<string, { cids: Map<number, string>; unixfs: Map<number, string> }>();
    for (const [ih, index, cid, unixfs] of rows as [string, number, string, string | null][]) {
      if (Number(index) === DIR) this.#dirs.set(ih, cid);
      if (Number(index) < 0) continue;
      let view = all.get(ih);
      if (!view) {
        const before = this.#view.get(ih);
        all.set(ih, (view = { cids: new Map(before?.cids), unixfs: new Map(before?.unixfs) }));
      }
      view.cids.set(Number(index), cid);
      if (unixfs) view.unixfs.set(Number(index), unixfs);
    }
    for (const [ih, view] of all) this.#view.set(ih, loaded(view.cids, view.unixfs));
  }

  /** The torrent left the node: its view goes (the Store's rows go with the library record). */
  forget(infoHash: string): void {
    this.#view.delete(infoHash);
    this.#dirs.delete(infoHash);
  }

  /** The content ids known for a loaded torrent's files, by file index (in index order). */
  of(infoHash: string): ReadonlyMap<number, string> {
    return this.#view.get(infoHash)?.cids ?? NONE;
  }

  /** The UnixFS CIDs known for a loaded torrent's files, by file index (in index order). */
  unixfsOf(infoHash: string): ReadonlyMap<number, string> {
    return this.#view.get(infoHash)?.unixfs ?? NONE;
  }

  /** A loaded torrent's folder's UnixFS CID, once its files all have theirs. */
  dirOf(infoHash: string): string | undefined {
    return this.#dirs.get(infoHash);
  }

  /** Stores a torrent's folder's UnixFS CID (`digest`: its node's SHA-256) and its other nodes'
   *  (one transaction, replacing those stored before), then shows it. */
  async setDir(infoHash: string, cid: string, digest: Uint8Array, inner: readonly { cid: string; digest: Uint8Array }[] = []): Promise<void> {
    const upsert = `INSERT INTO file_cids (info_hash, file_index, sha256, cid, unixfs, chunks) SELECT ?, ?, ?, ?, ?, NULL ${IN_LIBRARY}
       ON CONFLICT (info_hash, file_index) DO UPDATE SET sha256 = excluded.sha256, cid = excluded.cid, unixfs = excluded.unixfs`;
    const stored = await this.#store.transaction(async (tx) => {
      const { changes } = await tx.run(upsert, [infoHash, DIR, digest, cid, cid, infoHash]);
      await tx.run('DELETE FROM file_cids WHERE info_hash = ? AND file_index <= ?', [infoHash, INNER]);
      for (const [i, n] of inner.entries()) await tx.run(upsert, [infoHash, INNER - i, n.digest, n.cid, n.cid, infoHash]);
      return changes > 0;
    });
    if (stored) this.#dirs.set(infoHash, cid);
  }

  /** The torrents whose folder holds `cid` as a node other than its top one (a subfolder's, a
   *  sub-shard). */
  async folderWith(cid: string): Promise<string[]> {
    const rows = await this.#store.all<{ info_hash: string }>('SELECT info_hash FROM file_cids WHERE unixfs = ? AND file_index <= ?', [cid, INNER]);
    return [...new Set(rows.map((r) => r.info_hash))];
  }

  /** Stores content ids (one transaction), then shows them. */
  async set(infoHash: string, files: readonly FileCid[]): Promise<void> {
    if (files.length === 0) return;
    let stored = 0;
    await this.#store.transaction(async (tx) => {
      for (const f of files) {
        const { changes } = await tx.run(
          `INSERT INTO file_cids (info_hash, file_index, sha256, cid, unixfs, chunks) SELECT ?, ?, ?, ?, ?, ? ${IN_LIBRARY}
           ON CONFLICT (info_hash, file_index) DO UPDATE SET sha256 = excluded.sha256, cid = excluded.cid, unixfs = excluded.unixfs, chunks = excluded.chunks`,
          [infoHash, f.index, f.sha256, f.cid, f.unixfs ?? null, f.chunks ?? null, infoHash],
        );
        stored += changes;
      }
    });
    // Removed while its files were hashed: no row was written, and no view is kept for it.
    if (stored === 0) return;
    const before = this.#view.get(infoHash);
    const view = new Map(before?.cids);
    for (const f of files) view.set(f.index, f.cid);
    const unixfs = new Map(before?.unixfs);
    for (const f of files) {
      if (f.unixfs) unixfs.set(f.index, f.unixfs);
      else unixfs.delete(f.index);
    }
    this.#view.set(infoHash, loaded(view, unixfs));
  }

  /** The torrents (and file indices, DIR for a torrent's folder) holding a content id, SHA-256 or
   *  UnixFS: read from the Store, loaded or not. A folder's inner nodes are not among them. */
  async withCid(cid: string): Promise<{ infoHash: string; index: number }[]> {
    const rows = await this.#store.all<{ info_hash: string; file_index: number }>('SELECT info_hash, file_index FROM file_cids WHERE (cid = ? OR unixfs = ?) AND file_index >= ?', [cid, cid, DIR]);
    return rows.map((r) => ({ infoHash: r.info_hash, index: Number(r.file_index) }));
  }

  /** A file's length-ordered chunk digests (its UnixFS DAG's leaves), as stored. */
  async chunks(infoHash: string, index: number): Promise<Uint8Array | undefined> {
    const row = await this.#store.get<{ chunks: Uint8Array | null }>('SELECT chunks FROM file_cids WHERE info_hash = ? AND file_index = ?', [infoHash, index]);
    return row?.chunks ? new Uint8Array(row.chunks) : undefined;
  }

  async blames(): Promise<Blame[]> {
    const rows = await this.#store.all<{ publisher: string; reason: string; at: number }>('SELECT publisher, reason, at FROM dht_blames WHERE member_id = ?', [this.#memberId]);
    return rows.map((b) => ({ publisher: b.publisher, reason: b.reason, at: Number(b.at) }));
  }

  async addBlame(b: Blame): Promise<void> {
    await this.#store.run('INSERT INTO dht_blames (member_id, publisher, reason, at) VALUES (?, ?, ?, ?) ON CONFLICT (member_id, publisher) DO NOTHING', [this.#memberId, b.publisher, b.reason, b.at]);
  }
}

/** Search rows from the state alone (no node running): the library's torrents matching `text`
 *  by name or infohash prefix, or holding it as a content id, with the content ids known for their files. */
export async function offlineSearchRows(db: StateDB, text: string, cids = new FileCids(db)): Promise<SearchRow[]> {
  const did = nodeIdentity(db).did;
  await cids.loadAll();
  const q = text.trim();
  const records = isContentId(q) || isUnixfsCid(q)
    ? [...new Set((await cids.withCid(q)).map((h) => h.infoHash))].flatMap((ih) => db.getTorrent(ih) ?? [])
    : db.searchTorrents(q.toLowerCase());
  return records.map((r) => ({
    infoHash: r.infoHash,
    infoHashV2: null,
    name: r.name ?? '',
    length: r.length ?? 0,
    cids: [...cids.of(r.infoHash).values()],
    publisher: did,
    providers: [],
  }));
}

/** Every UnixFS CID of a torrent's files (and its folder's), once each file has one; undefined while
 *  any is missing: a record naming another can only be called a lie when all are known. */
export function unixfsRootsOf(cids: FileCids, infoHash: string): string[] | undefined {
  const content = cids.of(infoHash);
  const unixfs = cids.unixfsOf(infoHash);
  if (content.size === 0 || unixfs.size < content.size) return undefined;
  const dir = cids.dirOf(infoHash);
  return [...(dir ? [dir] : []), ...unixfs.values()];
}

/** What a DHT record carries of them: the folder's, then the files' roots that are not their content
 *  id (a file of one chunk is its raw leaf, already under `c`). */
export function publishedRoots(cids: FileCids, infoHash: string): string[] {
  const content = cids.of(infoHash);
  const dir = cids.dirOf(infoHash);
  const files = [...cids.unixfsOf(infoHash)].filter(([i, u]) => content.get(i) !== u).map(([, u]) => u);
  return [...(dir ? [dir] : []), ...files];
}
