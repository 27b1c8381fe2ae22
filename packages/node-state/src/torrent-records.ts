// The torrent records in memory (packages/node/README.md, "Next: the torrent records"): every row
// of the `torrents` table without its .torrent bytes (a row never shows them; they are read when a
// torrent loads or is exported; the view and the reads of others' writes: record-view.ts), read
// once, so the synchronous readers — the listing of 10,000 torrents, the model, the queue's plan —
// never wait on a database over a network.
//
// The Store is the truth; the view changes only after the Store took a write, and each change
// marks the infohash dirty, which is how the listing (SummaryCache) learns what to build again
// (PostgreSQL has no per-connection temporary triggers). Totals the accounting adds are quiet: they
// do not change what a row shows (stored + pending), so they mark nothing.
//
// Every write of the table is here, async, through the Store: the model's (options, save path,
// queue order, totals), the queue's (statuses, positions, force start) and the node's own (add,
// status, metadata, edits, file selection, private discovery, removal: torrent-writes.ts holds
// their SQL). A write resolves once stored, so a caller that answers after it (an add is
// acknowledged only once recorded, issue 42) awaits it; the events of a transfer (a torrent done,
// failed) hand their status to a batch instead (setStatus), so they never wait on it.

import type { Queryable, SqlValue, Store } from './store.ts';
import { toRecord, type NewTorrent, type Row, type TorrentRecord, type TorrentStatus } from './records.ts';
import { WriteBatch } from './write-batch.ts';
import { RecordView } from './record-view.ts';
import { byAdded, byQueueOrder, definedOf } from './record-order.ts';
import { OPTION_COLUMNS, REMOVED, REMOVED_WITH_DATA, REMOVE_OWN_HOLDER, RECORD_COLUMNS, UPDATE_META, UPDATE_RUNNING_STATUS, UPDATE_STATUS, UPDATE_HOLDER_STATUS, UPSERT_HOLDER, UPSERT_HOLDER_STATUS, UPSERT_TORRENT, editColumns, holderParams, holderStatusParams, optionValues, recordSelect, removeTorrentRows, upsertParams, type HolderAt, type OptionFields, type TorrentEdits, type TorrentMeta } from './torrent-writes.ts';

export { RECORD_COLUMNS, type OptionFields } from './torrent-writes.ts';

/** One torrent's traffic and seeding time since the accounting's last flush. */
export interface TotalsDelta {
  infoHash: string;
  downloaded: number;
  uploaded: number;
  seedingSeconds: number;
}

/** A status waiting in the batch (see setStatus). */
interface StatusChange {
  status: TorrentStatus;
  error: string | null;
  completedAt: number | undefined;
}

export class TorrentRecords extends RecordView {
  /** This member's lease epoch (a cluster's: the coordinator counts a holder row only at its
   *  member's current epoch); 0 for a single node. */
  epoch = 0;
  /** Statuses given and not yet written: the other writes of a status wait for the batch, so an
   *  older status never lands over a newer one. */
  readonly #statuses = new WriteBatch<string, StatusChange>((batch) => this.#writeStatuses(batch));


  constructor(store: Store, rows: Iterable<Row>, memberId = '') {
    super(store, rows, memberId);
  }

  /** Reads every record (one query) from the Store, with a member's status of each. */
  static async load(store: Store, memberId = ''): Promise<TorrentRecords> {
    return new TorrentRecords(store, await store.all(recordSelect(RECORD_COLUMNS), [memberId]), memberId);
  }

  #at(savePath?: string | null): HolderAt {
    return { memberId: this.memberId, epoch: this.epoch, savePath: savePath ?? null };
  }

  /** This member's running status on its own holder row: a single node's upserted (it holds all it
   *  has), a member's updated only (UPDATE_HOLDER_STATUS). */
  #holderStatus(tx: Queryable, ih: string, status: string, error: string | null | undefined, completedAt: number | null | undefined, now: number): Promise<unknown> {
    return this.memberId === '' ? tx.run(UPSERT_HOLDER_STATUS, holderParams(ih, this.#at(), status, error, completedAt, now)) : tx.run(UPDATE_HOLDER_STATUS, holderStatusParams(ih, this.#at(), status, error, completedAt, now));
  }

  /** A torrent placed here is taken: its copy goes to `savePath` (this member's own data directory).
   *  The record is read again (its save path is now this member's). */
  async take(infoHash: string, savePath: string): Promise<void> {
    const row = await this.store.transaction(async (tx) => {
      await tx.run('UPDATE torrent_holders SET save_path = ?, epoch = ?, updated_at = ? WHERE info_hash = ? AND member_id = ? AND save_path IS NULL', [savePath, this.epoch, Date.now(), infoHash, this.memberId]);
      return this.readRow(tx, infoHash);
    });
    this.put(infoHash, row);
  }

  /** A member back with a new epoch (joined, or rejoined after being fenced) holds again what it
   *  holds at that epoch: the coordinator counts its copies as live again. */
  async registerHeld(epoch: number): Promise<void> {
    await this.store.run(`UPDATE torrent_holders SET epoch = ? WHERE member_id = ? AND state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`, [epoch, this.memberId]);
    this.epoch = epoch;
  }

  /** How another member removed a torrent this member held (its tombstone here): 'data' when its
   *  copy goes too, 'keep' when not, undefined when there is no tombstone. */
  async removal(infoHash: string): Promise<'data' | 'keep' | undefined> {
    const row = await this.store.get<{ state: string }>('SELECT state FROM torrent_holders WHERE info_hash = ? AND member_id = ?', [infoHash, this.memberId]);
    return row?.state === REMOVED_WITH_DATA ? 'data' : row?.state === REMOVED ? 'keep' : undefined;
  }

  /** Where this member's removed copy of a torrent is (its tombstone's save path), if it has one. */
  async removedCopyPath(infoHash: string): Promise<string | undefined> {
    const row = await this.store.get<{ save_path: string | null }>(`SELECT save_path FROM torrent_holders WHERE info_hash = ? AND member_id = ? AND state IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`, [infoHash, this.memberId]);
    return row?.save_path ?? undefined;
  }

  // ---- reads the model and the queue make ----

  /** Tags torrents carry (created tags are the model's), unsorted, once each. */
  tagsCarried(): Set<string> {
    const tags = new Set<string>();
    for (const r of this.records.values()) for (const t of r.tags) tags.add(t);
    return tags;
  }

  /** Infohashes in stored queue order (lowest position first; none last; ties by when added). */
  queueOrder(): string[] {
    return [...this.records.values()].sort(byQueueOrder).map((r) => r.infoHash);
  }

  /** Every record in the order they were added (then by infohash): the library's own order. */
  list(): TorrentRecord[] {
    return [...this.records.values()].sort(byAdded);
  }

  /** Case-blind name substring, or infohash prefix (text all hex), in the library's order; every
   *  record for empty text. */
  search(text: string): TorrentRecord[] {
    const q = text.trim().toLowerCase();
    if (q === '') return this.list();
    const byHash = /^[0-9a-f]+$/.test(q);
    return this.list().filter((r) => (r.name ?? '').toLowerCase().includes(q) || (byHash && r.infoHash.startsWith(q)));
  }

  /** A torrent's .torrent bytes, read from the Store (the view holds none): null for a magnet whose
   *  metadata never came, undefined for an unknown torrent. */
  async torrentBytes(infoHash: string): Promise<Uint8Array | null | undefined> {
    const row = await this.store.get<{ torrent: Uint8Array | null }>('SELECT torrent FROM torrents WHERE info_hash = ?', [infoHash]);
    return row ? (row.torrent ?? null) : undefined;
  }

  /** A record with its .torrent bytes (loading or exporting a torrent): a copy of the view's. */
  async withBytes(infoHash: string): Promise<TorrentRecord | undefined> {
    const torrent = await this.torrentBytes(infoHash);
    const r = this.records.get(infoHash);
    return r && torrent !== undefined ? { ...r, torrent } : undefined;
  }

  // ---- writes: the Store first, then the view ----

  /** Options of several torrents in one transaction: all or none. Unknown infohashes are skipped. */
  async setOptions(changes: readonly (readonly [string, OptionFields])[]): Promise<void> {
    const given = changes.filter(([ih, o]) => this.records.has(ih) && Object.values(o).some((v) => v !== undefined));
    if (given.length === 0) return;
    await this.store.transaction(async (tx) => {
      for (const [ih, o] of given) {
        const keys = (Object.keys(o) as (keyof OptionFields)[]).filter((k) => o[k] !== undefined);
        await tx.run(`UPDATE torrents SET ${keys.map((k) => `${OPTION_COLUMNS[k]} = ?`).join(', ')} WHERE info_hash = ?`, [...optionValues(o, keys), ih]);
      }
    });
    for (const [ih, o] of given) this.change(ih, definedOf(o));
  }

  async setSavePath(infoHash: string, savePath: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      // A member's path is its own disk's: in the library's row another member without a holder
      // row of its own read it as its copy's (bench:crash --cluster: a move reported on m2's folder).
      if (this.memberId === '') await tx.run('UPDATE torrents SET save_path = ? WHERE info_hash = ?', [savePath, infoHash]);
      // This member's copy moved; another holder's copy stays where that member keeps it.
      await tx.run('UPDATE torrent_holders SET save_path = ? WHERE info_hash = ? AND member_id = ?', [savePath, infoHash, this.memberId]);
    });
    this.change(infoHash, { savePath });
  }

  /** Stores a new queue order: positions 1..n in the order given; torrents not named follow, in
   *  their stored order (read inside the transaction: what is stored wins). */
  async setQueueOrder(order: readonly string[]): Promise<void> {
    const positions = await this.store.transaction(async (tx) => {
      const stored = (await tx.values('SELECT info_hash FROM torrents ORDER BY queue_position IS NULL, queue_position, added_at, info_hash')).map((r) => r[0] as string);
      const known = new Set(stored);
      const named = new Set(order.filter((ih) => known.has(ih)));
      const all = [...named, ...stored.filter((ih) => !named.has(ih))];
      for (const [i, ih] of all.entries()) await tx.run('UPDATE torrents SET queue_position = ? WHERE info_hash = ?', [i + 1, ih]);
      return all;
    });
    positions.forEach((ih, i) => this.change(ih, { queuePosition: i + 1 }));
  }

  /** Adds traffic and seeding time to the stored totals, in one transaction; quiet (see the header). */
  async addTotals(batch: readonly TotalsDelta[]): Promise<void> {
    if (batch.length === 0) return;
    await this.store.transaction(async (tx) => {
      for (const d of batch) {
        await tx.run(
          `UPDATE torrents SET total_downloaded = total_downloaded + ?, total_uploaded = total_uploaded + ?,
                               seeding_time = seeding_time + ? WHERE info_hash = ?`,
          [d.downloaded, d.uploaded, Math.round(d.seedingSeconds), d.infoHash],
        );
      }
    });
    for (const d of batch) {
      const r = this.records.get(d.infoHash);
      if (!r) continue;
      this.records.set(d.infoHash, {
        ...r,
        totalDownloaded: r.totalDownloaded + d.downloaded,
        totalUploaded: r.totalUploaded + d.uploaded,
        seedingTime: r.seedingTime + Math.round(d.seedingSeconds),
      });
    }
  }

  // ---- the node's own writes: a torrent added, its metadata, status, edits, removal ----

  /** Stores a torrent (last in the queue), or updates the source, save path and status of a known
   *  one (keeping when it was added and its own options); the view takes the row as stored. The
   *  options given with the add (`options`: its category, tags) and what `within` writes (the
   *  category it makes, the peers given with it) go in the same transaction: an add is stored
   *  whole or not at all (issue 42: a database gone between two writes left a torrent without
   *  the category it was acknowledged with). */
  async add(t: NewTorrent, options: OptionFields = {}, within?: (tx: Queryable) => Promise<void>): Promise<void> {
    const row = await this.store.transaction(async (tx) => {
      const now = Date.now();
      await within?.(tx);
      // After `within`, which may settle an option (the category it could make).
      const keys = (Object.keys(options) as (keyof OptionFields)[]).filter((k) => options[k] !== undefined);
      await tx.run(UPSERT_TORRENT, upsertParams(t, now));
      if (keys.length > 0) await tx.run(`UPDATE torrents SET ${keys.map((k) => `${OPTION_COLUMNS[k]} = ?`).join(', ')} WHERE info_hash = ?`, [...optionValues(options, keys), t.infoHash]);
      // An add through this member is its copy again: a tombstone of its own (the torrent removed
      // through another member, not yet acted on here) would keep the upsert below from writing.
      await tx.run(`DELETE FROM torrent_holders WHERE info_hash = ? AND member_id = ? AND state IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`, [t.infoHash, this.memberId]);
      // As UPSERT_TORRENT does: the status given, the error cleared, the completion time kept.
      await tx.run(UPSERT_HOLDER, holderParams(t.infoHash, this.#at(t.savePath), t.status, null, null, now));
      return this.readRow(tx, t.infoHash);
    });
    this.put(t.infoHash, row);
  }

  /** What becomes known once metadata arrives; with `torrent` (.torrent bytes made of it) a magnet
   *  becomes a torrent record, so it loads with its metadata next time. */
  async updateMeta(infoHash: string, meta: TorrentMeta): Promise<void> {
    const row = await this.store.transaction(async (tx) => {
      const t = meta.torrent ?? null;
      await tx.run(UPDATE_META, [meta.name ?? null, meta.length ?? null, meta.pieceCount ?? null, t, t === null ? 0 : 1, infoHash]);
      return this.readRow(tx, infoHash);
    });
    if (row) this.put(infoHash, row);
  }

  /**
   * A torrent's status (and its error; a completion time kept unless given). Statuses given while
   * a batch is being written go into the next one, so a burst (every seed says 'done' at a
   * restart) is a few transactions, not one each; resolves once this one is stored.
   */
  setStatus(infoHash: string, status: TorrentStatus, extra: { error?: string; completedAt?: number } = {}): Promise<void> {
    const completedAt = extra.completedAt ?? this.#statuses.pending.get(infoHash)?.completedAt;
    this.#statuses.pending.set(infoHash, { status, error: extra.error ?? null, completedAt });
    return this.#statuses.schedule();
  }

  /** Resolves once the statuses given so far are written (or failed: their callers were told). */
  async settled(): Promise<void> {
    await this.#statuses.settled();
  }

  /** When a torrent last finished downloading (ms), null if never, undefined if unknown; a time
   *  waiting in the status batch counts. */
  completedAt(infoHash: string): number | null | undefined {
    return this.#statuses.pending.get(infoHash)?.completedAt ?? this.records.get(infoHash)?.completedAt;
  }

  async #writeStatuses(batch: ReadonlyMap<string, StatusChange>): Promise<void> {
    const written: string[] = [];
    await this.store.transaction(async (tx) => {
      const now = Date.now();
      for (const [ih, c] of batch) {
        // A cluster's library status is its holders' to write. A copy running here with no holder
        // row (a surplus copy the coordinator trimmed, still stopping) that said 'seeding' after the
        // user's pause left the library's status disagreeing with every holder's (bench:crash
        // --cluster, 30 Nov: a resume judged by it did nothing).
        if (this.memberId !== '' && !this.heldHere(ih)) continue;
        // A torrent removed meanwhile gets no holder row back.
        if ((await tx.run(UPDATE_STATUS, [c.status, c.error, c.completedAt ?? null, ih])).changes === 0) continue;
        await this.#holderStatus(tx, ih, c.status, c.error, c.completedAt, now);
        written.push(ih);
      }
    });
    for (const ih of written) {
      const c = batch.get(ih)!;
      const status = this.records.get(ih)?.status === 'paused' ? 'paused' : c.status; // as UPDATE_STATUS
      this.change(ih, { status, error: c.error, ...(c.completedAt !== undefined ? { completedAt: c.completedAt } : {}) });
    }
  }

  /** What remotes edit (issue 45): the name shown (null = its own), tracker tiers (null = as added),
   *  renamed files (null = none), the order its pieces come in (null = normal); one statement. */
  async setEdits(infoHash: string, edits: TorrentEdits): Promise<void> {
    const cols = editColumns(edits);
    if (cols.length === 0) return;
    await this.store.run(`UPDATE torrents SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE info_hash = ?`, [...cols.map(([, v]) => v), infoHash]);
    // As a fresh read gives them back: the JSON's copy (file indexes as the keys JSON has).
    const fields: Partial<TorrentRecord> = {};
    for (const [k, v] of Object.entries(edits)) if (v !== undefined) (fields as Record<string, unknown>)[k] = v === null ? null : JSON.parse(JSON.stringify(v));
    this.change(infoHash, fields);
  }

  /** File selection (indices to download); null = all. */
  async setSelectedFiles(infoHash: string, files: readonly number[] | null): Promise<void> {
    await this.store.run('UPDATE torrents SET selected_files = ? WHERE info_hash = ?', [files ? JSON.stringify(files) : null, infoHash]);
    this.change(infoHash, { selectedFiles: files ? [...files] : null });
  }

  /** Private discovery on or off (issue 14). */
  async setPrivateDiscovery(infoHash: string, on: boolean): Promise<void> {
    await this.store.run('UPDATE torrents SET private_discovery = ? WHERE info_hash = ?', [on ? 1 : 0, infoHash]);
    this.change(infoHash, { privateDiscovery: on });
  }

  /** This member's copies go and the torrents stay in the library (a cluster's surplus copy,
   *  @cascade/cluster's placement): its holder rows and resume records, in one transaction. */
  async dropOwn(infoHashes: readonly string[]): Promise<void> {
    for (const ih of infoHashes) this.held.delete(ih); // as dropTombstone: a status given meanwhile writes nothing
    await this.#statuses.settled(); // a status on its way must not bring the holder row back
    await this.store.transaction(async (tx) => {
      for (const ih of infoHashes) for (const sql of [REMOVE_OWN_HOLDER, 'DELETE FROM resume WHERE info_hash = ? AND member_id = ?']) await tx.run(sql, [ih, this.memberId]);
    });
    for (const ih of infoHashes) {
      this.#statuses.pending.delete(ih);
      this.removed.delete(ih);
      this.wrote(ih);
    }
  }

  /** This member's tombstone of a torrent and its resume record go, in one transaction, if its
   *  holder row is still a tombstone (an add through this member since made it a copy again). */
  async dropTombstone(infoHash: string): Promise<boolean> {
    // As dropOwn: a status on its way (the queue's, for a torrent the library keeps) landing after
    // the delete made a new holder row of it ("seeding", progress 1, with nothing on disk: the
    // coordinator then counted a complete copy there; bench:crash --cluster, 30 Nov).
    // Not held here from now on, so a status given while the delete runs writes no row either.
    const wasHeld = this.held.delete(infoHash);
    await this.#statuses.settled();
    const gone = await this.store.transaction(async (tx) => {
      const gone = await tx.run(`${REMOVE_OWN_HOLDER} AND state IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`, [infoHash, this.memberId]);
      if (gone.changes > 0) await tx.run('DELETE FROM resume WHERE info_hash = ? AND member_id = ?', [infoHash, this.memberId]);
      return gone.changes > 0;
    });
    if (gone) {
      this.#statuses.pending.delete(infoHash);
      this.removed.delete(infoHash);
      this.wrote(infoHash);
    } else if (wasHeld) this.held.add(infoHash); // a copy again (an add through this member)
    return gone;
  }

  /** Forgets torrents, their resume records, stored peers, share keys and content ids, in one
   *  transaction; returns how many were known. Other members' holder rows become tombstones that
   *  say whether they delete their copies too (deleteData). */
  async remove(infoHashes: readonly string[], deleteData = false, infos?: ReadonlyMap<string, Uint8Array>, plaintexts?: ReadonlyMap<string, string>): Promise<number> {
    if (infoHashes.length === 0) return 0;
    await this.#statuses.settled(); // a status still on its way must not bring a row back, nor land after
    const known = await this.store.transaction(async (tx) => {
      let known = 0;
      for (const ih of infoHashes) {
        known += await removeTorrentRows(tx, ih, this.memberId, deleteData, infos?.get(ih), plaintexts?.get(ih));
      }
      return known;
    });
    for (const ih of infoHashes) {
      this.#statuses.pending.delete(ih);
      this.put(ih, undefined);
    }
    return known;
  }

  /** The queue's statuses (errors stay as stored). everyHolder: the user's pause or resume, which
   *  every member holding the torrent applies to its own engine when it hears (issue 42); else this
   *  member's own running status. */
  setStatuses(changes: ReadonlyMap<string, TorrentStatus>, everyHolder = false): Promise<void> {
    const now = Date.now();
    if (everyHolder) {
      return this.#each('UPDATE torrents SET status = ? WHERE info_hash = ?', changes, (status) => ({ status }), async (tx, ih, status) => {
        await tx.run(`UPDATE torrent_holders SET state = ?, updated_at = ? WHERE info_hash = ? AND state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`, [status, now, ih]);
        if (this.memberId === '' && this.heldHere(ih)) await tx.run(UPSERT_HOLDER, holderParams(ih, this.#at(), status, undefined, null, now));
      });
    }
    // The queue's running statuses: not over the user's pause (see UPDATE_STATUS), here or in the
    // database (a pause through another member that landed after this plan read its rows).
    const running = new Map([...changes].filter(([ih, status]) => status === 'paused' || this.records.get(ih)?.status !== 'paused'));
    return this.#each(UPDATE_RUNNING_STATUS, running, (status) => ({ status }), async (tx, ih, status) => {
      if (this.heldHere(ih)) await this.#holderStatus(tx, ih, status, undefined, null, now);
    });
  }

  /**
   * The user's resume, for every member holding the torrents: the library's status and each
   * holder's state that a pause or an error stopped become 'queued'; a copy running stays as it is.
   * Judged in the database, not by this member's view: a member holding no copy sees the library's
   * status, which the last holder to write one set, and a resume through it that found that status
   * 'seeding' while both holders were paused left them paused for good (bench:crash --cluster).
   */
  async resume(infoHashes: readonly string[]): Promise<void> {
    if (infoHashes.length === 0) return;
    await this.#statuses.settled(); // a status on its way lands first, as the queue's do
    const now = Date.now();
    const read = await this.store.transaction(async (tx) => {
      const read: [string, Row | undefined][] = [];
      for (const ih of infoHashes) {
        // Always a change of the library's row, named by its infohash (the statement ends in
        // `WHERE info_hash = ?`): every other member reads it again, and with it its holder row.
        if ((await tx.run("UPDATE torrents SET status = CASE WHEN status IN ('paused', 'error') THEN 'queued' ELSE status END WHERE info_hash = ?", [ih])).changes === 0) continue;
        await tx.run(`UPDATE torrent_holders SET state = 'queued', updated_at = ? WHERE state IN ('paused', 'error') AND info_hash = ?`, [now, ih]);
        read.push([ih, await this.readRow(tx, ih)]);
      }
      return read;
    });
    for (const [ih, row] of read) if (row) this.change(ih, { status: toRecord(row).status });
  }

  setPositions(changes: ReadonlyMap<string, number>): Promise<void> {
    return this.#each('UPDATE torrents SET queue_position = ? WHERE info_hash = ?', changes, (queuePosition) => ({ queuePosition }));
  }

  setForceStart(infoHashes: readonly string[], on: boolean): Promise<void> {
    return this.#each('UPDATE torrents SET force_start = ? WHERE info_hash = ?', new Map(infoHashes.map((ih) => [ih, on])), (forceStart) => ({ forceStart }));
  }

  /** The category was removed (its transaction cleared it from the stored torrents). */
  uncategorise(name: string): void {
    for (const r of this.records.values()) if (r.category === name) this.change(r.infoHash, { category: null });
  }

  /** One statement per torrent (and `also` for each torrent it changed), all in one transaction;
   *  then the view. */
  async #each<V>(sql: string, changes: ReadonlyMap<string, V>, fields: (v: V) => Partial<TorrentRecord>, also?: (tx: Queryable, infoHash: string, v: V) => Promise<unknown>): Promise<void> {
    if (changes.size === 0) return;
    // The queue's statuses land after the events' ones given before them.
    await this.#statuses.settled();
    const param = (v: V): SqlValue => (typeof v === 'boolean' ? (v ? 1 : 0) : (v as SqlValue));
    await this.store.transaction(async (tx: Queryable) => {
      for (const [ih, v] of changes) if ((await tx.run(sql, [param(v), ih])).changes > 0) await also?.(tx, ih, v);
    });
    for (const [ih, v] of changes) this.change(ih, fields(v));
  }
}
