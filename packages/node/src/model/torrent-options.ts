// A torrent's own options (category, tags, limits, seeding goals, force start, queue order) and its
// running totals (bytes over every run, seconds seeded): how a patch is checked, and how they are
// stored in the torrents table (columns of schema 5).

import type { StateDB } from '../state/state-db.ts';
import type { SqlValue, Store } from '../state/store.ts';
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

/**
 * Writes through the Store (async: PostgreSQL may stand behind it). The synchronous reads (tags in
 * use, the queue's order) are StateDB's until the torrent records have their view in memory
 * (packages/node/README.md, "Next: the torrent records").
 */
export class TorrentOptionsStore {
  readonly #db: Pick<StateDB, 'store' | 'tagsInUse' | 'queueOrder'>;
  readonly #store: Store;

  constructor(db: Pick<StateDB, 'store' | 'tagsInUse' | 'queueOrder'>) {
    this.#db = db;
    this.#store = db.store;
  }

  /** Writes the given options of one stored torrent (others untouched). */
  async set(infoHash: string, o: StoredOptions): Promise<void> {
    await this.setEach([[infoHash, o]]);
  }

  /** Writes options of several torrents in one transaction (bulk actions): all or none. */
  async setEach(changes: readonly (readonly [string, StoredOptions])[]): Promise<void> {
    const statements = changes.flatMap(([ih, o]) => {
      const u = optionsUpdate(ih, o);
      return u ? [u] : [];
    });
    if (statements.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const [sql, params] of statements) await tx.run(sql, params);
    });
  }

  async setSavePath(infoHash: string, savePath: string): Promise<void> {
    await this.#store.run('UPDATE torrents SET save_path = ? WHERE info_hash = ?', [savePath, infoHash]);
  }

  /** Tags torrents carry, and those created ahead of any (createTags), sorted. */
  tags(): string[] {
    return this.#db.tagsInUse().sort((a, b) => a.localeCompare(b));
  }

  /** Tags that exist without a torrent until one carries them (or they are deleted). */
  async createTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const t of tags) await tx.run('INSERT INTO created_tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING', [t]);
    });
  }

  async deleteCreatedTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.#store.transaction(async (tx) => {
      for (const t of tags) await tx.run('DELETE FROM created_tags WHERE name = ?', [t]);
    });
  }

  /** Infohashes in stored queue order (lowest position first; ties by when they were added). */
  queueOrder(): string[] {
    return this.#db.queueOrder();
  }

  /** Stores a new queue order: positions 1..n in the order given; torrents not named follow, in
   *  their order. The order is read inside the transaction: what is stored wins. */
  async setQueueOrder(order: readonly string[]): Promise<void> {
    await this.#store.transaction(async (tx) => {
      const stored = (await tx.values(`SELECT info_hash FROM torrents ORDER BY ${QUEUE_ORDER}`)).map((r) => r[0] as string);
      const known = new Set(stored);
      const named = new Set(order.filter((ih) => known.has(ih)));
      const all = [...named, ...stored.filter((ih) => !named.has(ih))];
      for (const [i, ih] of all.entries()) await tx.run('UPDATE torrents SET queue_position = ? WHERE info_hash = ?', [i + 1, ih]);
    });
  }

  /** Adds traffic and seeding time to the stored totals, in one transaction. */
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
  }
}

/** The stored queue order (StateDB.queueOrder reads the same): no position last, then by age. */
export const QUEUE_ORDER = 'queue_position IS NULL, queue_position, added_at, info_hash';

/** The UPDATE for one torrent's given options, or undefined when none is given. */
function optionsUpdate(infoHash: string, o: StoredOptions): [string, SqlValue[]] | undefined {
  const keys = (Object.keys(o) as (keyof StoredOptions)[]).filter((k) => o[k] !== undefined);
  if (keys.length === 0) return undefined;
  const values = keys.map((k): SqlValue => {
    const v = o[k];
    if (k === 'tags') return JSON.stringify(v);
    if (k === 'forceStart') return v ? 1 : 0;
    return v as number | string | null;
  });
  return [`UPDATE torrents SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE info_hash = ?`, [...values, infoHash]];
}
