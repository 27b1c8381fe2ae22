// A torrent's own options (category, tags, limits, seeding goals, force start, queue order) and its
// running totals (bytes over every run, seconds seeded): how a patch is checked, and how they are
// stored in the torrents table (columns of schema 5).

import type { StateDB } from '../state/state-db.ts';
import { bool, fail, objectOf, rate, ratioLimit, secondsLimit, tagList } from './validate.ts';
import { categoryName } from './categories.ts';
import type { TorrentPatch } from '@cascade/shapes';

export type { TorrentPatch };

export const PATCH_KEYS = ['downloadLimit', 'uploadLimit', 'category', 'tags', 'ratioLimit', 'seedingTimeLimit', 'savePath', 'forceStart', 'sequential', 'firstLastPiece'] as const;

/** Checks a patch's shape and values (not yet whether its category exists, nor its path: the model does). */
export function parseTorrentPatch(v: unknown, what = 'the torrent patch'): TorrentPatch {
  const o = objectOf(v, what, PATCH_KEYS);
  const p: TorrentPatch = {};
  if ('downloadLimit' in o) p.downloadLimit = rate('downloadLimit', o.downloadLimit);
  if ('uploadLimit' in o) p.uploadLimit = rate('uploadLimit', o.uploadLimit);
  if ('category' in o) p.category = o.category === null || o.category === '' ? null : categoryName('category', o.category);
  if ('tags' in o) p.tags = tagList('tags', o.tags);
  if ('ratioLimit' in o) p.ratioLimit = ratioLimit('ratioLimit', o.ratioLimit, true);
  if ('seedingTimeLimit' in o) p.seedingTimeLimit = secondsLimit('seedingTimeLimit', o.seedingTimeLimit, true);
  if ('forceStart' in o) p.forceStart = bool('forceStart', o.forceStart);
  if ('sequential' in o) p.sequential = bool('sequential', o.sequential);
  if ('firstLastPiece' in o) p.firstLastPiece = bool('firstLastPiece', o.firstLastPiece);
  // Checked as a path by the model, which knows the download and state dirs.
  if ('savePath' in o) {
    if (typeof o.savePath !== 'string') fail('savePath', 'must be a path');
    p.savePath = o.savePath;
  }
  return p;
}

/** The stored options a patch may change (savePath has its own path: it moves data). */
export type StoredOptions = Omit<TorrentPatch, 'savePath' | 'sequential' | 'firstLastPiece'>;

const COLUMNS: Record<keyof StoredOptions, string> = {
  downloadLimit: 'download_limit',
  uploadLimit: 'upload_limit',
  category: 'category',
  tags: 'tags',
  ratioLimit: 'ratio_limit',
  seedingTimeLimit: 'seeding_time_limit',
  forceStart: 'force_start',
};

/** One torrent's traffic and seeding time since the last flush. */
export interface TotalsDelta {
  infoHash: string;
  downloaded: number;
  uploaded: number;
  seedingSeconds: number;
}

export class TorrentOptionsStore {
  readonly #db: StateDB;

  constructor(db: StateDB) {
    this.#db = db;
  }

  /** Writes the given options of one stored torrent (others untouched). */
  set(infoHash: string, o: StoredOptions): void {
    const keys = (Object.keys(o) as (keyof StoredOptions)[]).filter((k) => o[k] !== undefined);
    if (keys.length === 0) return;
    const values = keys.map((k) => {
      const v = o[k];
      if (k === 'tags') return JSON.stringify(v);
      if (k === 'forceStart') return v ? 1 : 0;
      return v as number | string | null;
    });
    this.#db
      .prepare(`UPDATE torrents SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE info_hash = ?`)
      .run(...values, infoHash);
  }

  setSavePath(infoHash: string, savePath: string): void {
    this.#db.prepare('UPDATE torrents SET save_path = ? WHERE info_hash = ?').run(savePath, infoHash);
  }

  /** Every tag some torrent carries, sorted. */
  /** Tags torrents carry, and those created ahead of any (createTags). */
  tags(): string[] {
    const rows = this.#db
      .prepare('SELECT DISTINCT j.value AS tag FROM torrents, json_each(torrents.tags) AS j UNION SELECT name FROM created_tags')
      .all() as { tag: unknown }[];
    return rows
      .map((r) => r.tag)
      .filter((t): t is string => typeof t === 'string')
      .sort((a, b) => a.localeCompare(b));
  }

  /** Tags that exist without a torrent until one carries them (or they are deleted). */
  createTags(tags: readonly string[]): void {
    const put = this.#db.prepare('INSERT OR IGNORE INTO created_tags (name) VALUES (?)');
    for (const t of tags) put.run(t);
  }

  deleteCreatedTags(tags: readonly string[]): void {
    const del = this.#db.prepare('DELETE FROM created_tags WHERE name = ?');
    for (const t of tags) del.run(t);
  }

  /** Infohashes in stored queue order (lowest position first; ties by when they were added). */
  queueOrder(): string[] {
    const rows = this.#db
      .prepare('SELECT info_hash FROM torrents ORDER BY queue_position IS NULL, queue_position, added_at, info_hash')
      .all() as { info_hash: string }[];
    return rows.map((r) => r.info_hash);
  }

  /** Stores a new queue order: positions 1..n in the order given; torrents not named follow, in their order. */
  setQueueOrder(order: readonly string[]): void {
    this.#db.transaction(() => {
      const named = new Set(order);
      const all = [...order.filter((ih) => this.#exists(ih)), ...this.queueOrder().filter((ih) => !named.has(ih))];
      const put = this.#db.prepare('UPDATE torrents SET queue_position = ? WHERE info_hash = ?');
      all.forEach((ih, i) => put.run(i + 1, ih));
    });
  }

  #exists(infoHash: string): boolean {
    return this.#db.prepare('SELECT 1 FROM torrents WHERE info_hash = ?').get(infoHash) !== undefined;
  }

  /** Adds traffic and seeding time to the stored totals, in one transaction. */
  addTotals(batch: readonly TotalsDelta[]): void {
    if (batch.length === 0) return;
    this.#db.transaction(() => {
      const put = this.#db.prepare(
        `UPDATE torrents SET total_downloaded = total_downloaded + ?, total_uploaded = total_uploaded + ?,
                             seeding_time = seeding_time + ? WHERE info_hash = ?`,
      );
      for (const d of batch) put.run(d.downloaded, d.uploaded, Math.round(d.seedingSeconds), d.infoHash);
    });
  }
}
