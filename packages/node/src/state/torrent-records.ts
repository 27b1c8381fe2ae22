// The torrent records in memory (packages/node/README.md, "Next: the torrent records"): every row
// of the `torrents` table without its .torrent bytes (a row never shows them; they are read when a
// torrent loads or is exported), read once, so the synchronous readers — the listing of 10,000
// torrents, the model, the queue's plan — never wait on a database over a network.
//
// The Store is the truth; the view changes only after the Store took a write, and each change
// marks the infohash dirty, which is how the listing (SummaryCache) learns what to build again
// (PostgreSQL has no per-connection temporary triggers). Totals the accounting adds are quiet: they
// do not change what a row shows (stored + pending), so they mark nothing.
//
// The writes of the model (options, save path, queue order, totals) and of the queue (statuses,
// positions, force start) are here, async, through the Store. StateDB's own synchronous writes
// (add, status, metadata, edits, file selection, removal: still SQLite's, the next step) tell the
// view through apply() (the fields they set) or put() (the row read again).

import type { Queryable, SqlValue, Store } from './store.ts';
import { toRecord, type Row, type TorrentRecord, type TorrentStatus } from './records.ts';

/** Every column but `torrent`. */
export const RECORD_COLUMNS = [
  'info_hash', 'name', 'source_kind', 'magnet', 'save_path', 'status', 'error', 'selected_files', 'length', 'piece_count',
  'added_at', 'completed_at', 'category', 'tags', 'queue_position', 'force_start', 'download_limit', 'upload_limit',
  'ratio_limit', 'seeding_time_limit', 'seeding_time', 'total_downloaded', 'total_uploaded', 'private_discovery',
  'mirrors', 'display_name', 'tracker_tiers', 'renamed_files', 'piece_order',
].join(', ');

/** What the model writes of a torrent's options: columns by record field. */
const OPTION_COLUMNS = {
  downloadLimit: 'download_limit',
  uploadLimit: 'upload_limit',
  category: 'category',
  tags: 'tags',
  ratioLimit: 'ratio_limit',
  seedingTimeLimit: 'seeding_time_limit',
  forceStart: 'force_start',
} as const;

export type OptionFields = Partial<Pick<TorrentRecord, keyof typeof OPTION_COLUMNS>>;

/** One torrent's traffic and seeding time since the accounting's last flush. */
export interface TotalsDelta {
  infoHash: string;
  downloaded: number;
  uploaded: number;
  seedingSeconds: number;
}

export class TorrentRecords {
  readonly #store: Store;
  readonly #records = new Map<string, TorrentRecord>();
  #dirty = new Set<string>();

  constructor(store: Store, rows: Iterable<Row>) {
    this.#store = store;
    for (const row of rows) {
      const rec = toRecord(row);
      this.#records.set(rec.infoHash, rec);
    }
  }

  /** Reads every record (one query) from the Store. */
  static async load(store: Store): Promise<TorrentRecords> {
    return new TorrentRecords(store, await store.all(`SELECT ${RECORD_COLUMNS} FROM torrents`));
  }

  get(infoHash: string): TorrentRecord | undefined {
    return this.#records.get(infoHash);
  }

  has(infoHash: string): boolean {
    return this.#records.has(infoHash);
  }

  get size(): number {
    return this.#records.size;
  }

  /** Every record, in the order they came (loaded, then added). */
  values(): IterableIterator<TorrentRecord> {
    return this.#records.values();
  }

  /** Infohashes written (or touched) since the last call. */
  takeDirty(): Set<string> {
    const dirty = this.#dirty;
    this.#dirty = new Set();
    return dirty;
  }

  /** Marks a record changed without a write (something a row shows changed outside the record). */
  touch(infoHash: string): void {
    this.#dirty.add(infoHash);
  }

  /** Fields a write made elsewhere changed (a torrent's status at each restart: no row re-read). */
  apply(infoHash: string, fields: Partial<TorrentRecord>): void {
    this.#change(infoHash, fields);
  }

  /** A record as the Store holds it after a write made elsewhere (undefined: removed). */
  put(infoHash: string, row: Row | undefined): void {
    if (row) this.#records.set(infoHash, toRecord(row));
    else this.#records.delete(infoHash);
    this.#dirty.add(infoHash);
  }

  // ---- reads the model and the queue make ----

  /** Tags torrents carry (created tags are the model's), unsorted, once each. */
  tagsCarried(): Set<string> {
    const tags = new Set<string>();
    for (const r of this.#records.values()) for (const t of r.tags) tags.add(t);
    return tags;
  }

  /** Infohashes in stored queue order (lowest position first; none last; ties by when added). */
  queueOrder(): string[] {
    return [...this.#records.values()].sort(byQueueOrder).map((r) => r.infoHash);
  }

  // ---- writes: the Store first, then the view ----

  /** Options of several torrents in one transaction: all or none. Unknown infohashes are skipped. */
  async setOptions(changes: readonly (readonly [string, OptionFields])[]): Promise<void> {
    const given = changes.filter(([ih, o]) => this.#records.has(ih) && Object.values(o).some((v) => v !== undefined));
    if (given.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const [ih, o] of given) {
        const keys = (Object.keys(o) as (keyof OptionFields)[]).filter((k) => o[k] !== undefined);
        const values = keys.map((k): SqlValue => {
          const v = o[k];
          if (k === 'tags') return JSON.stringify(v);
          if (k === 'forceStart') return v ? 1 : 0;
          return v as number | string | null;
        });
        await tx.run(`UPDATE torrents SET ${keys.map((k) => `${OPTION_COLUMNS[k]} = ?`).join(', ')} WHERE info_hash = ?`, [...values, ih]);
      }
    });
    for (const [ih, o] of given) this.#change(ih, definedOf(o));
  }

  async setSavePath(infoHash: string, savePath: string): Promise<void> {
    await this.#store.run('UPDATE torrents SET save_path = ? WHERE info_hash = ?', [savePath, infoHash]);
    this.#change(infoHash, { savePath });
  }

  /** Stores a new queue order: positions 1..n in the order given; torrents not named follow, in
   *  their stored order (read inside the transaction: what is stored wins). */
  async setQueueOrder(order: readonly string[]): Promise<void> {
    const positions = await this.#store.transaction(async (tx) => {
      const stored = (await tx.values('SELECT info_hash FROM torrents ORDER BY queue_position IS NULL, queue_position, added_at, info_hash')).map((r) => r[0] as string);
      const known = new Set(stored);
      const named = new Set(order.filter((ih) => known.has(ih)));
      const all = [...named, ...stored.filter((ih) => !named.has(ih))];
      for (const [i, ih] of all.entries()) await tx.run('UPDATE torrents SET queue_position = ? WHERE info_hash = ?', [i + 1, ih]);
      return all;
    });
    positions.forEach((ih, i) => this.#change(ih, { queuePosition: i + 1 }));
  }

  /** Adds traffic and seeding time to the stored totals, in one transaction; quiet (see the header). */
  async addTotals(batch: readonly TotalsDelta[]): Promise<void> {
    if (batch.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const d of batch) {
        await tx.run(
          `UPDATE torrents SET total_downloaded = total_downloaded + ?, total_uploaded = total_uploaded + ?,
                               seeding_time = seeding_time + ? WHERE info_hash = ?`,
          [d.downloaded, d.uploaded, Math.round(d.seedingSeconds), d.infoHash],
        );
      }
    });
    for (const d of batch) {
      const r = this.#records.get(d.infoHash);
      if (!r) continue;
      this.#records.set(d.infoHash, {
        ...r,
        totalDownloaded: r.totalDownloaded + d.downloaded,
        totalUploaded: r.totalUploaded + d.uploaded,
        seedingTime: r.seedingTime + Math.round(d.seedingSeconds),
      });
    }
  }

  setStatuses(changes: ReadonlyMap<string, TorrentStatus>): Promise<void> {
    return this.#each('UPDATE torrents SET status = ? WHERE info_hash = ?', changes, (status) => ({ status }));
  }

  setPositions(changes: ReadonlyMap<string, number>): Promise<void> {
    return this.#each('UPDATE torrents SET queue_position = ? WHERE info_hash = ?', changes, (queuePosition) => ({ queuePosition }));
  }

  setForceStart(infoHashes: readonly string[], on: boolean): Promise<void> {
    return this.#each('UPDATE torrents SET force_start = ? WHERE info_hash = ?', new Map(infoHashes.map((ih) => [ih, on])), (forceStart) => ({ forceStart }));
  }

  /** The category was removed (its transaction cleared it from the stored torrents). */
  uncategorise(name: string): void {
    for (const r of this.#records.values()) if (r.category === name) this.#change(r.infoHash, { category: null });
  }

  /** One statement per torrent, all in one transaction; then the view. */
  async #each<V>(sql: string, changes: ReadonlyMap<string, V>, fields: (v: V) => Partial<TorrentRecord>): Promise<void> {
    if (changes.size === 0) return;
    const param = (v: V): SqlValue => (typeof v === 'boolean' ? (v ? 1 : 0) : (v as SqlValue));
    await this.#store.transaction(async (tx: Queryable) => {
      for (const [ih, v] of changes) await tx.run(sql, [param(v), ih]);
    });
    for (const [ih, v] of changes) this.#change(ih, fields(v));
  }

  /** A new object (readers holding the old one keep what they read), marked dirty. */
  #change(infoHash: string, fields: Partial<TorrentRecord>): void {
    const r = this.#records.get(infoHash);
    if (!r) return;
    this.#records.set(infoHash, { ...r, ...fields });
    this.#dirty.add(infoHash);
  }
}

function definedOf(o: OptionFields): Partial<TorrentRecord> {
  const out: Partial<TorrentRecord> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function byQueueOrder(a: TorrentRecord, b: TorrentRecord): number {
  if ((a.queuePosition === null) !== (b.queuePosition === null)) return a.queuePosition === null ? 1 : -1;
  if (a.queuePosition !== b.queuePosition) return a.queuePosition! - b.queuePosition!;
  if (a.addedAt !== b.addedAt) return a.addedAt - b.addedAt;
  return a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0;
}
