// The queue's reads and writes in the state DB: only the columns it needs (never the .torrent
// blobs), and every batch of writes in one transaction — one fsync for a thousand torrents.

import type { StatementSync } from 'node:sqlite';
import type { StateDB, TorrentStatus } from '../state/state-db.ts';

export interface QueueRow {
  infoHash: string;
  status: TorrentStatus;
  position: number;
  forceStart: boolean;
  ratioLimit: number | null;
  seedingTimeLimit: number | null;
  seedingTime: number;
  totalDownloaded: number;
  totalUploaded: number;
  length: number | null;
  /** When it last finished downloading (ms), or null. */
  completedAt: number | null;
}

export class QueueStore {
  readonly #db: StateDB;
  #statements = new Map<string, StatementSync>();

  constructor(db: StateDB) {
    this.#db = db;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, (s = this.#db.prepare(sql)));
    return s;
  }

  /** Every torrent in the library, lean. A row without a position (older data) sorts last. */
  rows(): QueueRow[] {
    return (this.#select('').all() as unknown as unknown[][]).map(toRow);
  }

  /** One torrent's row, or undefined. */
  row(infoHash: string): QueueRow | undefined {
    const r = this.#select(' WHERE info_hash = ?').get(infoHash) as unknown as unknown[] | undefined;
    return r ? toRow(r) : undefined;
  }

  #select(where: string): StatementSync {
    const stmt = this.#stmt(
      `SELECT info_hash, status, queue_position, force_start, ratio_limit, seeding_time_limit, seeding_time,
              total_downloaded, total_uploaded, length, completed_at FROM torrents${where}`,
    );
    // Rows as arrays: at 10,000 torrents this read is 5-10x faster than one object per row.
    stmt.setReturnArrays(true);
    return stmt;
  }

  setStatuses(changes: ReadonlyMap<string, TorrentStatus>): void {
    if (changes.size === 0) return;
    this.#db.transaction(() => {
      const put = this.#stmt('UPDATE torrents SET status = ? WHERE info_hash = ?');
      for (const [ih, status] of changes) put.run(status, ih);
    });
  }

  setPositions(changes: ReadonlyMap<string, number>): void {
    if (changes.size === 0) return;
    this.#db.transaction(() => {
      const put = this.#stmt('UPDATE torrents SET queue_position = ? WHERE info_hash = ?');
      for (const [ih, pos] of changes) put.run(pos, ih);
    });
  }

  setForceStart(infoHashes: readonly string[], on: boolean): void {
    this.#db.transaction(() => {
      const put = this.#stmt('UPDATE torrents SET force_start = ? WHERE info_hash = ?');
      for (const ih of infoHashes) put.run(on ? 1 : 0, ih);
    });
  }
}

const num = (v: unknown) => (v === null ? null : Number(v));

function toRow(r: unknown[]): QueueRow {
  return {
    infoHash: r[0] as string,
    status: r[1] as TorrentStatus,
    position: r[2] === null ? Number.MAX_SAFE_INTEGER : Number(r[2]),
    forceStart: r[3] === 1,
    ratioLimit: num(r[4]),
    seedingTimeLimit: num(r[5]),
    seedingTime: Number(r[6] ?? 0),
    totalDownloaded: Number(r[7] ?? 0),
    totalUploaded: Number(r[8] ?? 0),
    length: num(r[9]),
    completedAt: num(r[10]),
  };
}
