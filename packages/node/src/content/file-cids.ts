// Content ids of the node's complete files, kept in the state DB (schema 10, file_cids), and the
// publishers whose DHT records this node caught lying (dht_blames).
import type { StateDB } from '../state/state-db.ts';
import { isContentId, type Blame, type SearchRow } from '@cascade/content';
import { nodeIdentity } from '../core/node-identity.ts';

export interface FileCid {
  index: number;
  sha256: Uint8Array;
  cid: string;
}

export class FileCids {
  readonly #db: StateDB;

  constructor(db: StateDB) {
    this.#db = db;
  }

  /** The content ids known for a torrent's files, by file index. */
  of(infoHash: string): Map<number, string> {
    const rows = this.#db.prepare('SELECT file_index, cid FROM file_cids WHERE info_hash = ? ORDER BY file_index').all(infoHash) as { file_index: number; cid: string }[];
    return new Map(rows.map((r) => [r.file_index, r.cid]));
  }

  set(infoHash: string, files: FileCid[]): void {
    const put = this.#db.prepare('INSERT OR REPLACE INTO file_cids (info_hash, file_index, sha256, cid) VALUES (?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const f of files) put.run(infoHash, f.index, f.sha256, f.cid);
    });
  }

  /** The torrents (and file indices) holding a content id. */
  withCid(cid: string): { infoHash: string; index: number }[] {
    const rows = this.#db.prepare('SELECT info_hash, file_index FROM file_cids WHERE cid = ?').all(cid) as { info_hash: string; file_index: number }[];
    return rows.map((r) => ({ infoHash: r.info_hash, index: r.file_index }));
  }

  blames(): Blame[] {
    return (this.#db.prepare('SELECT publisher, reason, at FROM dht_blames').all() as unknown as Blame[]).map((b) => ({ ...b }));
  }

  addBlame(b: Blame): void {
    this.#db.prepare('INSERT OR IGNORE INTO dht_blames (publisher, reason, at) VALUES (?, ?, ?)').run(b.publisher, b.reason, b.at);
  }
}

/** Search rows from the state DB alone (no node running): the library's torrents matching `text`
 *  by name or infohash prefix, or holding it as a content id, with the content ids known for their files. */
export function offlineSearchRows(db: StateDB, text: string): SearchRow[] {
  const did = nodeIdentity(db).did;
  const cids = new FileCids(db);
  const q = text.trim();
  const records = isContentId(q)
    ? [...new Set(cids.withCid(q).map((h) => h.infoHash))].flatMap((ih) => db.getTorrent(ih) ?? [])
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
