// The torrent records as this node (a cluster's member) reads them: every row of the `torrents`
// table as a map in memory, which torrents this member holds a copy of, what changed since the
// listing last asked (dirty), and the reads again of rows another member wrote (reload, reloadAll),
// which never put an older row over a write made here meanwhile. TorrentRecords (torrent-records.ts)
// adds the writes.

import type { Queryable, Store } from './store.ts';
import { toRecord, type Row, type TorrentRecord } from './records.ts';
import { RECORD_COLUMNS, recordSelect } from './torrent-writes.ts';

export class RecordView {
  protected readonly store: Store;
  /** Whose running status this view reads and writes (torrent_holders): '' for a single node. */
  protected readonly memberId: string;
  protected readonly records = new Map<string, TorrentRecord>();
  /** Records this member has a holder row of (torrent_holders): in a cluster, the others are
   *  another member's to run (issue 42); a single node ('') holds every one. */
  protected readonly held = new Set<string>();
  /** Held here by the coordinator's placement, where this member's copy goes not chosen yet. */
  readonly #untaken = new Set<string>();
  /** Whose holder row here is a tombstone: the copy goes (dropTombstone), it is not loaded again. */
  protected readonly removed = new Set<string>();
  #dirty = new Set<string>();
  /** While reads of other members' writes are under way (reload, reloadAll): when each record was
   *  last put or changed here meanwhile. Such a read that began before a write here must not put
   *  its older row over that write's (bench:crash --cluster: a change notice's read, begun just
   *  before a removal through this member, listed the removed torrent here again for good). */
  readonly #writtenDuringReads = new Map<string, number>();
  #reads = 0;
  #writeSeq = 0;

  constructor(store: Store, rows: Iterable<Row>, memberId: string) {
    this.store = store;
    this.memberId = memberId;
    for (const row of rows) {
      const rec = toRecord(row);
      this.records.set(rec.infoHash, rec);
      if (row.held_here === 1) this.held.add(rec.infoHash);
      if (row.untaken === 1) this.#untaken.add(rec.infoHash);
      if (row.removed_here === 1) this.removed.add(rec.infoHash);
    }
  }

  /** One record as this member reads it, inside a write's transaction. */
  protected readRow(tx: Queryable, infoHash: string): Promise<Row | undefined> {
    return tx.get(recordSelect(RECORD_COLUMNS, 't.info_hash = ?'), [this.memberId, infoHash]);
  }

  get(infoHash: string): TorrentRecord | undefined {
    return this.records.get(infoHash);
  }

  has(infoHash: string): boolean {
    return this.records.has(infoHash);
  }

  get size(): number {
    return this.records.size;
  }

  /** Every record, in the order they came (loaded, then added). */
  values(): IterableIterator<TorrentRecord> {
    return this.records.values();
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

  /** A record as the Store holds it after a write made elsewhere (undefined: removed; a cluster's
   *  other member, issue 42). */
  put(infoHash: string, row: Row | undefined): void {
    if (row) this.records.set(infoHash, toRecord(row));
    else this.records.delete(infoHash);
    if (row?.held_here === 1) this.held.add(infoHash);
    else this.held.delete(infoHash);
    if (row?.untaken === 1) this.#untaken.add(infoHash);
    else this.#untaken.delete(infoHash);
    if (row?.removed_here === 1) this.removed.add(infoHash);
    else this.removed.delete(infoHash);
    this.wrote(infoHash);
  }

  protected wrote(infoHash: string): void {
    this.#dirty.add(infoHash);
    if (this.#reads > 0) this.#writtenDuringReads.set(infoHash, ++this.#writeSeq);
  }

  /** Whether the record was put or changed here after `at` (a #writeSeq read inside #readingOthers). */
  #writtenSince(infoHash: string, at: number): boolean {
    return (this.#writtenDuringReads.get(infoHash) ?? 0) > at;
  }

  async #readingOthers<T>(fn: () => Promise<T>): Promise<T> {
    this.#reads++;
    try {
      return await fn();
    } finally {
      if (--this.#reads === 0) this.#writtenDuringReads.clear();
    }
  }

  /** Whether this member runs the torrent: a single node runs every record; a cluster's member
   *  only those it has a holder row of (a torrent added through another member is listed here and
   *  run there until placement, issue 42 step 5, gives it more holders). */
  heldHere(infoHash: string): boolean {
    return this.memberId === '' ? this.records.has(infoHash) : this.held.has(infoHash);
  }

  /** Whether the coordinator placed this torrent here and this member has not taken it yet (chosen
   *  where its copy goes: take()). */
  untaken(infoHash: string): boolean {
    return this.#untaken.has(infoHash);
  }

  /** Whether this member's holder row of the torrent is a tombstone (the coordinator trimmed the
   *  copy, or another member removed the torrent): the copy is deleted, never loaded again. */
  removedHere(infoHash: string): boolean {
    return this.removed.has(infoHash);
  }

  /**
   * Another member wrote these records (a cluster's change notice, issue 42): each is read again
   * from the Store and marked dirty only if it changed. Returns the infohashes that changed.
   */
  async reload(infoHashes: Iterable<string>): Promise<string[]> {
    return this.#readingOthers(async () => {
      const changed: string[] = [];
      for (const ih of new Set(infoHashes)) {
        // Written here while it was read: read again (three reads at most, each begun after the
        // write that spoiled the one before; a write here each time is all but impossible).
        for (let tries = 0; tries < 3; tries++) {
          const at = this.#writeSeq;
          const row = await this.readRow(this.store, ih);
          if (this.#writtenSince(ih, at)) continue;
          if (this.#differs(ih, row)) {
            this.put(ih, row);
            changed.push(ih);
          }
          break;
        }
      }
      return changed;
    });
  }

  /** Every record read again (a cluster member back from a Redis outage, or polling during one):
   *  those that changed, came or went are put and returned. One query, as at open. */
  async reloadAll(): Promise<string[]> {
    return this.#readingOthers(async () => {
      const at = this.#writeSeq;
      const rows = await this.store.all(recordSelect(RECORD_COLUMNS), [this.memberId]);
      const seen = new Set<string>();
      const changed: string[] = [];
      // Written here during the query: each read again on its own.
      const again: string[] = [];
      for (const row of rows) {
        const ih = row.info_hash as string;
        seen.add(ih);
        if (this.#writtenSince(ih, at)) again.push(ih);
        else if (this.#differs(ih, row)) {
          this.put(ih, row);
          changed.push(ih);
        }
      }
      for (const ih of [...this.records.keys()]) {
        if (seen.has(ih)) continue;
        if (this.#writtenSince(ih, at)) again.push(ih);
        else {
          this.put(ih, undefined);
          changed.push(ih);
        }
      }
      return again.length > 0 ? [...changed, ...(await this.reload(again))] : changed;
    });
  }

  #differs(infoHash: string, row: Row | undefined): boolean {
    const had = this.records.get(infoHash);
    if (!row || !had) return !row !== !had;
    return (row.held_here === 1) !== this.held.has(infoHash) || (row.untaken === 1) !== this.#untaken.has(infoHash) || (row.removed_here === 1) !== this.removed.has(infoHash) || JSON.stringify(toRecord(row)) !== JSON.stringify(had);
  }

  /** A new object (readers holding the old one keep what they read), marked dirty. */
  protected change(infoHash: string, fields: Partial<TorrentRecord>): void {
    const r = this.records.get(infoHash);
    if (!r) return;
    this.records.set(infoHash, { ...r, ...fields });
    this.wrote(infoHash);
  }
}
