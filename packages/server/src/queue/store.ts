// The queue's reads and writes in the state DB: only the columns it needs (never the .torrent
// blobs), and every batch of writes in one transaction — one fsync for a thousand torrents.

import type { StatementSync } from 'node:sqlite';
import type { StateDB, TorrentStatus } from '../state.ts';

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
    const rows = this.#stmt(
      `SELECT info_hash, status, queue_position, force_start, ratio_limit, seeding_time_limit, seeding_time,
              total_downloaded, total_uploaded, length, completed_at FROM torrents`,
    ).all() as Record<string, unknown>[];
    return rows.map((r) => ({
      infoHash: r.info_hash as string,
      status: r.status as TorrentStatus,
      position: r.queue_position === null ? Number.MAX_SAFE_INTEGER : Number(r.queue_position),
      forceStart: r.force_start === 1,
      ratioLimit: (r.ratio_limit as number | null) ?? null,
      seedingTimeLimit: r.seeding_time_limit === null ? null : Number(r.seeding_time_limit),
      seedingTime: Number(r.seeding_time ?? 0),
      totalDownloaded: Number(r.total_downloaded ?? 0),
      totalUploaded: Number(r.total_uploaded ?? 0),
      length: r.length === null ? null : Number(r.length),
      completedAt: r.completed_at === null ? null : Number(r.completed_at),
    }));
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
