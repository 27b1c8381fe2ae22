// The queue's reads and writes in the node's state, through the Store: only the columns it needs
// (never the .torrent blobs), read as arrays (at 10,000 torrents an object per row costs 1.5-2x the
// read), and every batch of writes in one transaction — one fsync for a thousand torrents.

import type { TorrentStatus } from '../state/state-db.ts';
import type { SqlValue, Store } from '../state/store.ts';

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

const SELECT = `SELECT info_hash, status, queue_position, force_start, ratio_limit, seeding_time_limit, seeding_time,
                        total_downloaded, total_uploaded, length, completed_at FROM torrents`;

export class QueueStore {
  readonly #store: Store;

  constructor(db: { readonly store: Store }) {
    this.#store = db.store;
  }

  /** Every torrent in the library, lean. A row without a position (older data) sorts last. */
  async rows(): Promise<QueueRow[]> {
    return (await this.#store.values(SELECT)).map(toRow);
  }

  /** One torrent's row, or undefined. */
  async row(infoHash: string): Promise<QueueRow | undefined> {
    const [r] = await this.#store.values(`${SELECT} WHERE info_hash = ?`, [infoHash]);
    return r ? toRow(r) : undefined;
  }

  setStatuses(changes: ReadonlyMap<string, TorrentStatus>): Promise<void> {
    return this.#each('UPDATE torrents SET status = ? WHERE info_hash = ?', [...changes].map(([ih, status]) => [status, ih]));
  }

  setPositions(changes: ReadonlyMap<string, number>): Promise<void> {
    return this.#each('UPDATE torrents SET queue_position = ? WHERE info_hash = ?', [...changes].map(([ih, pos]) => [pos, ih]));
  }

  setForceStart(infoHashes: readonly string[], on: boolean): Promise<void> {
    return this.#each('UPDATE torrents SET force_start = ? WHERE info_hash = ?', infoHashes.map((ih) => [on ? 1 : 0, ih]));
  }

  /** One statement per row of parameters, all in one transaction; nothing to do, no transaction. */
  async #each(sql: string, rows: SqlValue[][]): Promise<void> {
    if (rows.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const params of rows) await tx.run(sql, params);
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
